"""The one training pipeline every mode runs: load, split, fit, evaluate, save.

Modes differ only in their configuration (rows, models, output folder, seed).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from trimode.artifacts import tracking
from trimode.artifacts.manifest import RunRecord, data_fingerprint, git_state, library_versions
from trimode.artifacts.mlflow_model import EXAMPLE_ROWS
from trimode.artifacts.model_card import model_card
from trimode.artifacts.model_file import save_model
from trimode.artifacts.publish import check_output_root, publishing, recover
from trimode.config.model import Config
from trimode.config.passwords import in_files_of
from trimode.core import steps
from trimode.core.errors import DataError, ProjectError, QualityGateFailed
from trimode.core.io import read_json, write_atomically, write_json
from trimode.core.kinds import kind_of
from trimode.core.layout import LEADERBOARD_JSON, MANIFEST_FILE, METRICS_FILE, MODEL_CARD_FILE
from trimode.core.secrets import redact
from trimode.core.specs import FeatureSchema
from trimode.core.tasks import Task
from trimode.data.loading import load_dataset
from trimode.data.sampling import FetchResult, frame_hash
from trimode.modelling.column_advice import column_notes
from trimode.modelling.compare import ranked, ranking_fingerprint
from trimode.modelling.compute import compute_engine
from trimode.modelling.evaluation import (
    PredictedOnce,
    check_class_thresholds,
    decided,
    fit_baseline,
    gate_checks,
    lift,
    per_class,
    score,
    weak_classes,
)
from trimode.modelling.importance import permutation_importances
from trimode.modelling.quality import near_leak_warning, near_leaks
from trimode.modelling.registry import (
    class_path,
    class_weight_warning,
    feature_schema,
    preprocessing_of,
    qualified_name,
)
from trimode.modelling.split_advice import split_warnings
from trimode.modelling.splitting import Split, split_rows
from trimode.modelling.timing import StepTimer
from trimode.modelling.tuning import fit_best
from trimode.modelling.weights import check_weights, fit_params, weight_warning

__all__ = ["Split", "TrainingResult", "split_rows", "train"]


@dataclass(frozen=True)
class TrainingResult:
    """What a run produced: the fitted model, its record (manifest.json's content) and
    where it went."""

    model: Pipeline
    # The run's record as written to manifest.json (see artifacts/manifest.py).
    manifest: dict[str, Any]
    output_dir: Path
    split: Split
    # The feature schema the model was built for (recorded in the manifest too).
    schema: FeatureSchema
    timer: StepTimer
    # The sample fetched before training, when there was no up-to-date one.
    fetched: FetchResult | None = None
    # What the user should read: columns that look misassigned, a class never predicted.
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def train(config: Config, models: list[str] | None = None) -> TrainingResult:
    """Run the pipeline in the configured mode and publish its outputs; return the result.

    Outputs appear under the mode's output root only when the whole run succeeds (and,
    with evaluation.gate, passes the quality gate); see publish.py.
    """
    timer = StepTimer(config.compute.time_budget_s, config.where("compute.time_budget_s"))
    with timer.watching(), compute_engine(config) as engine:
        return _train(config, models, engine, timer)


def _train(
    config: Config, models: list[str] | None, engine: dict[str, Any], timer: StepTimer
) -> TrainingResult:
    started = datetime.now(UTC)
    # Before the work: a password in a committed config is seen at once (by key, never
    # shown), whether the run ends well or not.
    for found in in_files_of(config):
        print(f"warning: {found.advice()}", file=sys.stderr)
    output_root, key = config.output_dir, config.where("outputs.root")
    recover(output_root)
    tracking.check_store(config)  # a store it may not write: before the work
    check_output_root(output_root, key)  # a folder it may not replace: before the work
    with timer.step("load", f"source {redact(config.data.source)!r}"):
        loaded = load_dataset(config)
        source = loaded.source
        fingerprint = data_fingerprint(loaded.frame, source, frame_hash(loaded.frame))
    with timer.step("split", f"target {config.data.target!r}"):
        check_weights(config, loaded.frame)
        split = split_rows(loaded.frame, config)
        if config.rules.has_classes:  # a class the data lacks: before the fit
            check_class_thresholds(
                config, pd.unique(pd.concat([split.y_train, split.y_test])).tolist()
            )
    with steps.step("features", "add_features and the column roles"):
        schema = feature_schema(config, loaded.frame)
    not_read = {config.data.target, *schema.ids, *schema.dropped}
    inputs = [str(name) for name in loaded.frame.columns if name not in not_read]
    numeric_inputs = [name for name in inputs if kind_of(loaded.frame[name]) == "number"]
    # Notes and warnings go into the manifest and the report: no password.
    notes = [redact(note) for note in [*loaded.notes, *column_notes(loaded.frame, schema, config)]]
    warnings = [
        redact(item) for item in [*loaded.warnings, *split_warnings(loaded.frame, schema, config)]
    ]
    # The split holds its own copies of the rows: the loaded frame goes before the fit,
    # the run's peak of memory (an empty frame of its columns stays in its place).
    loaded = replace(loaded, frame=loaded.frame.iloc[:0])
    names = models or config.train.models
    ranking = _compared_already(config, names, fingerprint["content_hash"])
    if ranking is not None:
        notes.append(
            f"kept {ranking[0]}, which the leaderboard `compare` wrote on these rows ranks "
            "first (its cross-validation not run again)"
        )
    with timer.step("fit", "model " + ", ".join(map(repr, names))):
        name, model, candidates, threshold, search = fit_best(config, names, schema, split, ranking)
    with timer.step("evaluate", f"model {name!r}"):
        # One pass over the held-out rows serves the metrics and the per-class table.
        task = config.rules
        held_out = PredictedOnce(decided(model, threshold), split.x_test)
        weight = config.columns.weight
        metrics = score(task, held_out, split.x_test, split.y_test, weight)
        baseline_model = fit_baseline(task, split.x_train, split.y_train, weight)
        baseline = score(task, baseline_model, split.x_test, split.y_test, weight)
        classes, table, weak = None, None, {}
        warnings += class_weight_warning(config, names) + weight_warning(config, names)
        if task.has_classes:
            table = per_class(split.y_test, held_out.predict(split.x_test), model.classes_)
            classes = table.reset_index().to_dict(orient="records")
            weak = weak_classes(table, config)
            warnings += weak.values()
        scores, suspicious = near_leaks(config, task, schema, split)
        if suspicious:
            warnings.append(near_leak_warning(suspicious, config))
    primary = config.evaluation.primary_metric
    _require_defined(config, task, metrics[primary], split.y_test)
    primary_lift = lift(task, primary, metrics[primary], baseline[primary])
    checks = gate_checks(config, metrics, primary_lift, table)
    gate = {
        "enforced": config.evaluation.gate,
        "passed": all(check["passed"] for check in checks),
        "checks": checks,
    }
    if config.evaluation.gate and not gate["passed"]:
        raise QualityGateFailed(_gate_failure(config, checks))
    importance = None
    if config.inspection.importance_repeats:
        # The model as judged (before any refit), on the rows it was judged on.
        with timer.step("importance", f"model {name!r}"):
            importance = permutation_importances(
                task,
                primary,
                decided(model, threshold),  # labels at the decision threshold, as judged
                split.x_test,
                split.y_test,
                columns=inputs,
                max_rows=config.inspection.importance_rows,
                repeats=config.inspection.importance_repeats,
                seed=config.train.seed,
                weight=config.columns.weight,
            )
    if config.train.refit_on_all_rows:
        with timer.step("refit"):
            x_all = pd.concat([split.x_train, split.x_test])
            model = clone(model).fit(
                x_all, pd.concat([split.y_train, split.y_test]), **fit_params(config, model, x_all)
            )
    with steps.step("publish", str(output_root)), publishing(output_root, key) as staging:
        with timer.step("save"):
            artifact = save_model(staging, model)
        run = RunRecord(
            mode=config.mode,
            task=config.task,
            model=name,
            target=config.data.target,
            estimator=class_path(model.named_steps["model"]),
            params=model.named_steps["model"].get_params(deep=False),
            preprocessing=qualified_name(preprocessing_of(config.project, config.task, name)),
            features={
                **schema.to_record(),
                # A derived column (features.py's add_features) is not in the source.
                "dtypes": {
                    column: fingerprint["schema"].get(column, "derived")
                    for column in schema.columns
                },
                "roles": schema.roles(config.data.target),
                # What the model reads from a row (predict checks an input has them).
                "inputs": inputs,
                "numeric_inputs": numeric_inputs,
            },
            classes=getattr(model, "classes_", None),
            config={**config.raw, "data": {**config.raw.get("data", {}), "source": source}},
            config_files=sorted({str(path) for path in config.origin.values()}),
            git=git_state(config.root),
            data={**fingerprint, "dropped_missing_target": loaded.dropped_missing_target},
            contract=loaded.contract,
            split=split.record,
            libraries=library_versions(),
            compute=engine,
            primary_metric=primary,
            metrics=metrics,
            baseline=baseline,
            lift_over_baseline=primary_lift,
            min_lift_over_baseline=config.evaluation.min_lift_over_baseline,
            beats_baseline=bool(primary_lift >= config.evaluation.min_lift_over_baseline),
            per_class=classes,
            importance=importance,
            candidates=candidates,
            warnings=warnings,
            notes=notes,
            findings={
                "weak_classes": list(weak),
                "near_leaks": suspicious,
                "single_feature_scores": scores,
            },
            gate=gate,
            search=search,
            decision_threshold=threshold,
            refit_on_all_rows=config.train.refit_on_all_rows,
            timings_s=dict(timer.durations),
            duration_s=timer.total,
            started_at=started.isoformat(timespec="seconds"),
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            artifact=artifact,
        )
        manifest = run.to_json()
        write_json(staging / MANIFEST_FILE, manifest)
        write_json(staging / METRICS_FILE, run.metrics_json())
        card = model_card(manifest)
        write_atomically(staging / MODEL_CARD_FILE, lambda path: path.write_text(card, "utf-8"))
    tracking.after(
        "train",
        config,
        manifest=manifest,
        output_dir=output_root,
        model=model,
        rows=split.x_train.head(EXAMPLE_ROWS),
    )
    return TrainingResult(
        model=decided(model, threshold),
        manifest=manifest,
        output_dir=output_root,
        split=split,
        schema=schema,
        timer=timer,
        fetched=loaded.fetched,
        notes=notes,
        warnings=warnings,
    )


def _require_defined(config: Config, task: Task, value: float, y_test: pd.Series) -> None:
    """Refuse, before anything is published, a run whose held-out rows cannot judge the
    model: its primary metric is undefined there (one class only, too few rows), or the
    project's own metric returned no number on rows that can judge (its function's fault:
    more rows would not help)."""
    if np.isfinite(value):
        return
    metric = config.evaluation.primary_metric
    classes = y_test.unique().tolist()
    where = getattr(task.metric(metric).compute, "where", "")  # "" for scikit-learn's
    if where and (len(classes) > 1 or not task.has_classes):
        raise ProjectError(
            f"{where} returned {value} on the {len(y_test)} held-out rows, which can judge a "
            f"model{f' ({len(classes)} classes)' if task.has_classes else ''}: nothing was "
            "published; the function must return a number for rows like these"
        )
    why = f"; they hold one class only ({classes[0]!r})" if len(classes) == 1 else ""
    raise DataError(
        f"{metric} is undefined on the {len(y_test)} held-out row(s){why}: nothing was "
        f"published; use more rows ({config.where('data.max_rows')}) or a larger "
        f"{config.where('data.test_fraction')}"
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


def _compared_already(
    config: Config, names: list[str], data_hash: str
) -> tuple[str, dict[str, Any]] | None:
    """The ranking of these models by the leaderboard `compare` left in the output root,
    when it ranked them all on these rows with the same settings and code (the same
    compare.ranking_fingerprint); None otherwise, or with one model."""
    path = config.output_dir / LEADERBOARD_JSON
    if len(names) < 2 or not path.is_file():
        return None
    try:
        leaderboard = read_json(path)
        if (leaderboard.get("made_by") or {}).get("ranking") != ranking_fingerprint(
            config, data_hash
        ) or not set(names) <= {row["model"] for row in leaderboard["rows"]}:
            return None
        return ranked(leaderboard, names)
    except (ProjectError, KeyError, TypeError, AttributeError):
        return None  # not a leaderboard this version wrote: cross-validate again
