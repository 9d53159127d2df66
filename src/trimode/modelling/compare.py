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
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import cross_validate

from trimode.config.model import Config, Settings
from trimode.core import cache, progress
from trimode.core.errors import DataError
from trimode.core.io import json_safe
from trimode.core.layout import VERSION
from trimode.core.tasks import Task, task_named
from trimode.modelling.compute import compute_engine, parallel_work
from trimode.modelling.evaluation import PrimaryScorer, score
from trimode.modelling.fold_fits import INTERRUPTED, Fits, FoldScore, run_fits, stoppable
from trimode.modelling.halving import Halved, halve
from trimode.modelling.learning_curve import LearningCurve
from trimode.modelling.registry import feature_schema
from trimode.modelling.splitting import make_folds, split_kind
from trimode.modelling.timing import BudgetExceeded
from trimode.modelling.variants import Candidate, candidates, split_name
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
    # The rows that are variants: {"mlp#2": {"model": "mlp", "params": {...}}}.
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    # "grid" (every candidate on every fold) or "halving" (see halving.py), and its rounds
    # per model: [{"candidates": 12, "rows": 1111}, ...].
    strategy: str = "grid"
    halving: dict[str, list[dict[str, int]]] = field(default_factory=dict)
    # Why the comparison stopped before every candidate finished (fold_fits.BUDGET or
    # INTERRUPTED; None: it did not), and the candidates that did not finish.
    stopped: str | None = None
    unfinished: list[str] = field(default_factory=list)
    # compare.time_budget_s (0: none), the seconds the fits took, and the estimate of them
    # announced from the first fits.
    budget_s: float = 0
    elapsed_s: float = 0
    estimate_s: float | None = None
    # The unfitted pipeline of each row (not saved): what a learning curve refits.
    estimators: dict[str, BaseEstimator] = field(default_factory=dict, repr=False, compare=False)
    # The leading models on growing shares of the rows (compare.learning_curve), or None.
    learning_curve: LearningCurve | None = None

    @property
    def partial(self) -> bool:
        """Whether some candidates did not finish (the budget ran out, or Ctrl-C)."""
        return self.stopped is not None

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
            "strategy": self.strategy,
            "partial": self.partial,
            "stopped": self.stopped,
            "unfinished": self.unfinished,
            "budget_s": self.budget_s,
            "elapsed_s": self.elapsed_s,
            "estimate_s": self.estimate_s,
            "variants": self.variants,
            # Each row's hyper-parameters as its estimator had them: what promote writes.
            "hyper_parameters": {name: json_safe(params) for name, params in self.params.items()},
            "halving": self.halving,
            "rows": [json_safe(row) for row in self.rows.to_dict(orient="records")],
            "learning_curve": (
                json_safe(self.learning_curve.to_json()) if self.learning_curve else None
            ),
        }

    def registry_model(self, name: str) -> str:
        """The registry model of a row: its own name, or the model a variant varies."""
        return str(self.variants.get(name, {}).get("model", name))

    def leaders(self, count: int) -> list[str]:
        """The best row of each of the `count` best registry models (the baseline left out)."""
        found: dict[str, str] = {}
        primary = f"{self.primary_metric}_mean"
        for row in self.rows.to_dict(orient="records"):
            model = self.registry_model(row["model"])
            if row["model"] != BASELINE and _is_finite(row[primary]) and model not in found:
                found[model] = row["model"]
        return list(found.values())[:count]


def compare_models(
    config: Config,
    features: pd.DataFrame,
    y: pd.Series,
    models: list[str] | None = None,
    *,
    variants: bool = True,
) -> Leaderboard:
    """Cross-validate the named registry models (default: compare.models), each as its
    variants when compare.variants lists some (variants=False: as configured only), and
    the dummy baseline on identical folds of these labelled rows (the training rows of a
    split), within compare.time_budget_s; Ctrl-C keeps what finished (see fold_fits.py)."""
    task, seed = config.rules, config.train.seed
    check_weights(config, features)
    folds = make_folds(config, features, y, "compare.cv_folds")
    schema = feature_schema(config, features)
    names = models or config.compare.models
    listed = candidates(config, names) if variants else [Candidate(n, n, {}) for n in names]
    # The cores go to the folds, fitted in parallel; a model that could use several cores
    # itself gets one, so that the two do not compete.
    estimators: dict[str, BaseEstimator] = {BASELINE: task.make_baseline()}
    estimators |= {candidate.name: candidate.build(config, schema) for candidate in listed}
    halved_models = _halved_models(config, listed)
    budget_s = config.compare.time_budget_s
    budget_key = config.where("compare.time_budget_s")
    started = time.perf_counter()
    fits = Fits()
    halved: dict[str, Halved] = {}
    rounds: dict[str, list[dict[str, int]]] = {}
    scorer = partial(score, task, weight=config.columns.weight)
    primary = config.evaluation.primary_metric
    n_jobs = config.compute.n_jobs
    with compute_engine(config), parallel_work(), stoppable(budget_s) as stop:
        run_fits(
            fits,
            {name: e for name, e in estimators.items() if split_name(name)[0] not in halved_models},
            features,
            y,
            folds,
            scorer,
            partial(fit_params, config, x=features),
            n_jobs=n_jobs,
            budget=(budget_s, budget_key),
            group_of=lambda name: split_name(name)[0],
            announce=not halved_models,
        )
        for model, group in halved_models.items():
            progress.announce(
                f"compare: halving {len(group)} variants of {model} on {len(folds)} folds"
            )
            base = Candidate(model, model, {}).build(config, schema)
            results, rounds[model] = halve(
                base,
                group,
                features,
                y,
                folds,
                PrimaryScorer(task, primary, config.columns.weight),
                fit_params=fit_params(config, base, features),
                n_jobs=n_jobs,
                seed=seed,
            )
            halved |= results
    complete = fits.complete(len(folds))
    finished = set(complete) | set(halved)
    unfinished = [name for name in estimators if name not in finished]
    if not finished - {BASELINE}:
        _nothing_finished(stop.reason, budget_s, budget_key)
    rows = _rank(task, primary, _as_results(complete), halved, len(y))
    labels = {candidate.name: candidate.label() for candidate in listed}
    rows.insert(1, "params", rows["model"].map(lambda name: labels.get(name, "")))
    kind, column = split_kind(config)
    if kind != "random" and config.compare.random_split_beside and not unfinished:
        with compute_engine(config), parallel_work():
            beside = _random_split_scores(config, estimators, features, y)
        rows = _beside(rows, beside, primary)
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
        fold_hashes={
            name: folds_hash([(folds[s.fold][0], folds[s.fold][1]) for s in scores])
            for name, scores in complete.items()
        },
        params={name: _own_params(estimators[name]) for name in rows["model"]},
        split={"kind": kind, "column": column or None},
        variants={
            c.name: {"model": c.model, "params": json_safe(c.params)} for c in listed if c.params
        },
        strategy=config.compare.strategy,
        stopped=stop.reason if unfinished else None,
        unfinished=unfinished,
        halving=rounds,
        budget_s=budget_s,
        elapsed_s=round(time.perf_counter() - started, 2),
        estimate_s=fits.estimate_s,
        estimators=estimators,
    )


