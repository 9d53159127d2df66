"""Checks of a mode's merged configuration that need more than one key: the output root,
the metrics and the quality guard against the task, the column roles.

Each check yields Problems (wording.py), gathered with every other problem of the load
so that one run reports them all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from trimode.config.model import Config
from trimode.config.wording import Problem
from trimode.core.errors import ConfigError
from trimode.core.locations import under_root
from trimode.core.metrics import UnknownMetric, metric_named
from trimode.core.project import Project
from trimode.core.tasks import PER_CLASS_FIGURES, per_class_key, task_named
from trimode.core.tasks import Task as TaskRules
from trimode.core.writes import OUTPUTS, PROTECTED, WriteRefused

# Folders of the project a run's output root must never be, hold or lie inside: those no
# run writes (the write guard's), and data/, whose sample folders a run replaces apart.
PROJECT_FOLDERS = (*PROTECTED, "data")


def problem(config: Config, key: str, text: str, named: str | None = None) -> Problem:
    """A problem of the merged config: the file that set the key says `key '<named>' <text>`."""
    file = config.file_of(key)
    return Problem(file, key, f"{file}: key '{named or key}' {text}")


def check_outputs_root(config: Config, protected: list[Path]) -> Iterator[Problem]:
    """An output root is a folder of its own inside the project (a run replaces it whole):
    not the project, not one of its own folders or files, not holding or inside one."""
    value, root, key = config.outputs.root, config.root, "outputs.root"
    # Where the path points, links kept: an outputs/ that links to a bigger disk still
    # lies in the project.
    resolved = Path(os.path.normpath(under_root(value, root)))
    refuse = f"= {value!r}"
    if Path(value).name in ("", ".", "..") or root.is_relative_to(resolved):
        yield problem(
            config, key, f"{refuse} would hold the whole project: name a folder of its own"
        )
        return
    for folder in protected:
        if resolved == folder or resolved.is_relative_to(folder) or folder.is_relative_to(resolved):
            yield problem(
                config,
                key,
                f"{refuse} is, holds or lies in the project's own folder {folder.name}/: "
                "a run replaces its output root, so name a folder of its own (e.g. outputs/<mode>)",
            )
            return
    for parent in (resolved, *resolved.parents):
        if parent.is_file():
            yield problem(config, key, f"{refuse}: {parent} is a file, not a folder")
            return
        if parent == root:
            break
    if not resolved.is_relative_to(root) and not config.outputs.allow_outside_project:
        yield problem(
            config,
            key,
            f"{refuse} lies outside the project {root}: set outputs.allow_outside_project = "
            "true to write there (a folder this project did not make is still never replaced)",
        )
        return
    try:  # and every rule of place of the write guard: never in or over the data source
        config.guard.place(resolved, key, OUTPUTS)
    except WriteRefused as refused:
        yield problem(config, key, f"{refuse}: {str(refused).removeprefix(key + ': ')}")


def _check_guard(config: Config, task: TaskRules) -> Iterator[Problem]:
    """The quality guard keeps a constant model out: a lift above 0, thresholds a model
    can meet and a constant one cannot, unless evaluation.allow_no_lift says otherwise."""
    known_metrics = task.metric_names
    evaluation = config.evaluation
    allowed = evaluation.allow_no_lift
    if evaluation.min_lift_over_baseline <= 0 and not allowed:
        yield problem(
            config,
            "evaluation.min_lift_over_baseline",
            "must be above 0 (a model must beat the dummy baseline), got "
            f"{evaluation.min_lift_over_baseline}; set evaluation.allow_no_lift = true to "
            "accept a model no better than the baseline",
        )
    key = "evaluation.thresholds"
    if evaluation.near_leak_threshold > evaluation.leakage_threshold:
        yield problem(
            config,
            "evaluation.near_leak_threshold",
            f"= {evaluation.near_leak_threshold} lies above evaluation.leakage_threshold "
            f"({evaluation.leakage_threshold}): a suspicious feature is named below a leak",
        )
    for metric, bound in evaluation.thresholds.items():
        if per_class_key(metric):
            yield from _check_class_threshold(config, task, metric, bound)
            continue
        if metric not in known_metrics:
            if metric != evaluation.primary_metric:  # an unknown primary metric is said once
                yield problem(
                    config,
                    key,
                    f"names unknown metric {metric!r} (expected {', '.join(known_metrics)} "
                    f"for task {config.task})",
                )
            continue
        low, high, constant = task.metric(metric).range
        if not low <= bound <= high:
            yield problem(
                config,
                key,
                f"sets {metric} = {bound}, which no model can reach ({metric} lies in "
                f"[{low}, {high}])",
            )
        elif constant is not None and bound <= constant and not allowed:
            yield problem(
                config,
                key,
                f"sets {metric} = {bound}, which a constant model reaches ({constant}): set "
                "it above, or evaluation.allow_no_lift = true",
            )


def _check_class_threshold(
    config: Config, task: TaskRules, key: str, bound: float
) -> Iterator[Problem]:
    """A per-class threshold ("recall.dead") names a figure of the per-class table, for a
    task with classes, within [0, 1]; its class is checked against the data (train)."""
    figure, _ = per_class_key(key) or ("", "")
    if not task.has_classes:
        yield problem(
            config,
            "evaluation.thresholds",
            f"names {key!r}, a threshold for one class: task {task.name} has no classes",
        )
    elif figure not in PER_CLASS_FIGURES:
        yield problem(
            config,
            "evaluation.thresholds",
            f"names {key!r}: a threshold for one class is one of "
            f"{', '.join(f + '.<class>' for f in PER_CLASS_FIGURES)}, got {figure!r}",
        )
    elif not 0 <= bound <= 1:
        yield problem(
            config,
            "evaluation.thresholds",
            f"sets {key} = {bound}, which no model can reach ({figure} lies in [0, 1])",
        )


def check_columns(config: Config) -> Iterator[Problem]:
    """A column has one role at most, and the target has none."""
    columns, target = config.columns, config.data.target
    seen: dict[str, str] = {}
    for role in ("drop", "ids", "dates", "text"):
        key = f"columns.{role}"
        for name in getattr(columns, role):
            if name == target:
                yield problem(
                    config,
                    key,
                    f"names the target column {target!r} (data.target); the target has no "
                    "other role",
                )
            elif name in seen:
                yield problem(
                    config,
                    key,
                    f"names column {name!r}, which columns.{seen[name]} names too: give a "
                    "column one role",
                )
            else:
                seen[name] = role
    weight = columns.weight
    if weight == target or weight in seen:
        other = "data.target" if weight == target else f"columns.{seen[weight]}"
        yield problem(
            config,
            "columns.weight",
            f"names column {weight!r}, which {other} names too: give a column one role",
        )
    yield from _check_split_columns(config, seen)


def _check_split_columns(config: Config, roles: dict[str, str]) -> Iterator[Problem]:
    """The group column is no feature and not the target, nor the time column: rows are
    split by one of them. The time column may be a date feature too (its parts)."""
    group, time, target = config.columns.group, config.columns.time, config.data.target
    if group and time:
        yield problem(
            config,
            "columns.group",
            f"= {group!r} and columns.time = {time!r} are both set: rows are split by one "
            'of them; leave the other ""',
        )
    for key, name in (("columns.group", group), ("columns.time", time)):
        if name == target:
            yield problem(config, key, f"names the target column {target!r} (data.target)")
    if group in roles and roles[group] != "ids":
        yield problem(
            config,
            "columns.group",
            f"names column {group!r}, which columns.{roles[group]} names too: a group column "
            "is no feature",
        )


def check_metrics(config: Config) -> Iterator[Problem]:
    """Check the primary metric is a metric (the task's, a scikit-learn scorer or the
    user's: core/metrics.py), and the quality guard's numbers against each metric's range."""
    try:
        task = config.rules
    except UnknownMetric as error:
        yield problem(config, "evaluation.primary_metric", f"names {error}")
        task = task_named(config.task)
    yield from _check_guard(config, task)
    yield from _check_decision(config, task)


def _check_decision(config: Config, task: TaskRules) -> Iterator[Problem]:
    """A decision threshold and class weights are for classes; a threshold tuned for
    "cost" needs a metric of that name (the user's: core/metrics.py)."""
    threshold = config.evaluation.threshold
    for key, value in (
        ("evaluation.threshold", threshold),
        ("train.class_weight", config.train.class_weight),
    ):
        if value != "" and not task.has_classes:
            yield problem(
                config, key, f"= {value!r} is for classification, not task {task.name}: remove it"
            )
    if threshold == "cost" and task.has_classes:
        try:
            metric = metric_named(task, "cost", _project_of(config))
        except ConfigError as error:
            yield problem(config, "evaluation.threshold", f"= 'cost': {error}")
            return
        if metric is None:
            yield problem(
                config,
                "evaluation.threshold",
                "= 'cost' tunes the threshold for your metric named 'cost', and there is none: "
                "add it to METRICS in the module [tool.trimode] metrics names",
            )


def _project_of(config: Config) -> Project | None:
    """The config's project; None for configs outside one (tests of the config alone)."""
    try:
        return config.project
    except ConfigError:
        return None


def check_compute(config: Config) -> Iterator[Problem]:
    """compute.n_jobs is at most this machine's cores (more would start workers that only
    wait for a core); a Dask cluster's cores are the cluster's to count."""
    cores, n_jobs = os.cpu_count(), config.compute.n_jobs
    if config.compute.engine == "local" and cores and n_jobs > cores:
        yield problem(
            config,
            "compute.n_jobs",
            f"= {n_jobs} is more than this machine's {cores} cores: set at most {cores}, or -1 "
            "(all cores)",
        )
