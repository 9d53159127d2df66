"""Secrets: the Secret type of the config model, the one redaction, and a property test
that plants a random secret in every string key and every kind of source and finds it in
no output stream and no file a run wrote."""

from __future__ import annotations

import json
import logging
import os
import pickle
import sqlite3
import string
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from trimode.cli.main import main
from trimode.config.model import SECTIONS, Secret
from trimode.core.io import json_safe
from trimode.core.secrets import MASK, MIN_LITERAL, guard_outputs, redact, redacted_traceback
from trimode.data.synthetic import TARGETS, make_dataset
from trimode.workflows.session import load_config

from .conftest import TASK, make_configs

PW = "Pl4nted~Secret9"

# Each shape a credential takes in text, the planted secret in it, and what must remain.
FORMS = [
    (f"http://bob:{PW}@tracking.example:5000", "http://bob:***@tracking.example:5000"),
    (f"https://files.example/data.csv?key={PW}&x=1", "https://files.example/data.csv?key=***&x=1"),
    (f"https://h/x.parquet?sv=1&sig={PW}", "https://h/x.parquet?sv=1&sig=***"),
    (f"s3://b/k?X-Amz-Signature={PW}", "s3://b/k?X-Amz-Signature=***"),
    (f"https://h/?access_token={PW}", "https://h/?access_token=***"),
    (
        f"mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BUID%3Du%3BPWD%3D{PW}%3B",
        "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BUID%3Du%3BPWD%3D***%3B",
    ),
    (f"DRIVER={{ODBC}};SERVER=h;UID=u;PWD={PW};", "DRIVER={ODBC};SERVER=h;UID=u;PWD=***;"),
    (f"Server=h;Password={{{PW};x}};", "Server=h;Password=***;"),
    (f"connect(password='{PW}', host='h')", "connect(password='***', host='h')"),
    (f'connect(passwd="{PW}")', 'connect(passwd="***")'),
    (f'{{"password": "{PW}", "user": "u"}}', '{"password": "***", "user": "u"}'),
    (f"{{'api_key': '{PW}'}}", "{'api_key': '***'}"),
    (f"Authorization: Bearer {PW}", "Authorization: Bearer ***"),
    (f"headers={{'Authorization': 'Basic {PW}'}}", "headers={'Authorization': '***'}"),
    (f"x?auth={PW}&credential={PW}", "x?auth=***&credential=***"),
    (f"oauth?code={PW}&client_secret={PW}", "oauth?code=***&client_secret=***"),
    (f"AccountName=a;AccountKey={PW};", "AccountName=a;AccountKey=***;"),
    (f"token={PW}", "token=***"),
]


@pytest.mark.parametrize(("text", "expected"), FORMS)
def test_each_shape_of_a_credential_is_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "error: --set 'x': expected KEY=VALUE e.g. data.max_rows=1000",
        "usage: trimode train [--set KEY=VALUE]",
        "postgresql://analyst@db.example/shop",
        "design=3, encode=utf-8, sort_keys=True is fine",
        "outputs/test/manifest.json",
        '{"a":"http://x:1","b":"u@h"}',  # JSON text: no URL's password across two strings
    ],
)
def test_text_without_a_credential_is_left_as_it_is(text):
    assert redact(text) == text


def test_a_secret_reveals_its_value_and_shows_it_redacted():
    url = f"postgresql://analyst:{PW}@db.example/shop"
    secret = Secret(url)
    assert secret.reveal() == url
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r:>10}", "%s" % secret):  # noqa: UP031
        assert PW not in shown and "analyst:***@db.example" in shown
    assert pickle.loads(pickle.dumps(secret)) == secret
    assert json.dumps(json_safe({"source": secret, "nested": [url]})).count(PW) == 0


def test_a_known_secret_is_masked_in_any_shape_a_driver_echoes():
    Secret(f"mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BX%7D%3BPWD%3D{quote('Echo~d/Pw!7')}%3B")
    message = "login failed with Echo~d/Pw!7 (or Echo~d%2FPw%217 once encoded)"
    assert redact(message) == f"login failed with {MASK} (or {MASK} once encoded)"


