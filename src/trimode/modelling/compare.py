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
output root. With columns.group or columns.time and compare.random_split_beside (human
mode's setting), each model's primary metric on shuffled folds that ignore them stands
beside its own: how optimistic a random split would have been.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import cross_validate

from trimode.config.model import Config, Settings
from trimode.core import cache
from trimode.core.errors import DataError
from trimode.core.io import json_safe
from trimode.core.layout import VERSION
from trimode.core.tasks import Task, task_named
from trimode.modelling.compute import compute_engine, parallel_work
from trimode.modelling.evaluation import PrimaryScorer, score
from trimode.modelling.registry import build_model, feature_schema, model_params
from trimode.modelling.splitting import make_folds, split_kind
from trimode.modelling.weights import check_weights, fit_params

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
    # How the folds were made: {"kind": "random" | "group" | "time", "column"}.
    split: dict[str, Any] = field(default_factory=dict)
    # The task with the metrics the config reports (Config.rules); None: the task's own.
    given_rules: Task | None = None

    @property
    def rules(self) -> Task:
        """The task with the metrics the leaderboard ranks on."""
        return self.given_rules or task_named(self.task)

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
            for metric in self.rules.metric_names
        }

    def to_json(self) -> dict[str, Any]:
        """The leaderboard as plain data; NaN and infinities become null."""
        primary = self.rules.metric(self.primary_metric)
        return {
            "mode": self.mode,
            "task": self.task,
            "n_rows": self.n_rows,
            "cv_folds": self.cv_folds,
            "seed": self.seed,
            "made_by": self.made_by,
            "primary_metric": self.primary_metric,
            "greater_is_better": primary.greater_is_better,
            "metrics": self.rules.metric_names,
            "folds_sha256": folds_hash(self.folds),
            "fold_test_sizes": [len(test) for _, test in self.folds],
            "fold_hashes": self.fold_hashes,
            "split": self.split,
            "rows": [json_safe(row) for row in self.rows.to_dict(orient="records")],
        }


