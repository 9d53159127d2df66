"""`serve`: the production model over HTTP, tested with a real server (uvicorn, started by
the command line in a process of its own on a free port of 127.0.0.1, always stopped)
and real requests.

Three projects (binary, three text classes, regression) are trained once each, on a
CSV file with an ID column; the server's answers are compared with batch `predict` on
the same rows (identical); a corpus of bad requests each gets one clear 4xx line, the
server keeps serving, and no secret of the project's config reaches an answer or the log.
Hot swap: clients keep asking while a new model is published; none fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tomlkit
from serving import REQUEST_TIMEOUT_S, START_TIMEOUT_S, Server, serving

from trimode.artifacts.manifest import DIGEST_FIELD
from trimode.cli.main import main
from trimode.core.layout import MANIFEST_FILE, MODEL_FILE, VERSION
from trimode.data.synthetic import TARGETS, make_dataset, with_date_and_text
from trimode.workflows.predict import predict_file
from trimode.workflows.train import train

from .conftest import machine_config

pytestmark = pytest.mark.slow

ROWS = 2_000
ID = "customer_id"
# A password in the project's data source: it must show nowhere.
PASSWORD = "Sup3rSecretServePassw0rd"
SECRET_SOURCE = f"postgresql://reader:{PASSWORD}@127.0.0.1:9/customers"
# The limits the servers of these tests run with (serve.*).
LIMITS = {"max_rows": 1_000, "read_timeout_s": 1.5, "reload_interval_s": 0.2}
# (task, target) of each project: binary (0/1), three text classes, regression.
PROJECTS = {
    "binary": ("classification", TARGETS["classification"]),
    "three-class": ("classification", "plan"),
    "regression": ("regression", TARGETS["regression"]),
}


@pytest.fixture(scope="module")
def environment(starter_package: Path) -> dict[str, str]:
    """The environment of a server process: the starter package importable."""
    return {**os.environ, "PYTHONPATH": str(starter_package.parent)}


@contextmanager
def running(root: Path, environment: dict[str, str], *options: str) -> Iterator[Server]:
    """`trimode serve` for the project at root on a free port, until the block ends."""
    with serving([sys.executable, "-m", "trimode", "serve", *options], root, environment) as server:
        yield server


def rows_of(task: str, rows: int, seed: int) -> pd.DataFrame:
    """Rows of the built-in data set with an ID column in front."""
    frame = make_dataset(task, rows, seed=seed)
    frame.insert(0, ID, np.arange(rows) + 10_000 * seed)
    return frame


def make_project(root: Path, kind: str, **production) -> Path:
    """A project at root trained in production mode on a CSV file with an ID column, its
    model published; the config's serve limits LIMITS. Return root."""
    task, target = PROJECTS[kind]
    frame = rows_of(task, ROWS, seed=1)
    if kind == "three-class":
        frame = frame.drop(columns=TARGETS[task])
    root.mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / "rows.csv", index=False)
    settings = {
        "columns": {"ids": [ID]},
        "evaluation": {"gate": True, "min_lift_over_baseline": 0.01},
        "outputs": {"root": "outputs/production"},
        "serve": LIMITS,
        **production,
    }
    base = {"data": {"source": "rows.csv", "target": target}}
    train(machine_config(root, "production", task=task, base=base, **settings))
    return root


def publish_again(root: Path, **changes) -> dict[str, Any]:
    """Train the project at root in production mode again (its config with changes to its
    production file) and publish; the new manifest."""
    path = root / "configs" / "production.toml"
    document = tomlkit.parse(path.read_text())
    for section, values in changes.items():
        table = document.setdefault(section, tomlkit.table())
        for key, value in values.items():
            table[key] = value
    path.write_text(tomlkit.dumps(document))
    from trimode.workflows.session import load_config

    return train(load_config("production", root / "configs")).manifest


def with_secret_source(root: Path) -> None:
    """Name a data source with a password in the project's production config (the model
    is trained already: serve reads the config, never the source)."""
    path = root / "configs" / "production.toml"
    document = tomlkit.parse(path.read_text())
    document.setdefault("data", tomlkit.table())["source"] = SECRET_SOURCE
    path.write_text(tomlkit.dumps(document))


