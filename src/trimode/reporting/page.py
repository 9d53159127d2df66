"""The HTML page of a mode's report: metrics against the baseline, the leaderboard, the
data, and the error analysis, in one self-contained page to explore that opens offline.

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
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from sklearn.pipeline import Pipeline

from trimode.config.model import Config
from trimode.core.io import read_json
from trimode.core.specs import FeatureSchema
from trimode.core.tasks import task_named
from trimode.modelling.behaviour import Expectation
from trimode.modelling.registry import with_derived_columns
from trimode.modelling.splitting import Split
from trimode.reporting import plots
from trimode.reporting.expectations import expectations_section
from trimode.reporting.explorer import explorer_rows
from trimode.reporting.inspection import (
    Contrast,
    confusion,
    contrast_groups,
    data_summary,
    residuals_by_feature,
    worst_predictions,
    worst_slices,
)

# The id of the <script type="application/json"> block holding the explorer's rows.
EXPLORER_DATA_ID = "explorer-rows"

# A tracked run, as the "runs tracked so far" panel takes it (see render_page).
TrackedRun = Mapping[str, Any]


def render_page(
    config: Config,
    record: dict[str, Any],
    model: Pipeline,
    split: Split,
    schema: FeatureSchema,
    expectations: list[Expectation],
    leaderboard: Path,
    tracked_runs: Sequence[TrackedRun] = (),
) -> str:
    """The report of a mode's published model (its record, the model, the split of the
    mode's rows it was judged on, its feature schema) as one HTML page.

    tracked_runs, when not empty, adds the panel "Runs tracked so far": a sortable table
    of one row per run, in the order given. Each run is a mapping with the keys run_id,
    started (text, e.g. an ISO time), model, and metrics (a mapping of metric name to
    number); any other key whose value is a number, text or boolean becomes a column too.
    """
    task = task_named(config.task)
    described = artifact_hash(record)
    # The data and the errors are looked at with the features the model sees: the
    # project's derived columns included (expectations change rows as read, as in test mode).
    seen, x_train = with_derived_columns(model, split.x_train)
    _, x_test = with_derived_columns(model, split.x_test)
    features = replace(split, x_train=x_train, x_test=x_test)
    sections = [
        _header(config, record, described),
        _warnings_section(record),
        _metrics_section(config, record),
        _per_class_section(record),
        _leaderboard_section(leaderboard, record),
        _tracked_runs_section(list(tracked_runs)),
        _data_section(config, features, schema),
        *_error_sections(config, seen, features, schema),
        expectations_section(task, model, split.x_test, schema, expectations),
    ]
    rows = explorer_rows(seen, features.x_test, features.y_test, task, schema)
    title = f"{record.get('model', 'model')} — {config.mode} mode report"
    return (
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


def artifact_hash(manifest: dict[str, Any]) -> str | None:
    """The sha256 of the model a manifest describes."""
    artifact = manifest.get("artifact")
    return artifact.get("sha256") if isinstance(artifact, dict) else None


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


def _data_section(config: Config, split: Split, schema: FeatureSchema) -> str:
    target = config.data.target
    frame = pd.concat([split.x_train, split.y_train], axis=1)
    summary = data_summary(frame, target, schema=schema)
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
