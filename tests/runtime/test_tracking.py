"""Tracked experiments in real MLflow: a SQLite store in a temporary folder, and one
`mlflow server` on 127.0.0.1, read back with MlflowClient."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from trimode.artifacts import tracking
from trimode.cli.main import main
from trimode.core.errors import ConfigError, QualityGateFailed
from trimode.core.layout import MARKER_FILE, MODES
from trimode.core.writes import WriteRefused
from trimode.data.synthetic import TARGETS, make_dataset
from trimode.modelling.compare import BASELINE
from trimode.workflows.compare import compare
from trimode.workflows.report import build_report
from trimode.workflows.session import load_config
from trimode.workflows.train import train

from .conftest import ROOT, TASK, machine_config, make_configs, merged, write_pyproject

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

EXPERIMENT = "tracked"
# Few, quick models: what is tested is what MLflow holds, not how good they are.
QUICK = {
    "compare": {"models": ["hist_gradient_boosting", "random_forest"]},
    "train": {
        "params": {
            "hist_gradient_boosting": {"max_iter": 20},
            "random_forest": {"n_estimators": 10},
        }
    },
}


def store(folder: Path) -> str:
    """A SQLite store of tracked runs in the folder."""
    return f"sqlite:///{folder / 'runs.db'}"


def tracked(uri: str) -> dict:
    """The base settings of a project whose runs go to the store at uri."""
    return {**QUICK, "tracking": {"enabled": True, "uri": uri, "experiment": EXPERIMENT}}


def grouped(folder: Path) -> dict:
    """Settings of a project whose rows come three per customer (built-in rows in
    customers.csv with a customer key), split by customer."""
    frame = make_dataset(TASK, 1_500)
    frame.insert(0, "customer", np.random.default_rng(0).permutation(len(frame)) // 3)
    frame.to_csv(folder / "customers.csv", index=False)
    source = {"source": str(folder / "customers.csv"), "target": TARGETS[TASK]}
    return {"data": source, "columns": {"group": "customer"}}


def client_of(uri: str) -> MlflowClient:
    """A client of the store (MLflow imported only by the tests that read one)."""
    from mlflow.tracking import MlflowClient

    return MlflowClient(uri)


def runs_of(client: MlflowClient, command: str) -> list:
    """The experiment's runs a command made, oldest first."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None, "no experiment was made"
    found = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.command = '{command}'",
        order_by=["attributes.start_time ASC"],
    )
    return list(found)


def artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    return {item.path for item in client.list_artifacts(run_id, path)}


