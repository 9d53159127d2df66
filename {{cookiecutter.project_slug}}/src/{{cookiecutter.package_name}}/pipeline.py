"""The one training pipeline every mode runs: load, split, fit, evaluate, save.

Modes differ only in their configuration (rows, models, output folder, seed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from .artifacts import MANIFEST_FILE, save_metrics, save_model
from .compute import compute_engine
from .config import Config
from .data import load_dataset
from .errors import DataError, QualityGateFailed
from .evaluation import finite, fit_baseline, gate_checks, is_better, lift, score
from .manifest import build_manifest, data_fingerprint, git_state, library_versions, plain
from .preprocessing import FeatureSchema, infer_schema
from .publish import publishing, recover
from .sampling import FetchResult, frame_hash
from .sources import redact
from .timing import StepTimer
from .tuning import fit_model


@dataclass(frozen=True)
class Split:
    """Features and target of the training rows and of the held-out rows."""

    x_train: pd.DataFrame
    x_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


@dataclass(frozen=True)
class TrainingResult:
    """What a run produced: the fitted model, its metrics record, its manifest and where
    they went."""

    model: Pipeline
    record: dict[str, Any]
    manifest: dict[str, Any]
    output_dir: Path
    split: Split
    timer: StepTimer
    # The sample fetched before training, when there was no up-to-date one.
    fetched: FetchResult | None = None


def train(
    config: Config, workdir: Path | str = ".", models: list[str] | None = None
) -> TrainingResult:
    """Run the pipeline in the configured mode and publish its outputs; return the result.

    Outputs appear under the mode's output root only when the whole run succeeds (and,
    with evaluation.gate, passes the quality gate); see publish.py.
    """
    with compute_engine(config) as engine:
        return _train(config, Path(workdir), models, engine)


def _train(
    config: Config, workdir: Path, models: list[str] | None, engine: dict[str, Any]
) -> TrainingResult:
    timer = StepTimer(config.compute.time_budget_s, config.where("compute.time_budget_s"))
    started = datetime.now(UTC)
    output_root = workdir / config.outputs.root
    recover(output_root)
    with timer.step("load"):
        loaded = load_dataset(config, workdir)
        source = redact(loaded.source)
        fingerprint = data_fingerprint(loaded.frame, source, frame_hash(loaded.frame))
    with timer.step("split"):
        split = split_rows(loaded.frame, config)
    schema = infer_schema(loaded.frame, config.data.target)
    names = models or config.train.models
    with timer.step("fit"):
        name, model, candidates, search = fit_best(config, names, schema, split)
    with timer.step("evaluate"):
        metrics = score(config.task, model, split.x_test, split.y_test)
        baseline_model = fit_baseline(config.task, split.x_train, split.y_train)
        baseline = score(config.task, baseline_model, split.x_test, split.y_test)
    primary = config.evaluation.primary_metric
    primary_lift = lift(config.task, primary, metrics[primary], baseline[primary])
    checks = gate_checks(config, metrics, primary_lift)
    gate = {
        "enforced": config.evaluation.gate,
        "passed": all(check["passed"] for check in checks),
        "checks": checks,
    }
    if config.evaluation.gate and not gate["passed"]:
        raise QualityGateFailed(_gate_failure(config, checks))
    if config.train.refit_on_all_rows:
        with timer.step("refit"):
            model = clone(model).fit(
                pd.concat([split.x_train, split.x_test]), pd.concat([split.y_train, split.y_test])
            )
    git = git_state(workdir)
    record = {
        "mode": config.mode,
        "model": name,
        "task": config.task,
        "n_rows": len(loaded.frame),
        "n_train": len(split.y_train),
        "n_test": len(split.y_test),
        "source": source,
        "primary_metric": primary,
        "metrics": finite(metrics),
        "baseline": finite(baseline),
        "lift_over_baseline": primary_lift,
        "min_lift_over_baseline": config.evaluation.min_lift_over_baseline,
        "beats_baseline": bool(primary_lift >= config.evaluation.min_lift_over_baseline),
        "gate": gate,
        "candidates": candidates,
        "search": search,
        "refit_on_all_rows": config.train.refit_on_all_rows,
        "seed": config.train.seed,
        "git_commit": git["commit"],
        "started_at": started.isoformat(timespec="seconds"),
    }
    with publishing(output_root) as staging:
        with timer.step("save"):
            artifact = save_model(staging, model)
        record.update(timings_s=dict(timer.durations), duration_s=timer.total)
        manifest = build_manifest(
            record,
            target=config.data.target,
            params=plain(model.named_steps["model"].get_params(deep=False)),
            features={
                "numeric": list(schema.numeric),
                "categorical": list(schema.categorical),
                "dtypes": {column: fingerprint["schema"][column] for column in schema.columns},
            },
            classes=plain(getattr(model, "classes_", None)),
            config={**config.raw, "data": {**config.raw.get("data", {}), "source": source}},
            config_files=sorted({str(path) for path in config.origin.values()}),
            git=git,
            data=fingerprint,
            split={
                "n_train": record["n_train"],
                "n_test": record["n_test"],
                "test_fraction": config.data.test_fraction,
                "seed": config.train.seed,
            },
            libraries=library_versions(),
            compute=engine,
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            artifact=artifact,
        )
        save_metrics(staging, record)
        save_metrics(staging, manifest, MANIFEST_FILE)
    return TrainingResult(
        model=model,
        record=record,
        manifest=manifest,
        output_dir=output_root,
        split=split,
        timer=timer,
        fetched=loaded.fetched,
    )


def _gate_failure(config: Config, checks: list[dict[str, Any]]) -> str:
    """The one-line reason a run was not published: each failed check, and where to look."""
    failed = "; ".join(
        f"{check['check']} is {check['value']:.4g}, required {check['required']}"
        for check in checks
        if not check["passed"]
    )
    return (
        f"quality gate failed in {config.mode} mode, nothing was published "
        f"({config.outputs.root}/ is unchanged): {failed} "
        f"(see {config.where('evaluation.min_lift_over_baseline')} and "
        f"{config.where('evaluation.thresholds')})"
    )


def split_rows(frame: pd.DataFrame, config: Config) -> Split:
    """Hold out rows for evaluation; classes keep their shares when they can."""
    target = config.data.target
    known = frame[target].notna()
    labelled = frame if known.all() else frame[known]  # no copy when every row is labelled
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
) -> tuple[str, Pipeline, dict[str, dict[str, float]], dict[str, Any] | None]:
    """Fit the named models (tuned when search.enabled); with several, keep the best on a
    validation split. Return the kept model's name, the model, every candidate's
    validation scores, and the kept model's search record.

    The validation rows come out of the training rows, so the held-out test rows
    judge only the model that was kept. The kept model is refit on all training rows.
    """
    task = config.task
    if len(names) == 1:
        model, search = fit_model(config, names[0], schema, split.x_train, split.y_train)
        return names[0], model, {}, search
    inner = split_rows(pd.concat([split.x_train, split.y_train], axis=1), config)
    primary = config.evaluation.primary_metric
    candidates: dict[str, dict[str, float]] = {}
    best: str | None = None
    for name in names:
        model, _ = fit_model(config, name, schema, inner.x_train, inner.y_train)
        candidates[name] = finite(score(task, model, inner.x_test, inner.y_test))
        value = candidates[name][primary]
        if value is not None and (
            best is None or is_better(task, primary, value, candidates[best][primary])
        ):
            best = name
    if best is None:
        raise DataError(f"no model gave a finite {primary} on the validation rows")
    model, search = fit_model(config, best, schema, split.x_train, split.y_train)
    return best, model, candidates, search