def _halved_models(config: Config, listed: list[Candidate]) -> dict[str, list[Candidate]]:
    """With compare.strategy = "halving", the models with several variants, each with its
    variants: halving tries them (a model with one is simply cross-validated)."""
    if config.compare.strategy != "halving":
        return {}
    groups: dict[str, list[Candidate]] = {}
    for candidate in listed:
        groups.setdefault(candidate.model, []).append(candidate)
    return {model: group for model, group in groups.items() if len(group) > 1}


def _nothing_finished(reason: str | None, budget_s: float, key: str) -> None:
    """Stop a run that kept nothing: Ctrl-C as Ctrl-C does, a spent budget with one line."""
    if reason == INTERRUPTED:
        raise KeyboardInterrupt
    raise BudgetExceeded(
        f"the budget of {budget_s:g} s ({key}) ran out before any model finished its folds: "
        'raise it, compare fewer variants or models, or set compare.strategy = "halving"'
    )


def _as_results(complete: dict[str, list[FoldScore]]) -> dict[str, dict[str, Any]]:
    """The finished candidates' fold scores as cross_validate returns them."""
    results: dict[str, dict[str, Any]] = {}
    for name, scores in complete.items():
        result: dict[str, Any] = {
            "fit_time": [s.fit_time for s in scores],
            "score_time": [s.score_time for s in scores],
        }
        for metric in scores[0].scores:
            result[f"test_{metric}"] = [s.scores[metric] for s in scores]
        results[name] = result
    return results


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


def _rank(
    task: Task,
    primary: str,
    results: dict[str, dict[str, Any]],
    halved: dict[str, Halved] | None = None,
    n_rows: int = 0,
) -> pd.DataFrame:
    """One row per candidate with the mean and spread over folds, best primary metric
    first. Variants that halving left behind (scored on fewer rows: `rows` says how many)
    rank below the rest, the ones that went furthest first."""
    columns = [f"test_{name}" for name in task.metric_names] + list(TIMES)
    records = []
    for model, result in results.items():
        record: dict[str, Any] = {"model": model}
        for column in columns:
            values = np.asarray(result[column], dtype=float)
            name = column.removeprefix("test_")
            record[f"{name}_mean"], record[f"{name}_std"] = values.mean(), values.std()
        records.append(record)
    for model, halving in (halved or {}).items():
        record = {
            f"{name}_{stat}": np.nan for name in task.metric_names for stat in ("mean", "std")
        }
        record |= {
            "model": model,
            f"{primary}_mean": halving.mean,
            f"{primary}_std": halving.std,
            "fit_time_mean": halving.fit_time[0],
            "fit_time_std": halving.fit_time[1],
            "score_time_mean": halving.score_time[0],
            "score_time_std": halving.score_time[1],
            "rows": halving.rows,
            "_behind": 0 if halving.finalist else n_rows - halving.rows,
        }
        records.append(record)
    rows = pd.DataFrame(records)
    if "_behind" not in rows:
        rows["_behind"] = 0
    rows["_behind"] = rows["_behind"].fillna(0)
    return rows.sort_values(
        ["_behind", f"{primary}_mean"],
        ascending=[True, not task.metric(primary).greater_is_better],
        na_position="last",
        kind="stable",
        ignore_index=True,
    ).drop(columns="_behind")


def _is_finite(value: Any) -> bool:
    return not isinstance(value, float) or bool(np.isfinite(value))


# What cannot change how a leaderboard ranks models: how and where a run computes and
# writes, what it reports and checks afterwards, and which models a command runs
# (`train` may keep any of the models a leaderboard ranked). Every other setting is part
# of a ranking's fingerprint, keys added later included.
NOT_RANKING = frozenset(
    {"search", "evaluation", "contract", "inspection", "compute", "dask", "tracking", "outputs"}
)
# In compare: its variants, strategy and budget change which rows a leaderboard holds, not
# how a model as configured ranks (train reuses only such rows).
RUN_LISTS = {
    "train": {"models", "refit_on_all_rows"},
    "compare": {"models", "variants", "strategy", "time_budget_s", "learning_curve"},
}


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
