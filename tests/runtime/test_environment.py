"""Config values from the environment: ${env:NAME} takes the process's variable, else the
project's .env; a variable set nowhere is one line; the record keeps the reference."""

from __future__ import annotations

import pytest

from trimode.core.errors import ConfigError
from trimode.core.secrets import redact

from .conftest import machine_config

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
