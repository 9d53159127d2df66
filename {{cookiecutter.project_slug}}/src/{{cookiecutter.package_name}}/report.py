"""The HTML report of a mode: metrics against the baseline, the leaderboard, the data,
and the error analysis, in one self-contained file that opens offline.

Plots are PNG images embedded in the page; there is no external CSS, script or
link. Every piece of text comes out escaped.
"""

from __future__ import annotations

import base64
import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from sklearn.pipeline import Pipeline

from . import plots
from .artifacts import METRICS_FILE, MODEL_FILE, load_model, read_manifest
from .compute import limit_threads
from .config import Config
from .data import load_dataset
from .errors import ProjectError
from .evaluation import greater_is_better
from .files import write_atomically
from .inspection import (
    Contrast,
    confusion,
    contrast_groups,
    data_summary,
    residuals_by_feature,
    worst_predictions,
    worst_slices,
)
from .pipeline import Split, split_rows

REPORT_FILE = "report.html"
LEADERBOARD_FILE = "leaderboard.json"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222;
       padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
.note { color: #666; } .bad { color: #b00020; font-weight: bold; }
.good { color: #1b7f3b; font-weight: bold; } img { max-width: 100%; display: block; }
.scroll { overflow-x: auto; }
"""


def build_report(config: Config, workdir: Path | str = ".") -> Path:
    """Write outputs/<mode>/report.html from the mode's saved model, metrics and data."""
    with limit_threads(config.compute.n_jobs):
        return _build_report(config, Path(workdir))


def _build_report(config: Config, workdir: Path) -> Path:
    output_dir = workdir / config.outputs.root
    model = load_mode_model(output_dir, config.mode)
    record = _read_json(output_dir / METRICS_FILE, config.mode)
    split = split_rows(load_dataset(config, workdir).frame, config)
    sections = [
        _header(config, record),
        _metrics_section(config, record),
        _leaderboard_section(output_dir / LEADERBOARD_FILE),
        _data_section(config, split),
        *_error_sections(config, model, split),
    ]
    title = f"{record.get('model', 'model')} — {config.mode} mode report"
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
    path = output_dir / REPORT_FILE
    write_atomically(path, lambda temporary: temporary.write_text(page, encoding="utf-8"))
    return path


def load_mode_model(output_dir: Path, mode: str) -> Pipeline:
    """Load the mode's published model, checked against its manifest (see artifacts.py)."""
    path = output_dir / MODEL_FILE
    if not path.exists():
        raise ProjectError(f"no trained model at {path}: run `train --mode {mode}` first")
    return load_model(path, read_manifest(output_dir))


def _read_json(path: Path, mode: str) -> dict[str, Any]:
    if not path.exists():
        raise ProjectError(f"no metrics at {path}: run `train --mode {mode}` first")
    return json.loads(path.read_text(encoding="utf-8"))


def _text(value: object) -> str:
    return html.escape(str(value))


def _table(frame: pd.DataFrame, index: bool = True, digits: int = 4) -> str:
    """An escaped HTML table; floats rounded to `digits` significant digits."""
    table = frame.to_html(
        escape=True,
        index=index,
        border=0,
        na_rep="",
        float_format=lambda value: f"{value:.{digits}g}",
    )
    return f'<div class="scroll">{table}</div>'


def _image(figure: Figure, alt: str) -> str:
    encoded = base64.b64encode(plots.to_png(figure)).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{_text(alt)}">'


def _header(config: Config, record: dict[str, Any]) -> str:
    facts = {
        "mode": config.mode,
        "task": config.task,
        "model": record.get("model"),
        "data source": record.get("source"),
        "rows (train / test)": f"{record.get('n_train')} / {record.get('n_test')}",
        "trained at": record.get("started_at"),
        "git commit": record.get("git_commit") or "none",
        "report made at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    items = "".join(f"<li>{_text(k)}: {_text(v)}</li>" for k, v in facts.items())
    return f"<h1>{_text(config.mode)} mode: {_text(record.get('model'))}</h1>\n<ul>{items}</ul>"


def _metrics_section(config: Config, record: dict[str, Any]) -> str:
    metrics, baseline = record.get("metrics", {}), record.get("baseline", {})
    table = pd.DataFrame(
        {
            "model": pd.Series(metrics, dtype="float64"),
            "dummy baseline": pd.Series(baseline, dtype="float64"),
            "better": ["higher" if greater_is_better(config.task, m) else "lower" for m in metrics],
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


def _leaderboard_section(path: Path) -> str:
    heading = "<h2>Leaderboard</h2>"
    if not path.exists():
        return (
            f'{heading}\n<p class="note">No leaderboard: `compare` was not run in this mode '
            f"(it would write {_text(path)}).</p>"
        )
    rows = json.loads(path.read_text(encoding="utf-8")).get("rows", [])
    return f"{heading}\n{_table(pd.DataFrame(rows), index=False)}"


def _data_section(config: Config, split: Split) -> str:
    target = config.data.target
    frame = pd.concat([split.x_train, split.y_train], axis=1)
    summary = data_summary(frame, target)
    figure = plots.target_distribution(summary, split.y_train)
    return (
        f"<h2>Data (the {summary.n_rows} training rows)</h2>\n"
        f"{_image(figure, 'target distribution')}\n"
        f"<h3>Target</h3>\n{_table(summary.target)}\n"
        f"<h3>Columns</h3>\n{_table(summary.columns)}"
    )


def _error_sections(config: Config, model: Pipeline, split: Split) -> list[str]:
    x, y = split.x_test, split.y_test
    task, settings = config.task, config.inspection
    predicted = model.predict(x)
    sections = [f'<h2>Error analysis</h2>\n<p class="note">On the {len(y)} held-out rows.</p>']
    if task == "classification":
        matrix = confusion(model, x, y)
        sections.append(
            f"<h3>Confusion matrix</h3>\n{_image(plots.confusion_heatmap(matrix), 'confusion')}"
            f"\n{_table(matrix)}"
        )
        for contrast in contrast_groups(model, x, y):
            sections.append(_contrast_section(contrast, settings.top_n))
        error_name = "error rate"
    else:
        residuals = residuals_by_feature(model, x, y)
        sections.append(
            "<h3>Predicted vs actual</h3>\n"
            f"{_image(plots.predicted_vs_actual(y, predicted), 'predicted vs actual')}\n"
            "<h3>Residuals (actual - predicted) by feature</h3>\n"
            f"{_table(residuals, index=False)}"
        )
        error_name = "mean absolute error"
    slices = worst_slices(x, y, predicted, task, settings.min_slice_rows, settings.top_n)
    if slices.empty:
        slices_html = (
            f'<p class="note">No slice has the {settings.min_slice_rows} rows '
            "inspection.min_slice_rows asks for.</p>"
        )
    else:
        slices_html = f"{_image(plots.slice_errors(slices, error_name), 'worst slices')}\n" + (
            _table(slices, index=False)
        )
    sections.append(
        f"<h3>Worst slices ({_text(error_name)}, at least {settings.min_slice_rows} rows)</h3>\n"
        + slices_html
    )
    worst = worst_predictions(x, y, model, task, settings.top_n)
    sections.append(f"<h3>Worst predictions</h3>\n{_table(worst.rename_axis('row'))}")
    return sections


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