def test_a_short_secret_is_masked_in_its_shape_but_not_everywhere():
    """A 4-character password masked wherever it appears would mask "test" mode itself."""
    short = "test"
    assert len(short) < MIN_LITERAL
    secret = Secret(f"http://bob:{short}@host")
    assert str(secret) == "http://bob:***@host"
    assert redact("outputs/test/manifest.json") == "outputs/test/manifest.json"


def test_config_keys_that_hold_credentials_are_secrets_and_raw_is_redacted(tmp_path):
    uri = f"http://bob:{PW}@tracking.example"
    base = {"tracking": {"uri": uri}, "dask": {"scheduler_address": f"tls://u:{PW}@h:8786"}}
    config = load_config("test", make_configs(tmp_path, base=base))
    assert config.tracking.uri.reveal() == uri
    assert isinstance(config.data.source, Secret) and isinstance(config.data.query, Secret)
    assert PW not in json.dumps(config.raw) and PW not in repr(config)
    assert config.raw["tracking"]["uri"] == "http://bob:***@tracking.example"


def test_logs_warnings_and_tracebacks_are_redacted(caplog):
    guard_outputs()
    secret = f"https://h/data.csv?token={PW}"
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.library").info("opening %s", secret)
        try:
            raise RuntimeError(f"cannot open {secret}")
        except RuntimeError:
            logging.getLogger("other").exception("failed")
    assert caplog.records and PW not in caplog.text
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        guard_outputs()  # wraps whatever shows warnings: here, the recorder
        warnings.warn(f"slow source {secret}", UserWarning, stacklevel=1)
    assert [str(warning.message) for warning in shown] == ["slow source " + redact(secret)]
    error = RuntimeError(f"cannot open {secret}")
    assert PW not in redacted_traceback(error) and "RuntimeError" in redacted_traceback(error)


# -- the property: a planted secret reaches no output -------------------------------------

# Random secrets, marked by "~" (no hash, base64 image or number holds one by chance).
SECRETS = st.builds(
    lambda head, tail: f"{head}~{tail}",
    st.text(string.ascii_letters + string.digits + "-._!", min_size=4, max_size=12),
    st.text(string.ascii_letters + string.digits, min_size=3, max_size=8),
)


def _string_keys() -> list[str]:
    """Every key of the config model that holds text (a Secret or a string)."""
    return [
        f"{section}.{name}"
        for section, model in SECTIONS.items()
        if issubclass(model, BaseModel)
        for name, field in model.model_fields.items()
        if field.annotation in (str, Secret)
    ]


def _served(folder: Path) -> Path:
    """The customers data set as a CSV file and a SQLite database in folder."""
    frame = make_dataset(TASK, 400)
    frame.to_csv(folder / "rows.csv", index=False)
    with sqlite3.connect(folder / "shop.db") as connection:
        frame.to_sql("customers", connection, index=False)
    return folder


# The variable a plant's ${env:NAME} takes the secret from (set for every run).
PLANTED_VARIABLE = "TRIMODE_PLANTED_PASSWORD"


def _plants(secret: str, server: str, data: Path) -> dict[str, dict]:
    """Each kind of source, and each other place a credential goes, holding the secret:
    the settings (as --set takes them) of a run."""
    encoded = quote(secret, safe="")
    sqlite = f"sqlite:///{data / 'shop.db'}"
    return {
        "url user-info": {"data.source": f"{server.replace('//', f'//u:{encoded}@')}/rows.csv"},
        "url query key": {"data.source": f"{server}/rows.csv?key={encoded}&v=1"},
        "odbc": {
            "data.source": "mssql+pyodbc:///?odbc_connect="
            + quote(f"DRIVER={{ODBC Driver 18}};SERVER=h;UID=u;PWD={secret};", safe=""),
            "data.table": "customers",
        },
        "python-style in a query": {
            "data.source": sqlite,
            "data.query": f"SELECT * FROM customers /* password='{secret}' */",
        },
        "json-style in a query": {
            "data.source": sqlite,
            "data.query": f'SELECT * FROM customers /* {{"password": "{secret}"}} */',
        },
        "tracking uri": {
            "tracking.enabled": True,
            "tracking.uri": f"http://bob:{encoded}@127.0.0.1:9/",
        },
        "tracked run of a keyed source": {
            "data.source": f"{server}/rows.csv?sig={encoded}",
            "tracking.enabled": True,
            "tracking.uri": f"sqlite:///{data.parent / 'runs.db'}",
        },
        "tracked run of a source whose password is in the environment": {
            "data.source": f"{server.replace('//', f'//u:${{env:{PLANTED_VARIABLE}}}@')}/rows.csv",
            "tracking.enabled": True,
            "tracking.uri": f"sqlite:///{data.parent / 'runs.db'}",
        },
        "dask scheduler": {"dask.scheduler_address": f"tcp://u:{encoded}@127.0.0.1:9"},
        **{
            f"{key} = auth=...": {key: f"x auth={encoded}&credential={encoded}"}
            for key in _string_keys()
        },
    }


