"""The one training pipeline every mode runs: load, split, fit, evaluate, save.

Modes differ only in their configuration (rows, models, output folder, seed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from .artifacts import git_commit, save_metrics, save_model
from .compute import limit_threads
from .config import Config
from .data import load_dataset
from .errors import DataError
from .evaluation import finite, fit_baseline, is_better, lift, score
from .models import build_model
from .preprocessing import FeatureSchema, infer_schema
from .sampling import FetchResult
from .timing import StepTimer


@dataclass(frozen=True)
class Split:
    """Features and target of the training rows and of the held-out rows."""

    x_train: pd.DataFrame
    x_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


@dataclass(frozen=True)
class TrainingResult:
    """What a run produced: the fitted model, its metrics record and where both went."""

    model: Pipeline
    record: dict[str, Any]
    output_dir: Path
    split: Split
    timer: StepTimer
    # The sample fetched before training, when there was no up-to-date one.
    fetched: FetchResult | None = None


def train(
    config: Config, workdir: Path | str = ".", models: list[str] | None = None
) -> TrainingResult:
    """Run the pipeline in the configured mode and write its outputs; return the result."""
    with limit_threads(config.compute.n_jobs):
        return _train(config, Path(workdir), models)


def _train(config: Config, workdir: Path, models: list[str] | None) -> TrainingResult:
    timer = StepTimer(config.compute.time_budget_s, config.where("compute.time_budget_s"))
    started = datetime.now(UTC)
    with timer.step("load"):
        loaded = load_dataset(config, workdir)
    with timer.step("split"):
        split = split_rows(loaded.frame, config)
    schema = infer_schema(loaded.frame, config.data.target)
    names = models or config.train.models
    with timer.step("fit"):
        name, model, candidates = fit_best(config, names, schema, split)
    with timer.step("evaluate"):
        metrics = score(config.task, model, split.x_test, split.y_test)
        baseline_model = fit_baseline(config.task, split.x_train, split.y_train)
        baseline = score(config.task, baseline_model, split.x_test, split.y_test)
    primary = config.evaluation.primary_metric
    primary_lift = lift(config.task, primary, metrics[primary], baseline[primary])
    record = {
        "mode": config.mode,
        "model": name,
        "task": config.task,
        "n_rows": len(loaded.frame),
        "n_train": len(split.y_train),
        "n_test": len(split.y_test),
        "source": loaded.source,
        "primary_metric": primary,
        "metrics": finite(metrics),
        "baseline": finite(baseline),
        "lift_over_baseline": primary_lift,
        "min_lift_over_baseline": config.evaluation.min_lift_over_baseline,
        "beats_baseline": bool(primary_lift >= config.evaluation.min_lift_over_baseline),
        "candidates": candidates,
        "seed": config.train.seed,
        "git_commit": git_commit(workdir),
        "started_at": started.isoformat(timespec="seconds"),
    }
    output_dir = workdir / config.outputs.root
    with timer.step("save"):
        save_model(output_dir, model)
    record.update(timings_s=dict(timer.durations), duration_s=timer.total)
    save_metrics(output_dir, record)
    return TrainingResult(
        model=model,
        record=record,
        output_dir=output_dir,
        split=split,
        timer=timer,
        fetched=loaded.fetched,
    )


def split_rows(frame: pd.DataFrame, config: Config) -> Split:
    """Hold out rows for evaluation; classes keep their shares when they can."""
    target = config.data.target
    labelled = frame[frame[target].notna()]
    features, y = labelled.drop(columns=[target]), labelled[target]
    n_test = round(len(labelled) * config.data.test_fraction)
    if n_test < 1 or n_test >= len(labelled):
        raise DataError(
            f"{len(labelled)} labelled rows cannot be split with data.test_fraction = "
            f"{config.data.test_fraction}; use more rows"
        )
    stratify = None
    if config.task == "classification" and y.value_counts().min() >= 2:
        stratify = y
    x_train, x_test, y_train, y_test = train_test_split(
        features, y, test_size=n_test, random_state=config.train.seed, stratify=stratify
    )
    return Split(x_train, x_test, y_train, y_test)


def fit_best(
    config: Config, names: list[str], schema: FeatureSchema, split: Split
) -> tuple[str, Pipeline, dict[str, dict[str, float]]]:
    """Fit the named models; with several, keep the best on a validation split.

    The validation rows come out of the training rows, so the held-out test rows
    judge only the model that was kept. The kept model is refit on all training rows.
    """
    task = config.task

    def build(name: str) -> Pipeline:
        return build_model(task, name, schema, config.train.seed, config.compute.n_jobs)

    if len(names) == 1:
        model = build(names[0]).fit(split.x_train, split.y_train)
        return names[0], model, {}
    inner = split_rows(pd.concat([split.x_train, split.y_train], axis=1), config)
    primary = config.evaluation.primary_metric
    candidates: dict[str, dict[str, float]] = {}
    best: str | None = None
    for name in names:
        model = build(name).fit(inner.x_train, inner.y_train)
        candidates[name] = finite(score(task, model, inner.x_test, inner.y_test))
        value = candidates[name][primary]
        if value is not None and (
            best is None or is_better(task, primary, value, candidates[best][primary])
        ):
            best = name
    if best is None:
        raise DataError(f"no model gave a finite {primary} on the validation rows")
    model = build(best).fit(split.x_train, split.y_train)
    return best, model, candidates
