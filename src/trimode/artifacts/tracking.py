"""Tracked experiments in MLflow: what compare, train and a published production model did.

- `compare`: one parent run (the mode, rows, folds, how they were split, the strategy and
  budget, whether it is partial and which candidates did not finish, halving's rounds,
  the leaderboard as an artifact) with a child run per leaderboard row: its
  hyper-parameters (model.*), and the mean and spread (std) over folds of every metric
  and of the fit and score times, its rank (and the rows halving scored it on), and with
  compare.random_split_beside those of the primary metric on random folds
  (<metric>_random_split_mean, _std). A variant's run is named by its values, tagged
  variant_of with its registry model, and has its values as variant.* params. With
  compare.learning_curve, the parent run holds the curve (learning_curve.<model>.valid,
  .train, .valid_std: one step per size, step = rows) and its reading (the tag
  learning_curve.<model>).
- `train`: the model's hyper-parameters and the run's settings, how the rows were split
  (split, split_column, time_gap_days), how the decision threshold was chosen
  (decision_threshold_tuned_for: f1, cost or given; decision_threshold_positive_class);
  its metrics on the held-out rows beside the dummy baseline's (baseline_<metric>) and
  the lift, the decision threshold and each feature's permutation importance
  (importance.<feature>); the manifest, metrics.json, the model card and the report
  (`report` adds it to the run that trained the model) as artifacts; the model file's
  sha256 as a tag.
- A model the quality gate passed (evaluation.gate, as production mode sets it) is also
  logged as a standard MLflow Model (mlflow_model.py: the sklearn flavour in skops
  format, never pickle, with the types the project trusts for it, a signature and an
  input example) and registered in MLflow's model registry under the experiment's
  name, tagged with the manifest's sha256, the git commit and the data's content hash,
  with the alias `champion` on the newest version: `mlflow models serve -m
  models:/<name>@champion` serves it. The run's model/ artifacts keep the very
  model.skops the project loads (checked against its manifest) and that manifest.

Where runs go is [tracking] in the configs: a SQLite file under the project root by
default (`uv run mlflow ui --backend-store-uri sqlite:///mlruns.db` shows it; the
artifacts go beside it in mlruns/), or a team's server. Tracking never fails a run:
when the store cannot be reached or refuses a write, one line on the error stream says
tracking was skipped and why (passwords in the URI hidden), and the run goes on. MLflow
is imported only when tracking is on for the mode: test mode and `--help` never load it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trimode.config.model import TrackingConfig
from trimode.core.layout import (
    MANIFEST_FILE,
    METRICS_FILE,
    MODEL_CARD_FILE,
    MODEL_FILE,
    REPORT_FILE,
)
from trimode.core.locations import local_files, resolve_source
from trimode.core.secrets import redact, redacted
from trimode.core.writes import TRACKED_FILES, TRACKING, is_marked, mark

if TYPE_CHECKING:
    import pandas as pd
    from mlflow.tracking import MlflowClient
    from sklearn.base import BaseEstimator

    from trimode.config.model import Config
    from trimode.modelling.compare import Leaderboard
    from trimode.modelling.learning_curve import LearningCurve

# MLflow's own limit on a parameter's value (characters).
PARAM_LENGTH = 6000
# How long a team's server may keep a run waiting, unless MLFLOW_HTTP_REQUEST_* say
# otherwise: MLflow's defaults retry for minutes.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
}
# The folder beside a local store's SQLite file where MLflow keeps its runs' files, and
# the names of the runs' folders in it (MLflow's run ids: 32 hex digits).
RUNS_FILES = "mlruns"
RUN_ID = re.compile(r"[0-9a-f]{32}")
# Where a registered production model's MLflow Model goes in its run, and the alias of
# the newest one (`mlflow models serve -m models:/<name>@champion`).
MLFLOW_MODEL = "mlflow-model"
CHAMPION = "champion"
# The most train runs the report's panel shows, newest first, and candidates of the latest
# comparison, best first.
RUNS_SHOWN = 50
COMPARED_SHOWN = 500


def after(event: str, config: Config, **facts: Any) -> None:
    """Record what a command did ("compare", "train", "report"), when [tracking] is on for
    the mode. Never raises: a failure is one line on stderr."""
    tracking: TrackingConfig = config.tracking
    if not tracking.enabled or not _installed(config):
        return
    uri = str(tracking.uri)
    try:
        uri = tracking_uri(config)
        with _store(config, uri):
            client = _client(uri)
            experiment = _experiment(client, config, uri)
            RECORDERS[event](client, experiment, config, **facts)
    except Exception as error:  # tracking never makes a run fail
        _say_skipped(f"{event} not recorded in {uri}", error)


def tracked_runs(config: Config) -> list[dict[str, Any]] | None:
    """The train runs of the experiment so far, newest first (at most RUNS_SHOWN), then the
    child runs of its latest comparison (see _compared_run), for the report's panel "Runs
    tracked so far"; None when tracking is off for the mode. Never raises: when the store
    cannot be read, one line on stderr, and no panel."""
    tracking: TrackingConfig = config.tracking
    if not tracking.enabled or not _installed(config):
        return None
    uri = str(tracking.uri)
    try:
        uri = tracking_uri(config)
        with _store(config, uri):  # opening a store may add MLflow's tables to it
            client = _client(uri)
            found = client.get_experiment_by_name(experiment_name(config))
            if found is None:
                return []
            runs = [
                _tracked_run(run)
                for run in client.search_runs(
                    [found.experiment_id],
                    filter_string="tags.command = 'train'",
                    order_by=["attributes.start_time DESC"],
                    max_results=RUNS_SHOWN,
                )
            ]
            runs += _latest_comparison(client, found.experiment_id)
    except Exception as error:  # the report is written without the panel
        _say_skipped(f"tracked runs not read from {uri}", error)
        return None
    return runs


def _tracked_run(run: Any) -> dict[str, Any]:
    """One row of the report's panel: when, which model in which mode, at which commit,
    and its metrics on the held-out rows (the baseline's are in the run, not the row)."""
    tags = run.data.tags
    return {
        "run_id": run.info.run_id,
        "started": _started(run),
        "model": tags.get("model", ""),
        "mode": tags.get("mode", ""),
        "git_commit": tags.get("git_commit", "")[:12],
        "metrics": {
            name: value
            for name, value in sorted(run.data.metrics.items())
            if not name.startswith("baseline_") and name != "duration_s"
        },
    }


def _latest_comparison(client: MlflowClient, experiment: str) -> list[dict[str, Any]]:
    """The child runs of the experiment's latest comparison, best first: one per
    leaderboard row (see _compared_run); [] before any compare."""
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

    newest = client.search_runs(
        [experiment],
        filter_string="tags.command = 'compare'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not newest:
        return []
    # A comparison's children start after it: the newest compare run is one of them.
    parent = client.get_run(newest[0].data.tags.get(MLFLOW_PARENT_RUN_ID, newest[0].info.run_id))
    children = client.search_runs(
        [experiment],
        filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{parent.info.run_id}'",
        order_by=["metrics.rank ASC"],
        max_results=COMPARED_SHOWN,
    )
    return [_compared_run(child, parent) for child in children]


def _compared_run(run: Any, parent: Any) -> dict[str, Any]:
    """One candidate of a comparison as the report's panel lists it: the compare run it
    belongs to, its model (and the registry model a variant varies), its variant's values
    (variant.<name> params, one column each), its rank and the primary metric's mean and
    spread over the folds (and the rows halving scored it on)."""
    primary = parent.data.params.get("primary_metric", "")
    metrics = run.data.metrics
    shown = ["rank", f"{primary}_mean", f"{primary}_std", "rows"]
    return {
        "run_id": run.info.run_id,
        "started": _started(run),
        "model": run.data.tags.get("model", ""),
        "command": "compare",
        "compare_run": f"{parent.info.run_name} {parent.info.run_id[:12]}",
        "variant_of": run.data.tags.get("variant_of", ""),
        "variant": {
            name.removeprefix("variant."): value
            for name, value in sorted(run.data.params.items())
            if name.startswith("variant.")
        },
        "metrics": {name: metrics[name] for name in shown if name in metrics},
    }


def _started(run: Any) -> str:
    """When a run started, as ISO text in UTC."""
    return datetime.fromtimestamp(run.info.start_time / 1000, UTC).isoformat(timespec="seconds")


def _installed(config: Config) -> bool:
    """Whether MLflow can be imported; when it cannot, one line says how to add it."""
    import importlib.util

    if importlib.util.find_spec("mlflow") is not None:
        return True
    print(
        f"warning: tracking skipped: {config.where('tracking.enabled')} is true but MLflow is "
        "not installed: depend on trimode[mlflow] in pyproject.toml (then `uv sync`), or set "
        "tracking.enabled = false",
        file=sys.stderr,
    )
    return False


def _say_skipped(what: str, error: Exception) -> None:
    """The one line saying tracking was skipped, and why, with passwords hidden."""
    reason = " ".join(f"{type(error).__name__}: {error}".split())
    # Redacted whole, then cut: a cut could leave half a password unrecognised.
    line = redact(f"warning: tracking skipped, {what}: {reason}")
    print(line if len(line) <= 300 else line[:297] + "...", file=sys.stderr)


def check_store(config: Config) -> None:
    """Refuse (WriteRefused, before a run's work) a local store of tracking.uri that the
    write guard refuses: the data source, a database of the user's, a place no run writes."""
    if config.tracking.enabled:
        _claimed(config, tracking_uri(config))


@contextmanager
def _store(config: Config, uri: str) -> Iterator[None]:
    """Use the store of uri; a local SQLite file and the folder of its runs' files, once
    the write guard accepts them, are recorded as the project's after the use."""
    path = _claimed(config, uri)
    try:
        yield
    finally:
        if path is not None and path.is_file():
            config.guard.record(path, TRACKING)
        if path is not None and _runs_files(path).is_dir() and not is_marked(_runs_files(path)):
            mark(_runs_files(path), TRACKED_FILES)


def _claimed(config: Config, uri: str) -> Path | None:
    """The SQLite file of a local store, accepted by the write guard (a file the project
    wrote, or that is an MLflow store already) with the folder MLflow keeps its runs'
    files in (the project's, or one that holds only runs' folders); None for a server's
    URI."""
    files = local_files(uri) if uri.startswith("sqlite:") else ()
    if not files:
        return None
    key = config.where("tracking.uri")
    path = config.guard.file(files[0], key, TRACKING, adopt=_is_mlflow_store)
    config.guard.folder(_runs_files(path), key, TRACKED_FILES, adopt=_holds_only_runs)
    return path


def _runs_files(store: Path) -> Path:
    """Where a local store keeps its runs' files (see _experiment)."""
    return store.parent / RUNS_FILES


def _holds_only_runs(folder: Path) -> bool:
    """Whether every entry of folder is a folder named by an MLflow run's id (one made
    by an earlier version, before folders were marked)."""
    return all(entry.is_dir() and RUN_ID.fullmatch(entry.name) for entry in folder.iterdir())


def _is_mlflow_store(path: Path) -> bool:
    """Whether the SQLite file holds MLflow's tables already (a store made before the
    ledger, or written by `mlflow ui`)."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            tables = {row[0] for row in db.execute("select name from sqlite_master")}
    except sqlite3.Error:
        return False
    return {"alembic_version", "experiments", "runs"} <= tables


def tracking_uri(config: Config) -> str:
    """[tracking] uri, with a relative SQLite file made absolute under the project root."""
    return resolve_source(config.tracking.uri.reveal(), config.root)


def experiment_name(config: Config) -> str:
    """The experiment's name, which the registered model shares: [tracking] experiment, or
    the project folder's name."""
    return config.tracking.experiment or config.root.name


def _client(uri: str) -> MlflowClient:
    """An MLflow client of the store, MLflow imported now (and quiet but for warnings)."""
    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)
    from mlflow.tracking import MlflowClient

    # A new SQLite store says each step of making its tables (MLflow sets its loggers to
    # INFO when imported).
    for name in ("alembic", "mlflow"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _experiment(client: MlflowClient, config: Config, uri: str) -> str:
    """The experiment's id, made when missing. A local store keeps its artifacts beside
    its SQLite file, in mlruns/ (MLflow's own default is a folder in the current one)."""
    name = experiment_name(config)
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = None
    if uri.startswith("sqlite:"):
        from sqlalchemy.engine import make_url

        database = make_url(uri).database
        if database and database != ":memory:":
            location = (Path(database).parent / RUNS_FILES).as_uri()
    return str(client.create_experiment(name, artifact_location=location))


def _params(values: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Parameters as MLflow keeps them: text, at most PARAM_LENGTH characters each."""
    return {f"{prefix}{key}": redact(value)[:PARAM_LENGTH] for key, value in values.items()}


def _metrics(values: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The finite numbers among the values (MLflow keeps no missing metric)."""
    numbers = {}
    for key, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            numbers[f"{prefix}{key}"] = float(value)
    return numbers


def _log(client: MlflowClient, run_id: str, params: dict[str, str], metrics: dict[str, float]):
    """Log the parameters and metrics in one request."""
    from mlflow.entities import Metric, Param

    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(key, value, now, 0) for key, value in metrics.items()],
        params=[Param(key, value) for key, value in params.items()],
    )


def record_compare(
    client: MlflowClient,
    experiment: str,
    config: Config,
    leaderboard: Leaderboard,
    paths: list[Path],
) -> None:
    """One parent run of the comparison, a child run per model (the baseline too)."""
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

    tags = {"command": "compare", "mode": config.mode, "task": leaderboard.task}
    # Whether the comparison stopped before every candidate finished, as a tag to filter on.
    partial = {"partial": str(leaderboard.partial).lower()}
    parent = client.create_run(
        experiment, tags=redacted({**tags, **partial, MLFLOW_RUN_NAME: f"compare {config.mode}"})
    ).info.run_id
    _log(
        client,
        parent,
        _params(
            {
                "mode": config.mode,
                "task": leaderboard.task,
                "primary_metric": leaderboard.primary_metric,
                "n_rows": leaderboard.n_rows,
                "cv_folds": leaderboard.cv_folds,
                "seed": leaderboard.seed,
                **_split_params(leaderboard.split),
                "models": ", ".join(leaderboard.rows["model"]),
                "best": leaderboard.best,
                **_how_compared(leaderboard),
            }
        ),
        _metrics({"elapsed_s": leaderboard.elapsed_s, "estimate_s": leaderboard.estimate_s}),
    )
    for rank, row in enumerate(leaderboard.rows.to_dict(orient="records"), start=1):
        name = row["model"]
        variant = leaderboard.variants.get(name)
        child = client.create_run(
            experiment,
            tags=redacted({**tags, **_child_tags(row, variant), MLFLOW_PARENT_RUN_ID: parent}),
        ).info.run_id
        settings = {"model": name, "cv_folds": leaderboard.cv_folds, "seed": leaderboard.seed}
        params = _params(settings) | _params(leaderboard.params.get(name, {}), "model.")
        params |= _params((variant or {}).get("params", {}), "variant.")
        _log(client, child, params, _metrics({**row, "rank": rank}))
        client.set_terminated(child)
    if leaderboard.learning_curve is not None:
        _record_learning_curve(client, parent, leaderboard.learning_curve)
    for path in paths:
        client.log_artifact(parent, str(path))
    client.set_terminated(parent)


def _how_compared(leaderboard: Leaderboard) -> dict[str, Any]:
    """A comparison's parent-run parameters on how it ran: its strategy and budget, whether
    it is partial (why, and the candidates that did not finish), and halving's rounds per
    model (halving.<model>: "mlp: halving tried 12 variants on 1,111 rows, 4 on 3,333")."""
    # Here, not above: modelling imports scikit-learn, and the config imports this module.
    from trimode.modelling.halving import rounds_line

    found: dict[str, Any] = {
        "strategy": leaderboard.strategy,
        "budget_s": leaderboard.budget_s,
        "partial": leaderboard.partial,
    }
    if leaderboard.partial:
        found |= {"stopped": leaderboard.stopped, "unfinished": ", ".join(leaderboard.unfinished)}
    for model, rounds in leaderboard.halving.items():
        found[f"halving.{model}"] = rounds_line(model, rounds)
    return found


def _child_tags(row: dict[str, Any], variant: dict[str, Any] | None) -> dict[str, str]:
    """A child run's model and name, and for a variant the registry model it varies
    (variant_of) and a name that says its values: "mlp#2 (hidden_layer_sizes=[64, 64])"
    (the leaderboard's params column)."""
    from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME

    name = row["model"]
    if not variant:
        return {"model": name, MLFLOW_RUN_NAME: name}
    return {
        "model": name,
        "variant_of": variant["model"],
        MLFLOW_RUN_NAME: f"{name} ({row.get('params') or ''})",
    }


# --- the learning curve (compare.learning_curve) ---

# What MLflow refuses in a metric's or a tag's name (a variant's "#", say).
NOT_IN_KEYS = re.compile(r"[^\w\-. /]")


def _record_learning_curve(client: MlflowClient, run_id: str, curve: LearningCurve) -> None:
    """The curve on the compare run: per model, the mean primary metric on the fold's test
    rows and on the rows fitted (learning_curve.<model>.valid, .train) and the spread of
    the first (.valid_std), one step per size (step = rows); its reading as the tag
    learning_curve.<model>."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    metrics: list[Metric] = []
    for model in curve.models:
        key = f"learning_curve.{NOT_IN_KEYS.sub('_', model.model)}"
        sides = {"valid": model.valid_mean, "train": model.train_mean}
        sides["valid_std"] = model.valid_std
        metrics += [
            Metric(f"{key}.{side}", value, now, rows)
            for side, values in sides.items()
            for rows, value in zip(model.rows, values, strict=True)
            if math.isfinite(value)
        ]
        client.set_tag(run_id, key, redact(model.reading))
    client.log_batch(run_id, metrics=metrics)


def record_train(
    client: MlflowClient,
    experiment: str,
    config: Config,
    manifest: dict[str, Any],
    output_dir: Path,
    model: BaseEstimator,
    rows: pd.DataFrame,
) -> None:
    """One run of the training: settings, metrics against the baseline, the run's files;
    the model (fitted, with training rows for its input example) registered too when the
    quality gate passed it."""
    from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME

    # Here, not above: artifacts.py imports scikit-learn, and the config imports this
    # module (fetch-sample never loads scikit-learn).

    artifact = manifest["artifact"]
    tags = {
        "command": "train",
        "mode": manifest["mode"],
        "task": manifest["task"],
        "model": manifest["model"],
        "artifact_sha256": artifact["sha256"],
        **_provenance(manifest),
        MLFLOW_RUN_NAME: f"train {manifest['mode']} {manifest['model']}",
    }
    run = client.create_run(experiment, tags=redacted(tags))
    run_id = run.info.run_id
    split = manifest["split"]
    # The decision threshold the model acts on (binary classification), when set.
    threshold = manifest.get("decision_threshold") or {}
    settings = {
        "mode": manifest["mode"],
        "model": manifest["model"],
        "primary_metric": manifest["primary_metric"],
        "rows": manifest["data"]["rows"],
        "n_train": split["n_train"],
        "n_test": split["n_test"],
        "seed": split["seed"],
        **_split_params(split),
        **_threshold_params(threshold),
        "refit_on_all_rows": manifest["refit_on_all_rows"],
    }
    metrics = {
        **_metrics(manifest["metrics"]),
        **_metrics(manifest["baseline"], "baseline_"),
        **_metrics({"lift_over_baseline": manifest["lift_over_baseline"]}),
        **_metrics({"duration_s": manifest["duration_s"]}),
        **_metrics({"decision_threshold": threshold.get("value")}),
        **_importances(manifest.get("importance")),
    }
    _log(client, run_id, _params(settings) | _params(manifest["params"], "model."), metrics)
    for name in (MANIFEST_FILE, METRICS_FILE, MODEL_CARD_FILE, REPORT_FILE):
        if (output_dir / name).is_file():
            client.log_artifact(run_id, str(output_dir / name))
    gate = manifest["gate"]
    if gate["enforced"] and gate["passed"]:
        _register(client, run, config, manifest, output_dir, model, rows)
    client.set_terminated(run_id)


def _split_params(split: dict[str, Any]) -> dict[str, Any]:
    """How the rows were split, as a leaderboard or a manifest records it: the kind
    (random, group, time) and the column of a grouped or time split (an older record
    has neither)."""
    params = {"split": split.get("kind", "random")}
    if split.get("column"):
        params["split_column"] = split["column"]
    if "time_gap_days" in split:
        params["time_gap_days"] = split["time_gap_days"]
    return params


def _threshold_params(threshold: dict[str, Any]) -> dict[str, Any]:
    """How the decision threshold was chosen (tuned for f1 or cost, or given as a number)
    and the class whose probability it cuts; none without a threshold."""
    if not threshold:
        return {}
    return {
        "decision_threshold_tuned_for": threshold["tuned_for"] or "given",
        "decision_threshold_positive_class": threshold["positive_class"],
    }


def _importances(importance: dict[str, Any] | None) -> dict[str, float]:
    """Each feature's mean permutation importance as the metric importance.<feature>
    (characters MLflow refuses in a key written as _)."""
    features = (importance or {}).get("features") or []
    return _metrics(
        {re.sub(r"[^\w\-. /:]", "_", item["feature"]): item["mean"] for item in features},
        "importance.",
    )


def _provenance(manifest: dict[str, Any]) -> dict[str, str]:
    """Tags of where the model came from: the data's content hash, and the git commit
    (when the project is in git) and whether files differed from it."""
    git = manifest["git"]
    tags = {"data_fingerprint": str(manifest["data"]["content_hash"])}
    if git.get("commit"):
        tags |= {"git_commit": git["commit"], "git_dirty": str(bool(git.get("dirty"))).lower()}
    return tags


def _register(
    client: MlflowClient,
    run: Any,
    config: Config,
    manifest: dict[str, Any],
    output_dir: Path,
    model: BaseEstimator,
    rows: pd.DataFrame,
) -> None:
    """A new version of the registered model, aliased CHAMPION: the model as an MLflow
    Model (mlflow_model.py) in the run's MLFLOW_MODEL/, tagged with the manifest's sha256,
    the git commit and the data's content hash. The run's model/ holds the project's own
    model.skops and the manifest that vouches for it."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode

    # Here, not above: it imports scikit-learn, which tracking compare runs only need.
    from trimode.artifacts.mlflow_model import save_mlflow_model

    run_id = run.info.run_id
    for name in (MODEL_FILE, MANIFEST_FILE):
        client.log_artifact(run_id, str(output_dir / name), "model")
    with tempfile.TemporaryDirectory(prefix="trimode-mlflow-model-") as folder:
        saved = save_mlflow_model(
            Path(folder) / MLFLOW_MODEL, model, manifest, output_dir, config.project, rows
        )
        client.log_artifacts(run_id, str(saved), MLFLOW_MODEL)
    name = experiment_name(config)
    try:
        client.create_registered_model(name, description="Models the quality gate passed.")
    except MlflowException as error:
        if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
            raise
    tags = {
        "manifest_sha256": hashlib.sha256((output_dir / MANIFEST_FILE).read_bytes()).hexdigest(),
        "artifact_sha256": manifest["artifact"]["sha256"],
        **_provenance(manifest),
        "mode": manifest["mode"],
    }
    version = client.create_model_version(
        name, source=f"{run.info.artifact_uri}/{MLFLOW_MODEL}", run_id=run_id, tags=redacted(tags)
    )
    client.set_registered_model_alias(name, CHAMPION, version.version)


def record_report(
    client: MlflowClient, experiment: str, config: Config, manifest: dict[str, Any], path: Path
) -> None:
    """The report, added to the tracked run that trained the model it describes."""
    sha256 = manifest["artifact"]["sha256"]
    runs = client.search_runs(
        [experiment],
        filter_string=f"tags.command = 'train' and tags.artifact_sha256 = '{sha256}'",
        max_results=1,
    )
    if not runs:
        raise LookupError(f"no tracked train run made the model {sha256[:12]}")
    client.log_artifact(runs[0].info.run_id, str(path))


RECORDERS: dict[str, Callable[..., None]] = {
    "compare": record_compare,
    "train": record_train,
    "report": record_report,
}