def compare_models(
    config: Config, features: pd.DataFrame, y: pd.Series, models: list[str] | None = None
) -> Leaderboard:
    """Cross-validate the named registry models (default: compare.models) and the dummy
    baseline on identical folds of these labelled rows (the training rows of a split)."""
    task, seed = config.rules, config.train.seed
    check_weights(config, features)
    folds = make_folds(config, features, y, "compare.cv_folds")
    schema = feature_schema(config, features)
    # The cores go to the folds, which cross_validate fits in parallel; a model that
    # could use several cores itself gets one, so that the two do not compete.
    estimators: dict[str, BaseEstimator] = {
        name: build_model(
            config.project, task.name, name, schema, seed, 1, model_params(config, name)
        )
        for name in (models or config.compare.models)
    }
    estimators[BASELINE] = task.make_baseline()
    results, fold_hashes = {}, {}
    with compute_engine(config), parallel_work():
        for name, estimator in estimators.items():
            result = cross_validate(
                estimator,
                features,
                y,
                cv=folds,
                scoring=partial(score, task, weight=config.columns.weight),
                params=fit_params(config, estimator, features),
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
        rows = _rank(task, primary, results)
        kind, column = split_kind(config)
        if kind != "random" and config.compare.random_split_beside:
            rows = _beside(rows, _random_split_scores(config, estimators, features, y), primary)
    return Leaderboard(
        mode=config.mode,
        task=task.name,
        given_rules=task,
        primary_metric=primary,
        n_rows=len(y),
        cv_folds=len(folds),
        seed=seed,
        rows=rows,
        folds=folds,
        fold_hashes=fold_hashes,
        params={name: _own_params(estimator) for name, estimator in estimators.items()},
        split={"kind": kind, "column": column or None},
    )


def random_split_column(primary: str) -> str:
    """The leaderboard's column of a metric's mean on random folds."""
    return f"{primary}_random_split_mean"


def _random_split_scores(
    config: Config, estimators: dict[str, BaseEstimator], features: pd.DataFrame, y: pd.Series
) -> dict[str, np.ndarray]:
    """Per model, the primary metric on each of the shuffled folds a random split makes."""
    task, primary = task_named(config.task), config.evaluation.primary_metric
    folds = make_folds(config, features, y, "compare.cv_folds", random=True)
    sign = 1 if task.metric(primary).greater_is_better else -1
    return {
        name: sign
        * cross_validate(
            estimator,
            features,
            y,
            cv=folds,
            scoring=PrimaryScorer(task, primary),
            n_jobs=config.compute.n_jobs,
            error_score="raise",
        )["test_score"]
        for name, estimator in estimators.items()
    }


def _beside(rows: pd.DataFrame, scores: dict[str, np.ndarray], primary: str) -> pd.DataFrame:
    """The leaderboard with each model's mean and spread on random folds after its
    primary metric's."""
    mean = random_split_column(primary)
    beside = pd.DataFrame(
        {
            "model": list(scores),
            mean: [values.mean() for values in scores.values()],
            mean.removesuffix("_mean") + "_std": [values.std() for values in scores.values()],
        }
    )
    merged = rows.merge(beside, on="model", how="left")
    order = [*rows.columns[: rows.columns.get_loc(f"{primary}_std") + 1], *beside.columns[1:]]
    return merged[[*order, *(name for name in rows.columns if name not in order)]]


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


def _is_finite(value: Any) -> bool:
    return not isinstance(value, float) or bool(np.isfinite(value))


# What cannot change how a leaderboard ranks models: how and where a run computes and
# writes, what it reports and checks afterwards, and which models a command runs
# (`train` may keep any of the models a leaderboard ranked). Every other setting is part
# of a ranking's fingerprint, keys added later included.
NOT_RANKING = frozenset(
    {"search", "evaluation", "contract", "inspection", "compute", "dask", "tracking", "outputs"}
)
RUN_LISTS = {"train": {"models", "refit_on_all_rows"}, "compare": {"models"}}


def ranking_fingerprint(config: Config, data_hash: str) -> str:
    """A fingerprint of what decides how a leaderboard ranks models: the runtime's
    version, the rows (their content hash: the sample), every setting that shapes the
    split, the folds, the features and the models (task, data, columns, train and
    compare but the lists of models to run; evaluation.primary_metric), and the project's
    code that builds the pipelines (its models.py and features.py). `compare` records
    it; `train` reuses a leaderboard with the same fingerprint."""
    sections = [name for name in Settings.model_fields if name not in NOT_RANKING]
    settings = {
        name: _without(getattr(config, name), RUN_LISTS.get(name, set())) for name in sections
    }
    project = config.project
    return cache.key_of(
        VERSION,
        data_hash,
        json_safe(settings),
        config.evaluation.primary_metric,
        [project.source_hash(key) for key in ("models", "features")],
    )


def _without(value: Any, keys: set[str]) -> Any:
    """A config section as plain data without the keys named (the task: as it is)."""
    if not hasattr(value, "model_dump"):
        return value
    return value.model_dump(exclude=keys)


def ranked(leaderboard: dict[str, Any], names: list[str]) -> tuple[str, dict[str, Any]]:
    """The best of the named models and every one's mean scores, from a leaderboard as
    leaderboard.json holds it (rows best first)."""
    names_of_metrics = leaderboard.get("metrics") or task_named(leaderboard["task"]).metric_names
    primary = f"{leaderboard['primary_metric']}_mean"
    rows = {row["model"]: row for row in leaderboard["rows"]}
    best = next(
        (
            row["model"]
            for row in leaderboard["rows"]
            if row["model"] in names and row[primary] is not None
        ),
        None,
    )
    if best is None:
        raise DataError(
            f"no model gave a finite {leaderboard['primary_metric']} in cross-validation"
        )
    scores = {
        name: {metric: rows[name].get(f"{metric}_mean") for metric in names_of_metrics}
        for name in names
    }
    return best, scores