PLANT_NAMES = list(_plants("s", "http://h", Path("/d")))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A local HTTP server of the data (it serves any request: the user-info plant tests
    where the URL goes, not the server's checks)."""
    from http_files import http_server  # tests/ is on the path: tests/runtime is a package

    with http_server(_served(tmp_path_factory.mktemp("served"))) as url:
        yield url


@pytest.mark.parametrize("plant", PLANT_NAMES)
@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.generate],  # a run takes seconds: no shrinking, the failure says enough
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(secret=SECRETS)
def test_a_planted_secret_reaches_no_output(plant, secret, server, tmp_path_factory, capsys):
    project = tmp_path_factory.mktemp("planted")
    (project / "served").mkdir()
    data = _served(project / "served")  # the user's database: not written by the run
    base = {
        "data": {"target": TARGETS[TASK], "synthetic_rows": 400, "max_rows": 300},
        "train": {"params": {"hist_gradient_boosting": {"max_iter": 5}}},
    }
    configs = make_configs(project, base=base)
    settings_ = _plants(secret, server, data)[plant]
    overrides = [f"--set={key}={json.dumps(value)}" for key, value in settings_.items()]
    argv = ["--config-dir", str(configs), *overrides]
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    os.environ[PLANTED_VARIABLE] = secret
    try:
        statuses = [main(["train", "--mode", "test", *argv])]
        if statuses[0] == 0:
            statuses.append(main(["report", "--mode", "test", *argv]))
        statuses.append(main(["-v", "fetch-sample", "--mode", "test", *argv]))
    finally:
        logging.getLogger().removeHandler(handler)
        del os.environ[PLANTED_VARIABLE]
    streams = capsys.readouterr()
    assert set(statuses) <= {0, 1, 2}, (plant, statuses, streams.err)
    for variant in {secret, quote(secret, safe=""), quote(secret)}:
        assert variant not in streams.out + streams.err, (plant, streams.err)
        assert not [record for record in records if variant in record.getMessage()], plant
        leaked = [
            path
            for path in project.rglob("*")
            if path.is_file() and path.parent != data and variant.encode() in path.read_bytes()
        ]
        assert not leaked, (plant, leaked)
    working = ("url query key", "url user-info", "python-style in a query")
    if plant in (*working, "tracked run of a source whose password is in the environment"):
        assert statuses[:2] == [0, 0], (plant, streams.err)  # these sources work


def test_a_failing_project_test_shows_no_credential(tmp_path, starter_package):
    # What pytest prints of a project's failing test (its traceback, with the source line
    # and the message, and what it printed) goes through the same redaction.
    make_configs(tmp_path)
    secret = "s3cret-planted-in-a-test"
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_source.py").write_text(
        "def test_reaching_the_database():\n"
        f"    url = 'postgresql://bob:{secret}@db.example/shop'\n"
        "    print('connecting to', url)\n"
        "    raise ConnectionError(f'could not reach {url}')\n"
        "\n\n"
        "def test_skipped_for_want_of_the_database():\n"
        "    import pytest\n"
        f"    pytest.skip('no postgresql://bob:{secret}@db.example/shop here')\n"
    )
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(starter_package.parent)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "could not reach postgresql://bob:" in ran.stdout  # the failure is shown...
    assert "connecting to" in ran.stdout
    assert "1 failed, 1 skipped" in ran.stdout  # the skip's summary line works as ever
    assert "SKIPPED [1] tests/test_source.py" in ran.stdout
    assert secret not in ran.stdout + ran.stderr  # ...without the password
