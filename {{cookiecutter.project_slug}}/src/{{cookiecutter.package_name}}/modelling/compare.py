"""Compare registry models side by side on identical cross-validation folds.

This is how human mode tries many models through one interface. Every model (with
the hyper-parameters train.params gives it), and always the dummy baseline, is
scored by scikit-learn's cross_validate on the same folds (so differences come from
the models, not from the rows each one happened to see), with the folds fitted in
parallel across the configured cores. The folds are made from the training rows
only: the rows `train` holds out to judge its model are never seen here, and `train`
with several models picks its model from this very leaderboard, so the two rank
models alike. The leaderboard holds the mean and spread of every metric and of the
fit and scoring times, best first, and is written as CSV and JSON under the mode's
output root.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from sklearn.base import BaseEstimator
from sklearn.model_selection import cross_validate

from ..ingest.loading import load_dataset
from ..ingest.sampling import frame_hash
from ..publishing.files import json_safe, write_atomically, write_json
from ..publishing.publish import check_output_root, writing_into
from ..run.config import Config
from ..run.errors import DataError
from ..run.extensions import after
from ..yours.features import infer_schema
from ..yours.models import build_model
from .column_advice import column_notes
from .compute import compute_engine
from .evaluation import score
from .splitting import make_folds, split_rows
from .tasks import Task, task_named

BASELINE = "dummy_baseline"
TIMES = ("fit_time", "score_time")
# A fold: the row positions (in the labelled rows) a model is fitted on, and scored on.
Fold = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Leaderboard:
    """Cross-validated scores of several models on the same folds, best first."""

    mode: str
    task: str
    primary_metric: str
    n_rows: int
    cv_folds: int
    seed: int
    # One row per model: `model`, then `<name>_mean` and `<name>_std` for every
    # metric and for fit_time and score_time (seconds per fold).
    rows: pd.DataFrame
    # The folds every model was given.
    folds: list[Fold]
    # Per model, the fingerprint of the test rows cross_validate actually scored it on.
    fold_hashes: dict[str, str]
    # What the user should read about the data (columns that look misassigned).
    notes: list[str] = field(default_factory=list)
    # The run that made it: when, and the content hash of the rows it loaded (the one a
    # manifest records), so a report can tell whether it ranks the model beside it.
    made_by: dict[str, Any] = field(default_factory=dict)
    # Per model, the hyper-parameters it was cross-validated with.
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def best(self) -> str:
        """The best model that is not the baseline (its primary metric must be finite)."""
        primary = f"{self.primary_metric}_mean"
        for row in self.rows.to_dict(orient="records"):
            if row["model"] != BASELINE and _is_finite(row[primary]):
                return row["model"]
        raise DataError(f"no model gave a finite {self.primary_metric} in cross-validation")

    def scores(self, name: str) -> dict[str, float | None]:
        """The named model's mean cross-validated metrics."""
        row = self.rows.set_index("model").loc[name]
        return {
            metric: (float(row[f"{metric}_mean"]) if _is_finite(row[f"{metric}_mean"]) else None)
            for metric in task_named(self.task).metric_names
        }

    def to_json(self) -> dict[str, Any]:
        """The leaderboard as plain data; NaN and infinities become null."""
        primary = task_named(self.task).metric(self.primary_metric)
        return {
            "mode": self.mode,
            "task": self.task,
            "n_rows": self.n_rows,
            "cv_folds": self.cv_folds,
            "seed": self.seed,
            "made_by": self.made_by,
            "primary_metric": self.primary_metric,
            "greater_is_better": primary.greater_is_better,
            "folds_sha256": folds_hash(self.folds),
            "fold_test_sizes": [len(test) for _, test in self.folds],
            "fold_hashes": self.fold_hashes,
            "rows": [json_safe(row) for row in self.rows.to_dict(orient="records")],
        }


def compare_models(
    config: Config, features: pd.DataFrame, y: pd.Series, models: list[str] | None = None
) -> Leaderboard:
    """Cross-validate the named registry models (default: compare.models) and the dummy
    baseline on identical folds of these labelled rows (the training rows of a split)."""
    task, seed = task_named(config.task), config.train.seed
    folds = make_folds(config, features, y, "compare.cv_folds")
    schema = infer_schema(features, config.data.target, config.columns)
    # The cores go to the folds, which cross_validate fits in parallel; a model that
    # could use several cores itself gets one, so that the two do not compete.
    estimators: dict[str, BaseEstimator] = {
        name: build_model(
            task.name, name, schema, seed, n_jobs=1, params=config.train.params.get(name)
        )
        for name in (models or config.compare.models)
    }
    estimators[BASELINE] = task.make_baseline()
    results, fold_hashes = {}, {}
    with compute_engine(config):
        for name, estimator in estimators.items():
            result = cross_validate(
                estimator,
                features,
                y,
                cv=folds,
                scoring=partial(score, task),
                n_jobs=config.compute.n_jobs,
                return_train_score=False,
                return_indices=True,
                error_score="raise",
            )
            fold_hashes[name] = folds_hash(
                list(zip(result["indices"]["train"], result["indices"]["test"], strict=True))
            )
            results[name] = result
    primary = config.evaluation.primary_metric
    return Leaderboard(
        mode=config.mode,
        task=task.name,
        primary_metric=primary,
        n_rows=len(y),
        cv_folds=len(folds),
        seed=seed,
        rows=_rank(task, primary, results),
        folds=folds,
        fold_hashes=fold_hashes,
        params={name: _own_params(estimator) for name, estimator in estimators.items()},
    )