def free_port() -> int:
    """A port nothing listens on (just closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def template_configs(root: Path, mlflow: bool) -> Path:
    """A project at root whose configs are the template's, rendered as for a project
    answering `mlflow` so (the rest: the defaults of a classification project)."""
    import jinja2

    write_pyproject(root)
    answers = {"mlflow": mlflow, "task": "classification", "project_slug": root.name}
    answers["package_name"] = "starter"
    templates = ROOT / "{{cookiecutter.project_slug}}" / "configs"
    environment = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    (root / "configs").mkdir()
    for path in sorted(templates.glob("*.toml")):
        page = environment.from_string(path.read_text(encoding="utf-8"))
        (root / "configs" / path.name).write_text(page.render(cookiecutter=answers), "utf-8")
    return root / "configs"


def test_the_projects_configs_track_human_and_production_runs_but_not_test_mode(tmp_path):
    configs = template_configs(tmp_path / "with-mlflow", mlflow=True)
    for mode, enabled in (("test", False), ("human", True), ("production", True)):
        config = load_config(mode, configs, registry=False)
        assert config.tracking.enabled is enabled, mode
    assert config.tracking.uri.reveal() == "sqlite:///mlruns.db"
    # Without MLflow the configs have no [tracking] table: the model's default, off.
    configs = template_configs(tmp_path / "without-mlflow", mlflow=False)
    for mode in MODES:
        assert load_config(mode, configs, registry=False).tracking.enabled is False, mode


def test_a_bad_tracking_key_is_one_line_naming_the_file(tmp_path):
    configs = make_configs(tmp_path, base={"tracking": {"enabled": "yes", "urls": "x"}})
    with pytest.raises(
        ConfigError, match=r"base\.toml: key 'tracking\.enabled' must be true or false"
    ):
        load_config("human", configs)
    with pytest.raises(ConfigError, match=r"unknown key 'tracking\.urls' \(expected one of: "):
        load_config("human", configs)


@pytest.mark.slow
def test_compare_logs_a_parent_run_with_a_child_run_per_model(tmp_path):
    uri = store(tmp_path)
    base = merged(tracked(uri), grouped(tmp_path))
    config = machine_config(tmp_path, "human", base=base, compare={"random_split_beside": True})
    leaderboard, _ = compare(config)
    client = client_of(uri)
    runs = runs_of(client, "compare")
    parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.data.params["cv_folds"] == str(leaderboard.cv_folds)
    assert parent.data.params["best"] == leaderboard.best
    assert parent.data.params["split"] == "group"
    assert parent.data.params["split_column"] == "customer"
    assert {"leaderboard.csv", "leaderboard.json"} <= artifacts(client, parent.info.run_id)
    children = {run.data.tags["model"]: run for run in runs if run is not parent}
    assert set(children) == {"hist_gradient_boosting", "random_forest", BASELINE}
    primary = leaderboard.primary_metric
    for row in leaderboard.rows.to_dict(orient="records"):
        child = children[row["model"]]
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.status == "FINISHED"
        for statistic in ("mean", "std"):
            key = f"{primary}_{statistic}"
            assert child.data.metrics[key] == pytest.approx(row[key])
            # The primary metric on random folds too, as the leaderboard shows it beside.
            key = f"{primary}_random_split_{statistic}"
            assert child.data.metrics[key] == pytest.approx(row[key])
        assert "fit_time_mean" in child.data.metrics
    assert children["random_forest"].data.params["model.n_estimators"] == "10"
    assert children["hist_gradient_boosting"].data.params["model.max_iter"] == "20"
    # The runs' files went into a folder the project now marks as its own.
    assert parent.info.artifact_uri.startswith((tmp_path / "mlruns").as_uri())
    assert (tmp_path / "mlruns" / MARKER_FILE).is_file()


def test_a_folder_of_the_users_where_runs_files_would_go_is_refused(tmp_path):
    notes = tmp_path / "mlruns" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("mine")
    config = machine_config(tmp_path, "human", base=tracked(store(tmp_path)))
    with pytest.raises(WriteRefused, match=r"tracking.uri.*mlruns.*notes.txt"):
        tracking.check_store(config)
    assert sorted(path.name for path in tmp_path.joinpath("mlruns").iterdir()) == ["notes.txt"]
    # A folder an earlier version filled with runs' folders, unmarked, is the project's.
    notes.unlink()
    (notes.parent / "0123456789abcdef0123456789abcdef" / "artifacts").mkdir(parents=True)
    tracking.check_store(config)


@pytest.mark.slow
def test_train_logs_metrics_against_the_baseline_the_manifest_and_the_hash(tmp_path):
    uri = store(tmp_path)
    base = merged(tracked(uri), grouped(tmp_path))
    config = machine_config(tmp_path, "human", base=base, evaluation={"threshold": "f1"})
    result = train(config)
    manifest = result.manifest
    client = client_of(uri)
    (run,) = runs_of(client, "train")
    assert run.data.tags["artifact_sha256"] == manifest["artifact"]["sha256"]
    assert run.data.tags["data_fingerprint"] == manifest["data"]["content_hash"]
    primary = manifest["primary_metric"]
    metrics = run.data.metrics
    assert metrics[primary] == pytest.approx(manifest["metrics"][primary])
    assert metrics[f"baseline_{primary}"] == pytest.approx(manifest["baseline"][primary])
    assert metrics["lift_over_baseline"] == pytest.approx(manifest["lift_over_baseline"])
    # Each feature's permutation importance, as the manifest records it.
    for item in manifest["importance"]["features"]:
        assert metrics[f"importance.{item['feature']}"] == pytest.approx(item["mean"])
    assert run.data.params["model"] == manifest["model"]
    # How the rows were split, and how the decision threshold was chosen, as recorded.
    params = run.data.params
    assert (params["split"], params["split_column"]) == ("group", "customer")
    assert manifest["split"]["kind"] == "group"
    threshold = manifest["decision_threshold"]
    assert metrics["decision_threshold"] == pytest.approx(threshold["value"])
    assert params["decision_threshold_tuned_for"] == threshold["tuned_for"] == "f1"
    assert params["decision_threshold_positive_class"] == str(threshold["positive_class"])
    assert {"manifest.json", "metrics.json", "model-card.md"} <= artifacts(client, run.info.run_id)
    logged = client.download_artifacts(run.info.run_id, "manifest.json", str(tmp_path))
    assert json.loads(Path(logged).read_text("utf-8")) == manifest
    # Human mode enforces no gate: nothing is registered.
    assert client.search_registered_models() == []
    # The report joins the run that trained the model it describes, and shows the runs
    # tracked so far.
    report = build_report(config)
    assert "report.html" in artifacts(client, run.info.run_id)
    assert report.name == "report.html"
    page = report.read_text(encoding="utf-8")
    assert "Runs tracked so far" in page
    assert run.info.run_id in page


@pytest.mark.slow
def test_a_production_run_that_passes_the_gate_registers_the_model(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    environment = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    environment |= {"GIT_COMMITTER_EMAIL": "t@t"}
    commit = ["git", "-C", str(tmp_path), "commit", "-q", "--allow-empty", "-m", "start"]
    subprocess.run(commit, check=True, env={**os.environ, **environment})
    uri = store(tmp_path)
    config = machine_config(tmp_path, "production", base=tracked(uri), evaluation={"gate": True})
    manifest = train(config).manifest
    client = client_of(uri)
    (version,) = client.search_model_versions(f"name = '{EXPERIMENT}'")
    published = config.output_dir / "manifest.json"
    assert version.tags["manifest_sha256"] == hashlib.sha256(published.read_bytes()).hexdigest()
    assert version.tags["git_commit"] == manifest["git"]["commit"] is not None
    assert version.tags["data_fingerprint"] == manifest["data"]["content_hash"]
    (run,) = runs_of(client, "train")
    assert version.run_id == run.info.run_id
    # The version's files are the run's model.skops (the file the project loads) and its
    # manifest.
    assert artifacts(client, run.info.run_id, "model") == {
        "model/model.skops",
        "model/manifest.json",
    }
    model = Path(client.download_artifacts(run.info.run_id, "model/model.skops", str(tmp_path)))
    assert hashlib.sha256(model.read_bytes()).hexdigest() == manifest["artifact"]["sha256"]
    # A run the gate refuses registers nothing.
    strict = machine_config(
        tmp_path,
        "production",
        base=tracked(uri),
        evaluation={"gate": True, "thresholds": {"primary": 0.999}},
    )
    with pytest.raises(QualityGateFailed):
        train(strict)
    assert len(client.search_model_versions(f"name = '{EXPERIMENT}'")) == 1


@pytest.mark.slow
def test_an_unreachable_store_is_one_line_and_the_run_goes_on(tmp_path, capsys):
    unreachable = f"http://team:s3cret@127.0.0.1:{free_port()}"
    configs = make_configs(tmp_path, base=tracked(unreachable))
    code = main(["train", "--mode", "human", "--config-dir", str(configs)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    skipped = [line for line in captured.err.splitlines() if "tracking skipped" in line]
    assert len(skipped) == 1, captured.err
    assert "train not recorded in http://team:***@127.0.0.1" in skipped[0]
    assert "s3cret" not in captured.err + captured.out
    assert (configs.parent / "outputs" / "human" / "model.skops").is_file()
    # The report is written too, without the panel of tracked runs.
    code = main(["report", "--mode", "human", "--config-dir", str(configs)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "tracked runs not read from http://team:***@127.0.0.1" in captured.err
    assert "s3cret" not in captured.err + captured.out
    page = (configs.parent / "outputs" / "human" / "report.html").read_text(encoding="utf-8")
    assert "Runs tracked so far" not in page


@pytest.mark.slow
def test_test_mode_and_help_never_import_mlflow(tmp_path, starter_package):
    # Tracking on in base.toml, off in test.toml: what the project's configs do.
    configs = make_configs(
        tmp_path, base=tracked(store(tmp_path)), test={"tracking": {"enabled": False}}
    )
    script = (
        "import sys\n"
        "from trimode.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'mlflow' not in sys.modules, 'imported by --help'\n"
        f"assert main(['train', '--mode', 'test', '--config-dir', {str(configs)!r}]) == 0\n"
        "print('imported' if 'mlflow' in sys.modules else 'not imported')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        # The project's package is importable there as it is here.
        env={**os.environ, "PYTHONPATH": str(starter_package.parent)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "not imported"
    assert not (tmp_path / "runs.db").exists()


@pytest.fixture
def mlflow_server(tmp_path):
    """`mlflow server` on 127.0.0.1 (a free port, SQLite and artifacts in tmp_path), as a
    team would run one; stopped afterwards."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        store(tmp_path / "server"),
        "--artifacts-destination",
        str(tmp_path / "server" / "artifacts"),
    ]
    (tmp_path / "server").mkdir()
    with serving(command, port, "/health", tmp_path / "server" / "log.txt") as url:
        yield url


