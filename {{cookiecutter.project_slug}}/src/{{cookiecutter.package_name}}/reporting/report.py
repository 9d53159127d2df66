"""The HTML report of a mode: metrics against the baseline, the leaderboard, the data,
and the error analysis, in one self-contained page to explore that opens offline.

Plots are PNG images embedded in the page; its style (page.css) and script (page.js,
plain JavaScript, no library) are inlined, and the held-out rows the slice explorer
works on are embedded as JSON (explorer.py): nothing is fetched when it opens. The
page reads without its script; the script makes the larger tables sortable and
filterable and fills the explorer. Every piece of text comes out escaped.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from sklearn.pipeline import Pipeline

from ..ingest.loading import load_dataset
from ..modelling.compute import limit_threads
from ..modelling.splitting import Split, split_rows
from ..modelling.tasks import task_named
from ..publishing.artifacts import MODEL_FILE, load_model, read_manifest
from ..publishing.files import read_json, write_atomically
from ..publishing.publish import check_output_root, writing_into
from ..run.config import Config
from ..run.errors import ProjectError
from ..run.extensions import after
from ..run.extensions import tracked_runs as tracked_by_extensions
from ..yours.features import FeatureSchema, infer_schema, schema_of
from . import plots
from .expectations import expectations_section
from .explorer import explorer_rows
from .inspection import (
    Contrast,
    confusion,
    contrast_groups,
    data_summary,
    residuals_by_feature,
    worst_predictions,
    worst_slices,
)

REPORT_FILE = "report.html"
LEADERBOARD_FILE = "leaderboard.json"
# The id of the <script type="application/json"> block holding the explorer's rows.
EXPLORER_DATA_ID = "explorer-rows"

# A tracked run, as the "runs tracked so far" panel takes it (see build_report).
TrackedRun = Mapping[str, Any]


def build_report(config: Config, tracked_runs: Sequence[TrackedRun] | None = None) -> Path:
    """Write outputs/<mode>/report.html from the mode's saved model, metrics and data.

    tracked_runs, when given and not empty, adds the panel "Runs tracked so far": a
    sortable table of one row per run, in the order given. Each run is a mapping with
    the keys run_id, started (text, e.g. an ISO time), model, and metrics (a mapping of
    metric name to number); any other key whose value is a number, text or boolean
    becomes a column too (e.g. mode, status). Not given, the runs experiment tracking
    recorded so far (when it is on for the mode); without any, the page has no panel.
    """
    if tracked_runs is None:  # the runs tracking recorded, when it is on for the mode
        tracked_runs = tracked_by_extensions(config)
    with limit_threads(config.compute.n_jobs):
        return _build_report(config, list(tracked_runs or []))


def _build_report(config: Config, tracked_runs: list[TrackedRun]) -> Path:
    output_dir, key = config.output_dir, config.where("outputs.root")
    check_output_root(output_dir, key)  # a folder it may not write into: before the work
    record = read_mode_manifest(output_dir, config.mode)
    model = load_model(output_dir / MODEL_FILE, record)
    described = _artifact_hash(record)
    split = split_rows(load_dataset(config).frame, config)
    schema = schema_of(model)
    sections = [
        _header(config, record, described),
        _warnings_section(record),
        _metrics_section(config, record),
        _per_class_section(record),
        _leaderboard_section(output_dir / LEADERBOARD_FILE, record),
        _tracked_runs_section(tracked_runs),
        _data_section(config, split),
        *_error_sections(config, model, split, schema),
        expectations_section(task_named(config.task), model, split.x_test),
    ]
    rows = explorer_rows(model, split.x_test, split.y_test, task_named(config.task), schema)
    title = f"{record.get('model', 'model')} — {config.mode} mode report"
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        # The model this page describes, for tools and people checking it is the one beside.
        f'<meta name="trimode-model-sha256" content="{_text(described)}">\n'
        f"<style>\n{_asset('page.css')}</style>\n</head>\n<body>\n"
        + "\n".join(section for section in sections if section)
        + f"\n{_json_block(EXPLORER_DATA_ID, rows)}\n<script>\n{_asset('page.js')}</script>\n"
        + "</body>\n</html>\n"
    )
    path = output_dir / REPORT_FILE
    with writing_into(output_dir, key):
        # A train that published meanwhile replaced the model: this page describes the
        # one before, and must not land beside the new one.
        if _artifact_hash(read_manifest(output_dir)) != described:
            raise ProjectError(
                f"{output_dir}: a new model was published while the report was written; "
                f"run `report --mode {config.mode}` again"
            )
        write_atomically(path, lambda temporary: temporary.write_text(page, encoding="utf-8"))
    after("report", config, manifest=record, path=path)
    return path


def _artifact_hash(manifest: dict[str, Any]) -> str | None:
    """The sha256 of the model a manifest describes."""
    artifact = manifest.get("artifact")
    return artifact.get("sha256") if isinstance(artifact, dict) else None


def read_mode_manifest(output_dir: Path, mode: str) -> dict[str, Any]:
    """The record of the mode's published run (manifest.json), or an error saying to train."""
    if not (output_dir / MODEL_FILE).exists():
        raise ProjectError(
            f"no trained model at {output_dir / MODEL_FILE}: run `train --mode {mode}` first"
        )
    return read_manifest(output_dir)