def _own_params(estimator: BaseEstimator) -> dict[str, Any]:
    """The hyper-parameters of the model itself: the registry pipeline's model step."""
    steps = getattr(estimator, "named_steps", {})
    return steps.get("model", estimator).get_params(deep=False)


def folds_hash(folds: list[Fold]) -> str:
    """A fingerprint of the folds: equal exactly when every fold has the same rows."""
    digest = hashlib.sha256()
    for train, test in folds:
        for positions in (train, test):
            digest.update(np.asarray(positions, dtype=np.int64).tobytes())
            digest.update(b"|")
    return digest.hexdigest()


def _rank(task: Task, primary: str, results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per model with the mean and spread over folds, best primary metric first."""
    columns = [f"test_{name}" for name in task.metric_names] + list(TIMES)
    records = []
    for model, result in results.items():
        record: dict[str, Any] = {"model": model}
        for column in columns:
            values = np.asarray(result[column], dtype=float)
            name = column.removeprefix("test_")
            record[f"{name}_mean"], record[f"{name}_std"] = values.mean(), values.std()
        records.append(record)
    rows = pd.DataFrame(records)
    return rows.sort_values(
        f"{primary}_mean",
        ascending=not task.metric(primary).greater_is_better,
        na_position="last",
        kind="stable",
        ignore_index=True,
    )


def save_leaderboard(
    leaderboard: Leaderboard, output_dir: Path, key: str = "outputs.root"
) -> list[Path]:
    """Write leaderboard.csv and leaderboard.json into output_dir, an output root of the
    project's (see publish.writing_into; key names its setting); return their paths."""
    csv_path, json_path = output_dir / "leaderboard.csv", output_dir / "leaderboard.json"
    with writing_into(output_dir, key):
        write_atomically(csv_path, lambda path: leaderboard.rows.to_csv(path, index=False))
        write_json(json_path, leaderboard.to_json())
    return [csv_path, json_path]


def compare(config: Config, models: list[str] | None = None) -> tuple[Leaderboard, list[Path]]:
    """Load the mode's rows, compare the models on their training rows (the split `train`
    makes), and save the leaderboard."""
    key = config.where("outputs.root")
    check_output_root(config.output_dir, key)  # a folder it may not write into: before the work
    loaded = load_dataset(config)
    split = split_rows(loaded.frame, config)
    leaderboard = compare_models(config, split.x_train, split.y_train, models)
    schema = infer_schema(loaded.frame, config.data.target, config.columns)
    notes = [*loaded.notes, *loaded.warnings, *column_notes(loaded.frame, schema, config)]
    made_by = {
        "command": "compare",
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_content_hash": frame_hash(loaded.frame),
    }
    leaderboard = dataclasses.replace(leaderboard, notes=notes, made_by=made_by)
    paths = save_leaderboard(leaderboard, config.output_dir, key)
    after("compare", config, leaderboard=leaderboard, paths=paths)
    return leaderboard, paths


def render_leaderboard(leaderboard: Leaderboard) -> Table:
    """The leaderboard as a rich table: "mean ± std" per metric, best model first."""
    task, primary = task_named(leaderboard.task), leaderboard.primary_metric
    table = Table(
        title=f"{leaderboard.mode} mode: {leaderboard.n_rows} rows, {leaderboard.cv_folds}-fold "
        f"cross-validation, best {primary} first",
        caption="↑ greater is better, ↓ smaller is better; times are seconds per fold",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("model", no_wrap=True)
    metrics = task.metric_names
    for name in metrics:
        arrow = "↑" if task.metric(name).greater_is_better else "↓"
        style = "bold" if name == primary else ""
        table.add_column(f"{name} {arrow}", justify="right", style=style)
    for name in TIMES:
        table.add_column(name.replace("_", " "), justify="right")
    for row in leaderboard.rows.to_dict(orient="records"):
        cells = [row["model"]]
        cells += [_mean_std(row, name, 4) for name in metrics]
        cells += [_mean_std(row, name, 2) for name in TIMES]
        table.add_row(*cells, style="dim" if row["model"] == BASELINE else None)
    return table


def print_leaderboard(leaderboard: Leaderboard) -> None:
    """Print the leaderboard table whole, wider than the terminal if need be, never squeezed."""
    table = render_leaderboard(leaderboard)
    console = Console()
    needed = Measurement.get(console, console.options.update_width(1_000), table).maximum
    Console(width=max(console.width, needed)).print(table)


def _mean_std(row: dict[str, Any], name: str, digits: int) -> str:
    mean, std = row[f"{name}_mean"], row[f"{name}_std"]
    if not _is_finite(mean):
        return "n/a"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _is_finite(value: Any) -> bool:
    return not isinstance(value, float) or bool(np.isfinite(value))
