"""The HTML page of a mode's report: metrics against the baseline, the leaderboard, the
data, and the error analysis, in one self-contained page to explore that opens offline.

Plots are PNG images embedded in the page; its style (page.css) and script (page.js,
plain JavaScript, no library) are inlined, and the held-out rows the slice explorer
works on are embedded as JSON (explorer.py): nothing is fetched when it opens. The
page reads without its script; the script makes the larger tables sortable and
filterable and fills the explorer. The page's markup is the template page.html
(Jinja, autoescaped: every piece of text comes out escaped); this module works out what
goes in it.
"""

from __future__ import annotations

import base64
import functools
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FunctionLoader, StrictUndefined, Template
from markupsafe import Markup
from matplotlib.figure import Figure
from sklearn.pipeline import Pipeline

from trimode.config.model import Config
from trimode.core.io import read_json
from trimode.core.secrets import redact
from trimode.core.specs import FeatureSchema
from trimode.core.tasks import Task, task_named
from trimode.modelling.behaviour import MAX_ROWS, Expectation
from trimode.modelling.fold_fits import stopped_line
from trimode.modelling.halving import rounds_line
from trimode.modelling.importance import importance_table, top_features
from trimode.modelling.registry import as_preprocessed
from trimode.modelling.splitting import Split, describe_split, split_kind
from trimode.reporting import plots
from trimode.reporting.calibration import brier_table, reliability
from trimode.reporting.decision import threshold_curve, threshold_figure, threshold_table
from trimode.reporting.dependence import partial_dependences
from trimode.reporting.drift import metric_by_period
from trimode.reporting.expectations import expectation_items
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
from trimode.reporting.variants import variant_plots

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
    A run whose command is "compare" is a candidate of a comparison: those make a second
    table, with its compare_run and variant_of, and its variant's values (a mapping of
    hyper-parameter to value, variant) a column each.
    """
    task = task_named(config.task)
    described = artifact_hash(record)
    classes = len(model.classes_) if task.has_classes else 0
    # The data and the errors are shown by feature, derived columns included; the
    # expectations change raw columns, and the model derives the rest from them.
    preprocessing, seen = as_preprocessed(model, split)
    ranking = top_features(record.get("importance"), len(seen.x_test.columns))
    rows = explorer_rows(preprocessing, seen.x_test, seen.y_test, task, schema, ranking)
    return _template().render(
        title=f"{record.get('model', 'model')} — {config.mode} mode report",
        model_sha256=described,
        css=_Static(_asset("page.css")),
        js=_Static(_asset("page.js")),
        mode=config.mode,
        model=record.get("model"),
        facts=_facts(config, record, described),
        warnings=record.get("warnings") or [],
        notes=record.get("notes") or [],
        verdict=_verdict(record),
        metrics_table=_metrics_table(config, record),
        per_class_table=_per_class_table(record),
        decision=_decision(record, model, split),
        calibration=_calibration(model, split) if task.has_classes else None,
        why=_why(config, record, model, split),
        leaderboard=_leaderboard(leaderboard, record),
        learning_curve=_learning_curve(leaderboard),
        tracked_runs=_tracked_runs(list(tracked_runs)),
        data=_data(config, seen, schema),
        errors=_errors(config, preprocessing, seen, schema),
        drift=_drift(config, record, model, split),
        explorer={
            "what": _explored(classes),
            "choose_class": classes > 2,
            "data_id": EXPLORER_DATA_ID,
            "rows": _json(rows),
        },
        expectations=_expectations(task, model, split.x_test, schema, expectations),
    )


def artifact_hash(manifest: dict[str, Any]) -> str | None:
    """The sha256 of the model a manifest describes."""
    artifact = manifest.get("artifact")
    return artifact.get("sha256") if isinstance(artifact, dict) else None


@functools.cache
def _environment() -> Environment:
    """The page's templates (page.html, sections.html), files of this package: autoescaped,
    a missing value an error rather than an empty string."""
    environment = Environment(
        loader=FunctionLoader(_asset),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        finalize=_redacted,
    )
    environment.filters["count"] = count
    return environment


def count(value: int) -> str:
    """A count of rows as people read it: 336,776, not 336776."""
    return f"{value:,}"


class _Static(Markup):
    """Markup that is a file of this package (the page's style and script), not data of
    the run: the one value the page shows unredacted."""


def _redacted(value: Any) -> Any:
    """Each value the page shows, redacted (secrets.py): no credential reaches the page,
    whichever text, table or record it came in."""
    if isinstance(value, _Static) or not isinstance(value, str):
        return value
    return Markup(redact(value)) if isinstance(value, Markup) else redact(value)


def _template() -> Template:
    """page.html: the whole page."""
    return _environment().get_template("page.html")


def expectations_section(
    task: Task,
    model: Pipeline,
    held_out: pd.DataFrame,
    schema: FeatureSchema,
    expectations: list[Expectation],
) -> Markup:
    """The page's section on the project's expectations, alone (sections.html)."""
    values = _expectations(task, model, held_out, schema, expectations)
    macros = _environment().get_template("sections.html").module
    return Markup(macros.expectations_section(values))  # type: ignore[attr-defined]


def _asset(name: str) -> str:
    """The text of a file of this package (the page's template, style and script)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _table(
    frame: pd.DataFrame, index: bool = True, digits: int = 4, sortable: bool = False
) -> Markup:
    """An HTML table that pandas escaped; floats as plain numbers of `digits` significant
    digits (plain_number).

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
        float_format=lambda value: plain_number(value, digits),
        classes="sortable" if sortable else None,
    )
    return Markup('<div class="scroll">{}</div>').format(Markup(table))


def plain_number(value: float, digits: int = 4) -> str:
    """A number as a person reads it, never in exponent notation: `digits` significant
    digits, a large one rounded to a whole number (16530, not 1.653e+04), a small one with
    the zeros it needs (0.00001234); page.js's figure() writes the same."""
    if not math.isfinite(value) or value == 0:
        return f"{value:g}"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude >= digits - 1:
        return f"{value:.0f}"
    return f"{value:.{digits - 1 - magnitude}f}".rstrip("0").rstrip(".")


def _json(data: object) -> Markup:
    """Data as JSON for a <script type="application/json"> element, safe inside HTML:
    <, > and & are written as JSON escapes, so no text in it can end the element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for character, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(character, escape)
    return Markup(text)


def _image(figure: Figure, alt: str) -> Markup:
    """A plot as an embedded PNG image."""
    encoded = base64.b64encode(plots.to_png(figure)).decode("ascii")
    return Markup('<img src="data:image/png;base64,{}" alt="{}">').format(encoded, alt)


def _expectations(
    task: Task,
    model: Pipeline,
    held_out: pd.DataFrame,
    schema: FeatureSchema,
    expectations: list[Expectation],
) -> dict[str, Any]:
    """Each expectation checked on the held-out rows, the rows that broke it as a table."""
    outcomes = [
        {
            **item,
            "evidence": None if item["evidence"] is None else _table(item["evidence"], index=False),
        }
        for item in expectation_items(task, model, held_out, schema, expectations)
    ]
    return {"outcomes": outcomes, "max_rows": MAX_ROWS}


def _facts(config: Config, record: dict[str, Any], model_sha256: str | None) -> dict[str, Any]:
    """What the page is about, listed under its title."""
    split = record.get("split") or {}
    return {
        "mode": config.mode,
        "task": config.task,
        "model": record.get("model"),
        "data source": (record.get("data") or {}).get("source"),
        "rows (train / test)": f"{split.get('n_train')} / {split.get('n_test')}",
        # Older manifests do not say how their rows were split.
        **({"rows split": describe_split(split)} if "kind" in split else {}),
        "trained at": record.get("started_at"),
        "git commit": (record.get("git") or {}).get("commit") or "none",
        "model sha256": model_sha256,
        "report made at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _verdict(record: dict[str, Any]) -> dict[str, Any]:
    """Whether the model beats the dummy baseline by the required lift."""
    return {
        "primary": record.get("primary_metric"),
        "beats": bool(record.get("beats_baseline")),
        "required": record.get("min_lift_over_baseline"),
        "lift": round(record.get("lift_over_baseline", float("nan")), 4),
    }


def _metrics_table(config: Config, record: dict[str, Any]) -> Markup:
    """The model's metrics on the held-out rows beside the dummy baseline's, which way is
    better, and whether the model beats the baseline on each."""
    metrics, baseline = record.get("metrics", {}), record.get("baseline", {})
    task = config.rules
    model = pd.Series(metrics, dtype="float64")
    dummy = pd.Series(baseline, dtype="float64").reindex(model.index)
    higher = pd.Series([task.metric(name).greater_is_better for name in model.index], model.index)
    beats = (model > dummy).where(higher, model < dummy)
    table = pd.DataFrame(
        {
            "model": model,
            "dummy baseline": dummy,
            "better is": higher.map({True: "higher", False: "lower"}),
            "model beats the baseline": beats.map({True: "yes", False: "no"}).where(
                model.notna() & dummy.notna(), "undefined"
            ),
        }
    ).rename_axis("metric")
    return _table(table)


def _decision(record: dict[str, Any], model: Pipeline, split: Split) -> dict[str, Any] | None:
    """The decision threshold the model acts on, with precision and recall across
    thresholds on the held-out rows (reporting/decision.py); None without one."""
    chosen = record.get("decision_threshold")
    if not chosen:
        return None
    value, positive = float(chosen["value"]), chosen["positive_class"]
    curve = threshold_curve(model, split.x_test, split.y_test, positive)
    return {
        "value": f"{value:.4g}",
        "positive": positive,
        "how": f"tuned for {chosen['tuned_for']} by cross-validation on the training rows"
        if chosen.get("tuned_for")
        else "set in the config",
        "figure": _image(threshold_figure(curve, value), "precision and recall by threshold"),
        "table": _table(threshold_table(curve, value), index=False),
    }


def _per_class_table(record: dict[str, Any]) -> Markup | None:
    """Per class: rows, predictions, precision, recall and F1 on the held-out rows."""
    rows = record.get("per_class")
    return _table(pd.DataFrame(rows).set_index("class")) if rows else None


def _calibration(model: Pipeline, split: Split) -> dict[str, Any] | None:
    """The reliability curves and Brier scores on the held-out rows (calibration.py); None
    for a model without probabilities."""
    if not hasattr(model, "predict_proba"):
        return None
    curves = reliability(model, split.x_test, split.y_test, split.y_train)
    return {
        "image": _image(plots.reliability_curves(curves), "reliability curves"),
        "table": _table(brier_table(curves)),
        "per_class": len(model.classes_) > 2,
    }


def _why(config: Config, record: dict[str, Any], model: Pipeline, split: Split) -> dict[str, Any]:
    """Why the model decides: the permutation importance its run recorded (importance.py),
    as a chart and a table (and per class with more than two), and the partial dependence
    of the most important features; nothing recorded: an older run, said so."""
    importance = record.get("importance")
    if not importance:
        return {"recorded": False}
    metric = importance["metric"]
    measure = f"{'drop' if importance['greater_is_better'] else 'rise'} in {metric} when shuffled"
    table = importance_table(importance["features"])
    found: dict[str, Any] = {
        "recorded": True,
        "measure": measure,
        **{key: importance[key] for key in ("rows", "held_out_rows", "repeats")},
        "image": _image(plots.importance_bars(table, measure, "Permutation importance"), measure),
        "table": _table(_shown(table, measure).set_index("feature"), sortable=True),
        "per_class": None,
        "dependence": None,
    }
    per_class = importance.get("per_class")
    if per_class:
        tables = {label: importance_table(items) for label, items in per_class["classes"].items()}
        reading = per_class["reading"]
        found["per_class"] = {
            "reading": reading,
            "table": _table(
                pd.DataFrame(
                    {label: t.set_index("feature")["mean"] for label, t in tables.items()}
                ).reindex(table["feature"]),
                sortable=True,
            ),
            "images": [
                _image(plots.importance_bars(t, reading, f"class {label}"), f"class {label}")
                for label, t in tables.items()
            ],
        }
    features = top_features(importance, config.inspection.partial_dependence_features)
    if features:
        dependences, rows = partial_dependences(model, split.x_test, features, config.train.seed)
        classes = getattr(model, "classes_", None)
        ylabel = (
            "prediction"
            if classes is None
            else f"probability of {classes[1]}"
            if len(classes) == 2
            else "probability of each class"
        )
        found["dependence"] = {
            "features": features,
            "rows": rows,
            "image": _image(
                plots.partial_dependence_grid(dependences, ylabel), "partial dependence"
            ),
        }
    return found


def _shown(table: pd.DataFrame, measure: str) -> pd.DataFrame:
    """An importance table with the names the page gives its columns."""
    return table.set_axis(["feature", measure, "spread (std over the repeats)"], axis="columns")


def _leaderboard(path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The leaderboard compare left in the output root, with the run that made it: on
    the rows this model was trained on, on other rows (the data changed since), unknown."""
    if not path.exists():
        return {"table": None, "path": str(path)}
    leaderboard = read_json(path, advice=": run compare again")
    made_by = leaderboard.get("made_by") or {}
    trained_on = (manifest.get("data") or {}).get("content_hash")
    if not made_by:
        which = "unknown"
    elif made_by.get("data_content_hash") == trained_on:
        which = "these rows"
    else:
        which = "other rows"
    rows = pd.DataFrame(leaderboard.get("rows", []))
    return {
        "table": _table(rows, index=False, sortable=True),
        "made_by": which,
        "made_at": made_by.get("made_at"),
        **_how_compared(leaderboard),
    }


def _how_compared(leaderboard: dict[str, Any]) -> dict[str, Any]:
    """What leaderboard.json says of how its rows came about: whether it is partial (why,
    and the candidates that did not finish), halving's rounds per model, and per model
    with variants a plot of the primary metric against each hyper-parameter they vary,
    with the points plotted as a table. An older leaderboard without these keys: none."""
    partial = None
    if leaderboard.get("partial"):
        partial = stopped_line(
            leaderboard.get("stopped"),
            leaderboard.get("budget_s") or 0,
            leaderboard.get("elapsed_s") or 0,
            leaderboard.get("unfinished") or [],
            "compare.time_budget_s",
        )
    halving = leaderboard.get("halving") or {}
    return {
        "partial": partial,
        "halving": [rounds_line(model, rounds) for model, rounds in halving.items() if rounds],
        "variant_plots": [
            {
                "model": plot.model,
                "param": plot.param,
                "metric": plot.metric,
                "points": len(plot.points),
                "left_behind": plot.left_behind,
                "image": _image(plots.variant_metric(plot), f"{plot.metric} by {plot.param}"),
                "table": _table(plot.table(), index=False, sortable=True),
            }
            for plot in variant_plots(leaderboard)
        ],
    }


def _tracked_runs(runs: list[TrackedRun]) -> dict[str, Any] | None:
    """The runs tracked so far (see render_page): the train runs, one row each, and the
    candidates of the latest comparison (runs whose command is "compare"); None without
    runs."""
    if not runs:
        return None
    trained = [run for run in runs if run.get("command") != "compare"]
    compared = [run for run in runs if run.get("command") == "compare"]
    return {
        "count": len(trained),
        "table": _runs_table(trained, ["run_id", "started", "model"]) if trained else None,
        "compared": {
            "count": len(compared),
            "run": compared[0].get("compare_run"),
            "table": _runs_table(
                compared,
                ["compare_run", "run_id", "started", "model", "variant_of"],
                ("variant", "metrics"),
            ),
        }
        if compared
        else None,
    }


def _runs_table(
    runs: list[TrackedRun], named: list[str], nested: tuple[str, ...] = ("metrics",)
) -> Markup:
    """A sortable table of runs: the named facts first, then every other fact whose value
    is a number, text or boolean, then the items of each nested mapping (metrics, a
    variant's values), each a column in order of appearance."""
    rows: list[dict[str, Any]] = []
    # The columns after the named ones, in order of appearance (dicts as ordered sets).
    others: dict[str, None] = {}
    inner: dict[str, dict[str, None]] = {key: {} for key in nested}
    for run in runs:
        row = {name: run.get(name) for name in named}
        for name, value in run.items():
            if name in {*named, *nested, "command"}:
                continue
            if isinstance(value, int | float | str):
                row[name], others[name] = value, None
        for key in nested:
            for name, value in (run.get(key) or {}).items():
                row[name], inner[key][name] = value, None
        rows.append(row)
    columns = [*named, *others, *(name for names in inner.values() for name in names)]
    return _table(pd.DataFrame(rows, columns=columns), index=False, sortable=True)


def _data(config: Config, split: Split, schema: FeatureSchema) -> dict[str, Any]:
    """The training rows: the target's distribution, and each column's role and summary."""
    target = config.data.target
    frame = pd.concat([split.x_train, split.y_train], axis=1)
    summary = data_summary(frame, target, schema=schema)
    return {
        "rows": summary.n_rows,
        "image": _image(plots.target_distribution(summary, split.y_train), "target distribution"),
        "target_table": _table(summary.target),
        "columns_table": _table(summary.columns, sortable=True),
    }


def _drift(
    config: Config, record: dict[str, Any], model: Pipeline, split: Split
) -> dict[str, Any] | None:
    """With rows split by time: the primary metric per period on the held-out rows."""
    kind, column = split_kind(config)
    if kind != "time" or column not in split.x_test.columns:
        return None
    primary = config.evaluation.primary_metric
    task = task_named(config.task)
    period, table = metric_by_period(task, model, split.x_test, split.y_test, column, primary)
    overall = (record.get("metrics") or {}).get(primary)
    return {
        "metric": primary,
        "period": period,
        "column": column,
        "image": _image(plots.metric_over_time(table, primary, period, overall), "drift"),
        "table": _table(table, index=False),
    }


def _errors(config: Config, model: Pipeline, split: Split, schema: FeatureSchema) -> dict[str, Any]:
    """The error analysis on the held-out rows: the confusion matrix and the contrasts
    (classification) or the residuals (regression), the worst slices and predictions."""
    x, y = split.x_test, split.y_test
    task, settings = task_named(config.task), config.inspection
    predicted = model.predict(x)
    found: dict[str, Any] = {
        "rows": len(y),
        "confusion": None,
        "contrasts": [],
        "per_class_contrasts": [],
        "error_name": task.error_name,
        "min_slice_rows": settings.min_slice_rows,
    }
    if task.has_classes:
        matrix = confusion(model, x, y)
        found["confusion"] = {
            "image": _image(plots.confusion_heatmap(matrix), "confusion"),
            "table": _table(matrix),
        }
        contrasts = [
            _contrast(item, settings.top_n) for item in contrast_groups(model, x, y, schema=schema)
        ]
        if len(model.classes_) == 2:
            found["contrasts"] = contrasts
        else:  # each class against the rest: a fold-out per class
            pairs = [contrasts[start : start + 2] for start in range(0, len(contrasts), 2)]
            for label, pair in zip(model.classes_, pairs, strict=True):
                false_positives, false_negatives = pair
                summary = (
                    f"class {label} against the rest: {false_positives['n_group']} false "
                    f"positives, {false_negatives['n_group']} false negatives"
                )
                found["per_class_contrasts"].append({"summary": summary, "contrasts": pair})
    else:
        residuals = residuals_by_feature(model, x, y, schema=schema)
        found["predicted_vs_actual"] = _image(
            plots.predicted_vs_actual(y, predicted), "predicted vs actual"
        )
        found["residuals_table"] = _table(residuals, index=False, sortable=True)
    slices = worst_slices(
        x, y, predicted, task, settings.min_slice_rows, settings.top_n, schema=schema
    )
    found["slices_table"] = None if slices.empty else _table(slices, index=False, sortable=True)
    found["slices_image"] = (
        None
        if slices.empty
        else _image(plots.slice_errors(slices, task.error_name), "worst slices")
    )
    worst = worst_predictions(x, y, model, task, settings.top_n, schema=schema)
    wrong = "a wrong class" if task.has_classes else "an absolute error at least the mean's"
    found["worst_note"] = (
        f"The {len(worst)} held-out rows (at most {settings.top_n}: inspection.top_n) with "
        f"{wrong} that the model got most wrong, IDs first."
        if len(worst)
        else f"No held-out row with {wrong}."
    )
    found["worst_table"] = _table(worst.rename_axis("row"), sortable=True) if len(worst) else None
    return found


def _contrast(contrast: Contrast, top_n: int) -> dict[str, Any]:
    """One contrast's effects per feature, its plot and its category shares."""
    enough = min(contrast.n_group, contrast.n_reference) >= 2
    return {
        "title": contrast.title,
        "n_group": contrast.n_group,
        "enough": enough,
        "group": contrast.group,
        "reference": contrast.reference,
        "image": _image(plots.contrast_bars(contrast, top_n), contrast.title) if enough else None,
        "features_table": _table(contrast.features.head(top_n), index=False) if enough else None,
        "shares": [
            (feature, _table(table.head(top_n))) for feature, table in contrast.shares.items()
        ]
        if enough
        else [],
    }


def _explored(classes: int) -> str:
    """What the slice explorer shows besides the error, for a model predicting `classes`
    classes (0 for regression)."""
    if not classes:
        return "the mean residual"
    which = "a class (against the rest)" if classes > 2 else "the second class"
    return (
        f"where the false positives and false negatives of {which} fall against their "
        "reference (the true negatives and true positives), the class's actual share and its "
        "mean predicted probability"
    )


# --- the learning curve (compare.learning_curve) ---


def _learning_curve(path: Path) -> dict[str, Any] | None:
    """The learning curve the leaderboard at path holds, as the page shows it (its plot,
    each model's reading, its notes); None when compare drew none."""
    if not path.exists():
        return None
    curve = read_json(path, advice=": run compare again").get("learning_curve") or {}
    models = curve.get("models") or []
    if not models:
        return None
    metric = curve["metric"]
    return {
        "metric": metric,
        "folds": curve["folds"],
        "image": _image(
            plots.learning_curves(models, metric), f"{metric} against the training rows"
        ),
        "readings": [model["reading"] for model in models],
        "notes": curve.get("notes") or [],
    }