def load_mode_model(output_dir: Path, mode: str) -> Pipeline:
    """Load the mode's published model, checked against its manifest (see artifacts.py)."""
    return load_model(output_dir / MODEL_FILE, read_mode_manifest(output_dir, mode))


def _text(value: object) -> str:
    return html.escape(str(value))


def _table(frame: pd.DataFrame, index: bool = True, digits: int = 4, sortable: bool = False) -> str:
    """An escaped HTML table; floats rounded to `digits` significant digits.

    A sortable table has one header row (its index, if shown, becomes the first column):
    page.js makes each column sortable and adds a filter box above it.
    """
    if sortable and index:
        frame, index = frame.reset_index(), False
    table = frame.to_html(
        escape=True,
        index=index,
        border=0,
        na_rep="",
        float_format=lambda value: f"{value:.{digits}g}",
        classes="sortable" if sortable else None,
    )
    return f'<div class="scroll">{table}</div>'


def _asset(name: str) -> str:
    """The text of a file of this package (the page's style and script)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _json_block(element_id: str, data: object) -> str:
    """Data as JSON in a <script type="application/json"> element, safe inside HTML:
    <, > and & are written as JSON escapes, so no text in it can end the element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for character, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(character, escape)
    return f'<script type="application/json" id="{_text(element_id)}">{text}</script>'


def _image(figure: Figure, alt: str) -> str:
    encoded = base64.b64encode(plots.to_png(figure)).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{_text(alt)}">'