@contextlib.contextmanager
def serving(command: list[str], port: int, health: str, log_path: Path, env=None):
    """Run an HTTP server's command (listening on 127.0.0.1:port), its output in
    log_path; yield its URL once GET health answers 200 (at most 120 s); always stopped
    afterwards, its whole process group."""
    log = log_path.open("w")
    server = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log_path.read_text()
            try:
                with urllib.request.urlopen(f"{url}{health}", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"{command[:4]} did not start in 120 s"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.mark.slow
def test_a_train_run_logged_to_an_mlflow_server_over_http(tmp_path, mlflow_server):
    config = machine_config(
        tmp_path, "production", base=tracked(mlflow_server), evaluation={"gate": True}
    )
    manifest = train(config).manifest
    client = client_of(mlflow_server)
    (run,) = runs_of(client, "train")
    assert run.data.tags["artifact_sha256"] == manifest["artifact"]["sha256"]
    primary = manifest["primary_metric"]
    assert run.data.metrics[primary] == pytest.approx(manifest["metrics"][primary])
    assert "manifest.json" in artifacts(client, run.info.run_id)
    # The server keeps the artifacts in its own folder.
    assert list((tmp_path / "server" / "artifacts").rglob("manifest.json"))
    (version,) = client.search_model_versions(f"name = '{EXPERIMENT}'")
    assert version.run_id == run.info.run_id


# A data source's password, taken from the environment by ${env:NAME}.
SOURCE_VARIABLE = "TRIMODE_TEST_SOURCE_PASSWORD"
SOURCE_PASSWORD = "pl4nted-Source-Secret-77"


@pytest.mark.slow
@pytest.mark.parametrize("threshold", ["", 0.35], ids=["most-probable", "decision-threshold"])
def test_the_champion_served_by_mlflow_predicts_as_predict_does(
    tmp_path, monkeypatch, starter_package, threshold
):
    """A production run (its source's password from the environment) logs the model as
    an MLflow Model in skops format, registered as the champion; `mlflow models serve`
    serves it on 127.0.0.1 and its predictions are batch predict's on the same rows. The
    password is nowhere in the store, its files or the outputs."""
    from http_files import http_server  # tests/ is on the path: tests/runtime is a package

    from trimode.artifacts.model_file import read_manifest, trusted_in
    from trimode.workflows.predict import predict_file

    served = tmp_path / "served"
    served.mkdir()
    make_dataset(TASK, 2_000).to_csv(served / "rows.csv", index=False)
    monkeypatch.setenv(SOURCE_VARIABLE, SOURCE_PASSWORD)
    uri = store(tmp_path)
    with http_server(served, credentials=f"reader:{SOURCE_PASSWORD}") as url:
        source = url.replace("//", f"//reader:${{env:{SOURCE_VARIABLE}}}@", 1) + "/rows.csv"
        base = merged(tracked(uri), {"data": {"source": source}})
        evaluation = {"gate": True, "threshold": threshold}
        config = machine_config(tmp_path, "production", base=base, evaluation=evaluation)
        manifest = train(config).manifest
    assert bool(manifest["decision_threshold"]) == bool(threshold)
    client = client_of(uri)
    version = client.get_model_version_by_alias(EXPERIMENT, tracking.CHAMPION)
    (run,) = runs_of(client, "train")
    assert version.run_id == run.info.run_id
    assert version.source.endswith(f"/{tracking.MLFLOW_MODEL}")
    # The MLflow Model: skops, trusting exactly the types the runtime derives for the
    # project's model file (and the threshold's wrapper), with a signature and an example.
    folder = Path(client.download_artifacts(run.info.run_id, tracking.MLFLOW_MODEL, str(tmp_path)))
    import yaml

    described = yaml.safe_load((folder / "MLmodel").read_text())
    flavour = described["flavors"]["sklearn"]
    assert flavour["serialization_format"] == "skops"
    model_file = config.output_dir / "model.skops"
    derived = trusted_in(
        model_file.read_bytes(), read_manifest(config.output_dir), config.project, model_file
    )
    assert "starter.features.add_features" in derived
    wrapper = {
        "sklearn.frozen._frozen.FrozenEstimator",
        "sklearn.model_selection._classification_threshold.FixedThresholdClassifier",
    }
    assert set(flavour["skops_trusted_types"]) == set(derived) | (wrapper if threshold else set())
    assert "signature" in described and "saved_input_example_info" in described

    rows = make_dataset(TASK, 300, seed=3).drop(columns=[TARGETS[TASK]])
    rows.to_csv(tmp_path / "rows.csv", index=False)
    predict_file(
        config.project, str(tmp_path / "rows.csv"), tmp_path / "out.csv", config.output_dir
    )
    expected = pd.read_csv(tmp_path / "out.csv")["prediction"].tolist()

    port = free_port()
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m"]
    command += [f"models:/{EXPERIMENT}@{tracking.CHAMPION}", "--env-manager", "local"]
    command += ["-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    environment = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        # MLflow loads a serialized model, skops included, only with this consent (its
        # default in 3.17, said here for versions that change it).
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",
        # The project's own code (add_features) is what the pipeline calls.
        "PYTHONPATH": os.pathsep.join([str(starter_package.parent), *sys.path]),
    }
    body = json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False))})
    with serving(command, port, "/ping", tmp_path / "serve.log", environment) as served_url:
        request = urllib.request.Request(
            f"{served_url}/invocations",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            predictions = json.loads(answer.read())["predictions"]
    assert predictions == expected
    assert len(set(expected)) == 2  # both classes predicted: the comparison means something
    # The password reached no file: store, runs' files, outputs, the server's log.
    leaked = [
        path
        for path in tmp_path.rglob("*")
        if path.is_file() and SOURCE_PASSWORD.encode() in path.read_bytes()
    ]
    assert leaked == []
