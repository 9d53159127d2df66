"""Config values from the environment: ${env:NAME} takes the process's variable, else the
project's .env; a variable set nowhere is one line; the record keeps the reference."""

from __future__ import annotations

import pytest

from trimode.cli.main import main
from trimode.config.passwords import written_passwords
from trimode.core.errors import ConfigError
from trimode.core.secrets import redact
from trimode.workflows.train import train

from .conftest import machine_config, make_configs

URL = "postgresql://reader:${env:TRIMODE_TEST_DB_PASSWORD}@db.example:5432/shop"
PASSWORD = "s3cret-Pl4nted-9921"


def test_a_variable_of_the_environment_fills_the_value_and_the_record_keeps_the_reference(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("TRIMODE_TEST_DB_PASSWORD", PASSWORD)
    config = machine_config(tmp_path, data={"source": URL, "target": "churned"})
    assert config.data.source.reveal() == URL.replace("${env:TRIMODE_TEST_DB_PASSWORD}", PASSWORD)
    assert config.raw["data"]["source"] == URL  # the manifest's copy: no value
    assert PASSWORD not in redact(config.data.source.reveal())


def test_the_projects_env_file_fills_what_the_environment_lacks_and_loses_to_it(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("TRIMODE_TEST_DB_PASSWORD", raising=False)
    (tmp_path / ".env").write_text(
        f'# local only\nexport TRIMODE_TEST_DB_PASSWORD="{PASSWORD}"\n', encoding="utf-8"
    )
    config = machine_config(tmp_path, data={"source": URL, "target": "churned"})
    assert PASSWORD in config.data.source.reveal()
    monkeypatch.setenv("TRIMODE_TEST_DB_PASSWORD", "from-the-environment")
    config = machine_config(tmp_path, data={"source": URL, "target": "churned"})
    assert "from-the-environment" in config.data.source.reveal()


def test_a_variable_set_nowhere_is_one_line_naming_the_file_the_key_and_the_variable(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("TRIMODE_TEST_DB_PASSWORD", raising=False)
    with pytest.raises(ConfigError) as error:
        machine_config(tmp_path, data={"source": URL, "target": "churned"})
    message = str(error.value)
    assert "\n" not in message
    assert "test.toml" in message and "data.source" in message
    assert "TRIMODE_TEST_DB_PASSWORD" in message and ".env" in message


WRITTEN = "postgresql://reader:" + PASSWORD + "@db.example:5432/shop"


def test_the_commit_check_refuses_a_password_written_out_and_says_what_to_write_instead(
    tmp_path, capsys
):
    configs = make_configs(tmp_path, base={"data": {"source": WRITTEN}})
    (configs / "human.toml").write_text("[data]\nmax_rows = 10\n", encoding="utf-8")
    assert main(["check-secrets", "--config-dir", str(configs)]) == 2
    printed = capsys.readouterr()
    (line,) = printed.err.splitlines()  # one line per password, human.toml has none
    number = next(
        number
        for number, text in enumerate((configs / "base.toml").read_text().splitlines(), start=1)
        if "postgresql://" in text
    )
    assert f"base.toml:{number}: data.source holds a password written out" in line
    assert 'source = "postgresql://reader:${env:DB_PASSWORD}@db.example:5432/shop"' in line
    assert "DB_PASSWORD=... in .env" in line
    assert PASSWORD not in printed.out + printed.err
    # The file given alone (as the commit hook passes it) is refused the same way.
    assert main(["check-secrets", str(configs / "base.toml")]) == 2
    assert "data.source" in capsys.readouterr().err


def test_the_commit_check_passes_a_reference_to_the_environment(tmp_path, capsys):
    configs = make_configs(tmp_path, base={"data": {"source": URL}})
    assert main(["check-secrets", str(configs / "base.toml"), str(configs / "test.toml")]) == 0
    assert capsys.readouterr().out == "no password written out in 2 config file(s)\n"


def test_every_password_written_out_is_found_with_its_key_and_line(tmp_path):
    path = tmp_path / "base.toml"
    path.write_text(
        "[data]\n"
        'source = "synthetic"\n'
        "[tracking]\n"
        "enabled = false\n"
        f'uri = "https://bob:{PASSWORD}@mlflow.example/"\n'
        "[compute]\n"
        'scheduler_address = "tcp://127.0.0.1:8786"\n',
        encoding="utf-8",
    )
    (found,) = written_passwords(path)
    assert (found.line, found.key, found.variable) == (5, "tracking.uri", "TRACKING_URI_PASSWORD")
    assert found.instead == 'uri = "https://bob:${env:TRACKING_URI_PASSWORD}@mlflow.example/"'
    assert PASSWORD not in found.advice()


def test_train_warns_of_a_password_written_out_by_key_and_file_without_showing_it(tmp_path, capsys):
    # A tracking server's URI with a password (tracking off: the run needs no server).
    uri = f"https://bob:{PASSWORD}@mlflow.example/"
    config = machine_config(tmp_path, base={"tracking": {"enabled": False, "uri": uri}})
    train(config)
    printed = capsys.readouterr()
    (warning,) = [line for line in printed.err.splitlines() if "password written out" in line]
    assert warning.startswith(f"warning: {config.config_dir / 'base.toml'}:")
    assert "tracking.uri" in warning and "${env:TRACKING_URI_PASSWORD}" in warning
    assert PASSWORD not in printed.out + printed.err
    # A reference to the environment is no warning.
    config = machine_config(tmp_path, base={"data": {"source": "synthetic"}})
    train(config)
    assert "password written out" not in capsys.readouterr().err