def _header(config: Config, record: dict[str, Any], model_sha256: str | None) -> str:
    split = record.get("split") or {}
    facts = {
        "mode": config.mode,
        "task": config.task,
        "model": record.get("model"),
        "data source": (record.get("data") or {}).get("source"),
        "rows (train / test)": f"{split.get('n_train')} / {split.get('n_test')}",
        "trained at": record.get("started_at"),
        "git commit": (record.get("git") or {}).get("commit") or "none",
        "model sha256": model_sha256,
        "report made at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    items = "".join(f"<li>{_text(k)}: {_text(v)}</li>" for k, v in facts.items())
    return f"<h1>{_text(config.mode)} mode: {_text(record.get('model'))}</h1>\n<ul>{items}</ul>"


def _metrics_section(config: Config, record: dict[str, Any]) -> str:
    metrics, baseline = record.get("metrics", {}), record.get("baseline", {})
    task = task_named(config.task)
    table = pd.DataFrame(
        {
            "model": pd.Series(metrics, dtype="float64"),
            "dummy baseline": pd.Series(baseline, dtype="float64"),
            "better": ["higher" if task.metric(m).greater_is_better else "lower" for m in metrics],
        }
    ).rename_axis("metric")
    primary = record.get("primary_metric")
    beats = record.get("beats_baseline")
    verdict = (
        f'<p class="{"good" if beats else "bad"}">{_text(primary)}: the model '
        f"{'beats' if beats else 'does NOT beat'} the dummy baseline by the required "
        f"{_text(record.get('min_lift_over_baseline'))} "
        f"(lift {_text(round(record.get('lift_over_baseline', float('nan')), 4))}).</p>"
    )
    return f"<h2>Metrics on the held-out rows</h2>\n{verdict}\n{_table(table)}"


def _warnings_section(record: dict[str, Any]) -> str:
    """What the run warned about (a class never predicted) and noted (columns that look
    misassigned), before anything else."""
    warnings, notes = record.get("warnings") or [], record.get("notes") or []
    if not warnings and not notes:
        return ""
    items = "".join(f'<li class="bad">{_text(item)}</li>' for item in warnings)
    items += "".join(f"<li>{_text(item)}</li>" for item in notes)
    return f"<h2>Warnings and notes</h2>\n<ul>{items}</ul>"


def _per_class_section(record: dict[str, Any]) -> str:
    """Per class: rows, predictions, precision, recall and F1 on the held-out rows."""
    rows = record.get("per_class")
    if not rows:
        return ""
    table = pd.DataFrame(rows).set_index("class")
    return (
        "<h2>Per class (held-out rows)</h2>\n"
        '<p class="note">How often each class is predicted, and how well: a class the model '
        "never predicts can hide behind a good average.</p>\n"
        f"{_table(table)}"
    )


def _leaderboard_section(path: Path, manifest: dict[str, Any]) -> str:
    """The leaderboard compare left in the output root, with the run that made it: a
    leaderboard of other rows than the model's (the data changed since) says so."""
    heading = "<h2>Leaderboard</h2>"
    if not path.exists():
        return (
            f'{heading}\n<p class="note">No leaderboard: `compare` was not run in this mode '
            f"(it would write {_text(path)}).</p>"
        )
    leaderboard = read_json(path, advice=": run compare again")
    made_by = leaderboard.get("made_by") or {}
    trained_on = (manifest.get("data") or {}).get("content_hash")
    if not made_by:
        stamp = '<p class="bad">Made by a compare that did not record its rows.</p>'
    elif made_by.get("data_content_hash") == trained_on:
        stamp = (
            f'<p class="note">Made by compare at {_text(made_by.get("made_at"))}, on the rows '
            "this model was trained on.</p>"
        )
    else:
        stamp = (
            f'<p class="bad">Made by compare at {_text(made_by.get("made_at"))} on other rows '
            "than this model was trained on (the data changed since): run compare again.</p>"
        )
    rows = leaderboard.get("rows", [])
    return f"{heading}\n{stamp}\n{_table(pd.DataFrame(rows), index=False, sortable=True)}"


def _tracked_runs_section(runs: list[TrackedRun]) -> str:
    """The runs tracked so far, one row each (see build_report); nothing without runs."""
    if not runs:
        return ""
    named = ["run_id", "started", "model"]
    rows: list[dict[str, Any]] = []
    # The other facts' and the metrics' names, in order of appearance (dicts as ordered sets).
    others: dict[str, None] = {}
    metrics: dict[str, None] = {}
    for run in runs:
        row = {name: run.get(name) for name in named}
        for name, value in run.items():
            if name not in named and name != "metrics" and isinstance(value, int | float | str):
                row[name], others[name] = value, None
        for name, value in (run.get("metrics") or {}).items():
            row[name], metrics[name] = value, None
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*named, *others, *metrics])
    return (
        '<h2 id="tracked-runs">Runs tracked so far</h2>\n'
        f'<p class="note">{len(rows)} runs, as the tracking store lists them.</p>\n'
        f"{_table(table, index=False, sortable=True)}"
    )


def _data_section(config: Config, split: Split) -> str:
    target = config.data.target
    frame = pd.concat([split.x_train, split.y_train], axis=1)
    summary = data_summary(frame, target, schema=infer_schema(frame, target, config.columns))
    figure = plots.target_distribution(summary, split.y_train)
    return (
        f"<h2>Data (the {summary.n_rows} training rows)</h2>\n"
        f"{_image(figure, 'target distribution')}\n"
        f"<h3>Target</h3>\n{_table(summary.target)}\n"
        '<h3>Columns</h3>\n<p class="note">Each column\'s role: numeric, categorical, date '
        "and text columns are features; IDs and dropped columns are not (configs/base.toml, "
        "section [columns]).</p>\n"
        f"{_table(summary.columns, sortable=True)}"
    )