@pytest.fixture(scope="module", params=list(PROJECTS))
def served(request, tmp_path_factory, environment) -> Iterator[tuple[str, Path, Server]]:
    """Each project trained and served: (kind, root, server)."""
    kind = request.param
    root = make_project(tmp_path_factory.mktemp(f"serve-{kind}"), kind)
    with_secret_source(root)
    with running(root, environment) as server:
        yield kind, root, server


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as JSON records: a missing value as null."""
    return json.loads(frame.to_json(orient="records"))


def batch_predictions(root: Path, frame: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """What batch `predict` writes for the frame's rows (from a Parquet file: the same
    numbers the JSON holds, to the last bit)."""
    from trimode.core.project import project_at

    source, output = folder / "rows.parquet", folder / "predictions.parquet"
    frame.to_parquet(source, index=False)
    predict_file(project_at(root), str(source), output, root / "outputs" / "production")
    return pd.read_parquet(output)


def test_serve_answers_as_batch_predict(served, tmp_path):
    kind, root, server = served
    task, target = PROJECTS[kind]
    frame = rows_of(task, 300, seed=5).drop(columns=[target])
    if kind == "three-class":
        frame = frame.drop(columns=TARGETS[task])
    expected = batch_predictions(root, frame, tmp_path)
    status, answer = server.ask("POST", "/predict", json_rows(frame))
    assert status == 200, answer
    got = pd.DataFrame(answer["rows"])
    assert list(got.columns) == list(expected.columns)
    assert got[ID].tolist() == frame[ID].tolist()
    np.testing.assert_array_equal(got["prediction"].to_numpy(), expected["prediction"].to_numpy())
    probabilities = [name for name in expected.columns if name.startswith("probability_")]
    assert bool(probabilities) == (task == "classification")
    np.testing.assert_array_equal(got[probabilities].to_numpy(), expected[probabilities].to_numpy())
    if kind == "three-class":
        assert probabilities == [
            f"probability_{label}" for label in ("basic", "premium", "standard")
        ]
        assert set(got["prediction"]) <= {"basic", "premium", "standard"}
    # The same rows as columns: the same answer.
    columns = {name: values for name, values in frame.to_dict(orient="list").items()}
    columns = json.loads(pd.DataFrame(columns).to_json(orient="columns"))
    as_columns = {name: list(values.values()) for name, values in columns.items()}
    assert server.ask("POST", "/predict", as_columns) == (200, answer)


def test_model_health_and_openapi_describe_the_served_model(served):
    _, root, server = served
    manifest = json.loads((root / "outputs" / "production" / MANIFEST_FILE).read_text())
    assert server.ask("GET", "/health") == (
        200,
        {"status": "ok", "model": manifest["model"], "version": manifest[DIGEST_FIELD][:12]},
    )
    status, summary = server.ask("GET", "/model")
    assert status == 200
    assert summary["model"] == manifest["model"]
    assert summary["metrics"] == manifest["metrics"]
    assert summary["runtime"] == VERSION
    assert summary["classes"] == manifest["classes"]
    contract = manifest["contract"]["columns"]
    inputs = manifest["features"]["inputs"]
    assert [column["name"] for column in summary["columns"]] == [ID, *inputs]
    assert all(column["kind"] == contract[column["name"]]["kind"] for column in summary["columns"])
    # The request's schema: the real columns, numbers where training had numbers.
    status, document = server.ask("GET", "/openapi.json")
    assert status == 200
    row = document["components"]["schemas"]["Row"]
    assert list(row["properties"]) == [ID, *inputs]
    assert set(row["required"]) == {ID, *inputs}
    kinds = {
        name: {entry["type"] for entry in spec["anyOf"]} for name, spec in row["properties"].items()
    }
    for name in inputs:
        expected = "number" if contract[name]["kind"] == "number" else "string"
        assert kinds[name] == {expected, "null"}, name
    assert "Row" in json.dumps(document["paths"]["/predict"]["post"]["requestBody"])
    status, page = server.ask("GET", "/docs")
    assert status == 200 and "swagger" in page.lower()
    # The page's script and style come from the server itself: /docs works offline.
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
    assert len(assets) == 2 and all(asset.startswith("/") for asset in assets), assets
    for asset in assets:
        status, text = server.ask("GET", asset)
        assert status == 200 and len(text) > 10_000, asset


def slow_client(port: int, timeout_s: float) -> tuple[int, Any]:
    """Send the headers and part of a body, then nothing: the server's answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as client:
        client.sendall(
            b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n[{"age": 1'
        )
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = client.recv(65536)
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def bad_requests(row: dict[str, Any], inputs: list[str]) -> list[tuple[str, dict, int, list[str]]]:
    """(case, request, status, what the message names) of the bad-request corpus; a request
    is {"method", "path", "body", "headers"}."""
    number = "age"
    text = "region"

    def post(body: Any, content_type: str = "application/json") -> dict:
        return {
            "method": "POST",
            "path": "/predict",
            "body": body,
            "headers": {"Content-Type": content_type},
        }

    def changed(**values: Any) -> dict:
        return {**row, **values}

    raw = json.dumps(row)
    missing = {key: value for key, value in row.items() if key != "tenure_months"}
    no_id = {key: value for key, value in row.items() if key != ID}
    return [
        ("not JSON", post(b"rows please"), 400, ["not JSON"]),
        ("truncated JSON", post(raw[:-5].encode()), 400, ["not JSON"]),
        ("invalid UTF-8", post(b'[{"region": "\xff\xfe"}]'), 400, ["not JSON"]),
        ("NaN token", post(f'[{raw[:-1]}, "age": NaN}}]'.encode()), 422, ["row 1", number, "NaN"]),
        (
            "Infinity token",
            post(raw.replace('"age": ', '"age": Infinity, "x": ').join("[]").encode()),
            422,
            ["row 1", number, "Infinity"],
        ),
        (
            "-Infinity token",
            post(f'[{raw}, {raw[:-1]}, "age": -Infinity}}]'.encode()),
            422,
            ["row 2", number, "-Infinity"],
        ),
        (
            "huge float",
            post(f'[{raw[:-1]}, "age": 1e400}}]'.encode()),
            422,
            ["row 1", number, "1e400"],
        ),
        ("int beyond int64", post([changed(age=2**70)]), 422, ["row 1", number, str(2**70)]),
        (
            "int beyond a float's exact range",
            post([changed(age=2**53 + 1)]),
            422,
            [number, "2**53"],
        ),
        (
            "string in a numeric column",
            post([row, changed(age="forty")]),
            422,
            ["row 2", number, "'forty'"],
        ),
        ("bool in a numeric column", post([changed(age=True)]), 422, ["row 1", number, "True"]),
        ("number in a text column", post([changed(region=7)]), 422, ["row 1", text, "7"]),
        (
            "nested object as a value",
            post([changed(region={"a": 1})]),
            422,
            ["row 1", text, "{'a': 1}"],
        ),
        ("nested list as a value", post([changed(age=[1, 2])]), 422, ["row 1", number, "[1, 2]"]),
        (
            "unknown column",
            post([changed(favourite_colour="red")]),
            422,
            ["row 1", "unknown column", "favourite_colour"],
        ),
        (
            "missing required column",
            post([missing]),
            422,
            ["row 1", "missing column", "tenure_months"],
        ),
        ("missing ID column", post([no_id]), 422, ["row 1", "missing column", ID]),
        ("ID beyond int64", post([changed(**{ID: 2**64})]), 422, ["row 1", ID, str(2**64)]),
        ("empty list", post([]), 422, ["no rows"]),
        ("empty object", post({}), 422, ["no rows"]),
        ("a row that is no object", post([row, 5]), 422, ["row 2", "object"]),
        ("a scalar body", post(42), 422, ["list of objects", "42"]),
        (
            "columns of different lengths",
            post({ID: [1, 2], "age": [1]}),
            422,
            [ID, "age", "different lengths"],
        ),
        ("a column that is no list", post({ID: 1}), 422, [ID, "list"]),
        ("deeply nested JSON", post(b"[" * 100_000 + b"]" * 100_000), 400, ["nest"]),
        (
            "too many rows",
            post([row] * (LIMITS["max_rows"] + 1)),
            413,
            ["1,001 rows", "serve.max_rows"],
        ),
        ("a 10 MB body", post(b"[" + b" " * 10_000_000 + b"]"), 413, ["serve.max_body_bytes"]),
        (
            "wrong content type",
            post(raw.encode(), "text/plain"),
            415,
            ["application/json", "text/plain"],
        ),
        (
            "GET on /predict",
            {"method": "GET", "path": "/predict", "body": None, "headers": {}},
            405,
            ["GET /predict", "POST"],
        ),
        (
            "unknown path",
            {"method": "GET", "path": "/nothing", "body": None, "headers": {}},
            404,
            ["/nothing", "not found"],
        ),
    ]


# The corpus and the refusals: against the binary project (its server, shared).
@pytest.mark.parametrize("served", ["binary"], indirect=True)
def test_bad_requests_get_one_clear_line_and_the_server_keeps_serving(served):
    _, root, server = served
    frame = rows_of("classification", 3, seed=7).drop(columns=[TARGETS["classification"]])
    rows = json_rows(frame)
    row = next(row for row in rows if all(value is not None for value in row.values()))
    manifest = json.loads((root / "outputs" / "production" / MANIFEST_FILE).read_text())
    answers = []
    for case, request, status, named in bad_requests(row, manifest["features"]["inputs"]):
        got, answer = server.ask(
            request["method"], request["path"], request["body"], **request["headers"]
        )
        answers.append(json.dumps(answer))
        assert got == status, (case, got, answer)
        assert isinstance(answer, dict) and list(answer) == ["error"], (case, answer)
        message = answer["error"]
        assert "\n" not in message and "Traceback" not in message, (case, message)
        for word in named:
            assert word in message, (case, word, message)
    got, answer = slow_client(server.port, timeout_s=REQUEST_TIMEOUT_S)
    answers.append(json.dumps(answer))
    assert got == 408 and "serve.read_timeout_s" in answer["error"], answer
    # Still serving, and as before.
    status, answer = server.ask("POST", "/predict", rows)
    assert status == 200 and len(answer["rows"]) == len(rows)
    # An unseen category is scored, and said (as batch predict says it).
    status, answer = server.ask("POST", "/predict", [{**row, "region": "atlantis"}])
    assert status == 200 and "region" in " ".join(answer["warnings"]), answer
    # No secret anywhere: not in an answer, not in the server's log.
    assert PASSWORD not in "".join(answers) + json.dumps(answer)
    summary = json.dumps(server.ask("GET", "/model")[1])
    assert PASSWORD not in summary
    assert PASSWORD not in server.log_text()
    assert "Traceback" not in server.log_text()


def run_serve(*arguments: str) -> int:
    """The command line's serve, in this process (for refusals: it never starts then)."""
    return main(["serve", *arguments])


@pytest.mark.parametrize("served", ["binary"], indirect=True)
def test_serve_refuses_to_start_in_one_line(served, tmp_path, capsys, machine_run):
    _, root, _ = served
    published = root / "outputs" / "production"
    configs = ["--config-dir", str(root / "configs")]
    # No model.
    assert run_serve(*configs, "--model", str(tmp_path / "nothing")) == 2
    assert_one_line(capsys, "no trained model")
    # A model file changed after training.
    tampered = tmp_path / "tampered"
    shutil.copytree(published, tampered)
    content = bytearray((tampered / MODEL_FILE).read_bytes())
    content[-100] ^= 0xFF
    (tampered / MODEL_FILE).write_bytes(bytes(content))
    assert run_serve(*configs, "--model", str(tampered)) == 2
    assert_one_line(capsys, "sha256")
    # A test-mode model.
    assert run_serve(*configs, "--model", str(machine_run.output_dir)) == 2
    assert_one_line(capsys, "not production")
    # A port out of range.
    assert run_serve(*configs, "--port", "70000") == 2
    assert_one_line(capsys, "--port")


@pytest.mark.parametrize("served", ["binary"], indirect=True)
def test_serve_on_a_port_in_use_ends_in_one_line(served, environment):
    _, root, server = served
    command = [sys.executable, "-m", "trimode", "serve", "--port", str(server.port)]
    result = subprocess.run(
        command, cwd=root, env=environment, capture_output=True, text=True, timeout=START_TIMEOUT_S
    )
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "could not listen" in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_model_that_did_not_pass_the_gate(tmp_path, capsys):
    root = make_project(
        tmp_path / "project",
        "regression",
        evaluation={"gate": False, "thresholds": {"primary": 0.9999}},
    )
    manifest = json.loads((root / "outputs" / "production" / MANIFEST_FILE).read_text())
    assert manifest["gate"]["passed"] is False
    assert run_serve("--config-dir", str(root / "configs")) == 2
    assert_one_line(capsys, "quality gate")


def test_serve_without_its_extra_says_which_to_install(monkeypatch):
    from trimode.core.errors import ProjectError
    from trimode.workflows.serve import require_extra

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(ProjectError, match=r"trimode\[serve\]"):
        require_extra()


def assert_one_line(capsys, words: str) -> None:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], captured.err
    assert PASSWORD not in captured.err + captured.out


# Hot swap: clients, each at most this many requests, until the new model answers.
CLIENTS = 4
MOST_REQUESTS = 2_000


def test_a_newly_published_model_is_swapped_in_without_a_failed_request(tmp_path, environment):
    root = make_project(tmp_path / "project", "binary")
    frame = rows_of("classification", 5, seed=9).drop(columns=[TARGETS["classification"]])
    rows = json_rows(frame)
    with running(root, environment) as server:
        old = server.ask("GET", "/model")[1]
        failures: list[str] = []
        versions: list[set[str]] = [set() for _ in range(CLIENTS)]
        stop = threading.Event()

        def client(seen: set[str]) -> None:
            for _ in range(MOST_REQUESTS):
                if stop.is_set():
                    return
                try:
                    status, answer = server.ask("POST", "/predict", rows)
                except OSError as error:
                    failures.append(repr(error))
                    continue
                if status != 200 or len(answer["rows"]) != len(rows):
                    failures.append(f"{status}: {answer}")
                else:
                    seen.add(answer["version"])

        threads = [threading.Thread(target=client, args=(seen,)) for seen in versions]
        for thread in threads:
            thread.start()
        try:
            manifest = publish_again(root, train={"models": ["logistic_regression"]})
            new_version = manifest[DIGEST_FIELD][:12]
            deadline = time.monotonic() + START_TIMEOUT_S
            while server.ask("GET", "/model")[1]["version"] != new_version:
                assert time.monotonic() < deadline, server.log_text()
                time.sleep(0.1)
            # Requests keep coming a little while after the swap.
            time.sleep(1)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=REQUEST_TIMEOUT_S)
        assert not failures, failures[:5]
        assert set().union(*versions) == {old["version"], new_version}
        summary = server.ask("GET", "/model")[1]
        assert summary["model"] == "logistic_regression"

        # A published model that fails the checks (not through the gate) is not swapped in.
        refused = publish_again(root, evaluation={"gate": False, "thresholds": {"primary": 0.9999}})
        assert refused["gate"]["passed"] is False
        deadline = time.monotonic() + START_TIMEOUT_S
        while "published one is refused" not in server.log_text():
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.1)
        assert server.ask("GET", "/model")[1]["version"] == new_version
        assert server.ask("POST", "/predict", rows)[0] == 200


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="the platform has no SIGHUP")
def test_sighup_swaps_in_a_new_model_when_polling_is_off(tmp_path, environment):
    root = make_project(
        tmp_path / "project", "regression", serve={**LIMITS, "reload_interval_s": 0}
    )
    with running(root, environment) as server:
        old = server.ask("GET", "/model")[1]["version"]
        new = publish_again(root, train={"models": ["ridge"]})[DIGEST_FIELD][:12]
        # Nothing looks for it without the signal.
        assert server.ask("GET", "/model")[1]["version"] == old
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + START_TIMEOUT_S
        while server.ask("GET", "/model")[1]["version"] != new:
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.1)
        assert server.ask("GET", "/model")[1]["model"] == "ridge"


def test_dates_and_text_are_served_as_batch_predict_reads_them(tmp_path, environment):
    """A date column and a text column, sent as JSON strings: the answers of batch
    `predict`; a value that is no date is read as missing and said, by both alike."""
    frame = with_date_and_text(make_dataset("classification", ROWS, seed=1), seed=1)
    frame.insert(0, ID, np.arange(len(frame)))
    root = tmp_path / "project"
    root.mkdir()
    frame.to_csv(root / "rows.csv", index=False)
    train(
        machine_config(
            root,
            "production",
            data={"source": "rows.csv", "max_rows": 0},
            columns={"ids": [ID], "text": ["feedback"], "dates": ["signup_date"]},
            evaluation={"gate": True, "min_lift_over_baseline": 0.01},
        )
    )
    rows = with_date_and_text(make_dataset("classification", 50, seed=9), seed=9)
    rows = rows.drop(columns=TARGETS["classification"])
    rows.insert(0, ID, np.arange(50) + 10_000)
    rows["signup_date"] = rows["signup_date"].dt.strftime("%Y-%m-%d").astype(object)
    rows.loc[3, "signup_date"] = None
    rows.loc[4, "feedback"] = None
    rows.loc[5, "signup_date"] = "yesterday"
    batch = tmp_path / "batch"
    batch.mkdir()
    expected = batch_predictions(root, rows, batch)
    with running(root, environment) as server:
        status, answer = server.ask("POST", "/predict", json_rows(rows))
    assert status == 200, answer
    got = pd.DataFrame(answer["rows"])
    np.testing.assert_array_equal(got["prediction"].to_numpy(), expected["prediction"].to_numpy())
    probabilities = ["probability_0", "probability_1"]
    np.testing.assert_array_equal(got[probabilities].to_numpy(), expected[probabilities].to_numpy())
    said = "column 'signup_date' holds values that are no date, read as missing: 1 of 50 rows"
    assert [warning for warning in answer["warnings"] if said in warning] == [
        f"request: {said}, e.g. 'yesterday'"
    ]