def _error_sections(
    config: Config, model: Pipeline, split: Split, schema: FeatureSchema
) -> list[str]:
    x, y = split.x_test, split.y_test
    task, settings = task_named(config.task), config.inspection
    predicted = model.predict(x)
    sections = [f'<h2>Error analysis</h2>\n<p class="note">On the {len(y)} held-out rows.</p>']
    if task.has_classes:
        matrix = confusion(model, x, y)
        sections.append(
            f"<h3>Confusion matrix</h3>\n{_image(plots.confusion_heatmap(matrix), 'confusion')}"
            f"\n{_table(matrix)}"
        )
        contrasts = contrast_groups(model, x, y, schema=schema)
        if len(model.classes_) == 2:
            sections += [_contrast_section(contrast, settings.top_n) for contrast in contrasts]
        else:  # each class against the rest: a fold-out section per class
            pairs = [contrasts[start : start + 2] for start in range(0, len(contrasts), 2)]
            for label, pair in zip(model.classes_, pairs, strict=True):
                false_positives, false_negatives = pair
                summary = (
                    f"class {label} against the rest: {false_positives.n_group} false "
                    f"positives, {false_negatives.n_group} false negatives"
                )
                body = "\n".join(_contrast_section(item, settings.top_n) for item in pair)
                sections.append(f"<details><summary>{_text(summary)}</summary>\n{body}</details>")
    else:
        residuals = residuals_by_feature(model, x, y, schema=schema)
        sections.append(
            "<h3>Predicted vs actual</h3>\n"
            f"{_image(plots.predicted_vs_actual(y, predicted), 'predicted vs actual')}\n"
            "<h3>Residuals (actual - predicted) by feature</h3>\n"
            f"{_table(residuals, index=False, sortable=True)}"
        )
    error_name = task.error_name
    slices = worst_slices(
        x, y, predicted, task, settings.min_slice_rows, settings.top_n, schema=schema
    )
    if slices.empty:
        slices_html = (
            f'<p class="note">No slice of at least {settings.min_slice_rows} rows '
            "(inspection.min_slice_rows) has a higher error than all rows together.</p>"
        )
    else:
        slices_html = f"{_image(plots.slice_errors(slices, error_name), 'worst slices')}\n" + (
            _table(slices, index=False, sortable=True)
        )
    sections.append(
        f"<h3>Worst slices ({_text(error_name)}, at least {settings.min_slice_rows} rows)</h3>\n"
        '<p class="note">Value ranges and categories whose error most exceeds the error over '
        "all held-out rows (excess = slice error - overall error).</p>\n" + slices_html
    )
    classes = len(model.classes_) if task.has_classes else 0
    sections.append(_explorer_section(classes))
    worst = worst_predictions(x, y, model, task, settings.top_n)
    sections.append(
        f"<h3>Worst predictions</h3>\n{_table(worst.rename_axis('row'), sortable=True)}"
    )
    return sections


def _explorer_section(classes: int) -> str:
    """The slice explorer's controls and tables, which page.js fills from the embedded rows
    (classes: how many the model predicts, 0 for regression)."""
    class_choice = (
        '<label>class <select id="explorer-class"></select></label>\n' if classes > 2 else ""
    )
    what = (
        "the mean residual"
        if not classes
        else "where the false positives and false negatives of "
        + ("a class (against the rest)" if classes > 2 else "the second class")
        + " fall against their reference (the true negatives and true positives), the "
        "class's actual share and its mean predicted probability"
    )
    return (
        '<section id="explorer">\n<h3>Slice explorer</h3>\n'
        '<p class="note">Pick a feature to see the error on the held-out rows per value range '
        f"or category against all of them, and {what}.</p>\n"
        '<div class="controls">\n<label>feature <select id="explorer-feature"></select></label>\n'
        f"{class_choice}</div>\n"
        '<p id="explorer-summary" class="note">The explorer needs JavaScript.</p>\n'
        '<div class="scroll"><table id="explorer-errors"></table></div>\n'
        '<div class="scroll"><table id="explorer-contrast"></table></div>\n</section>'
    )


def _contrast_section(contrast: Contrast, top_n: int) -> str:
    heading = f"<h3>{_text(contrast.title)}</h3>"
    if min(contrast.n_group, contrast.n_reference) < 2:
        return f'{heading}\n<p class="note">Too few rows in a group to compare.</p>'
    shares = "".join(
        f"<h4>{_text(feature)}: category shares</h4>\n{_table(table.head(top_n))}"
        for feature, table in contrast.shares.items()
    )
    return (
        f'{heading}\n<p class="note">Which features set {_text(contrast.group)} apart from '
        f"{_text(contrast.reference)}: Cohen's d for numeric features (difference of means in "
        "pooled standard deviations), Cohen's h for the category whose share differs most; "
        "0.2 is small, 0.5 medium, 0.8 large.</p>\n"
        f"{_image(plots.contrast_bars(contrast, top_n), contrast.title)}\n"
        f"{_table(contrast.features.head(top_n), index=False)}\n"
        f"<details><summary>Category shares</summary>\n{shares}</details>"
    )
