"""Figures of the inspection results, for the HTML report and the notebooks.

Each function returns a matplotlib Figure made without pyplot, so that making a
report changes no global plotting state; to_png renders one with the Agg backend.
In a notebook, a Figure displays itself once `%matplotlib inline` is on.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from trimode.reporting.calibration import Reliability
from trimode.reporting.dependence import Dependence
from trimode.reporting.inspection import Contrast, DataSummary
from trimode.reporting.variants import LEFT_BEHIND, VariantPlot


def to_png(figure: Figure) -> bytes:
    """Render a figure as PNG bytes with the Agg backend."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def target_distribution(summary: DataSummary, y: pd.Series) -> Figure:
    """Bars of the class shares of a categorical target; a histogram of a numeric one."""
    figure = Figure(figsize=(6, 3.2))
    axes = figure.add_subplot()
    if summary.target_is_categorical:
        shares = summary.target["share"]
        axes.bar([str(label) for label in shares.index], shares.to_numpy(), color="#4c72b0")
        axes.set_ylabel("share of rows")
    else:
        axes.hist(y.dropna().to_numpy(float), bins=40, color="#4c72b0")
        axes.set_ylabel("rows")
    axes.set_xlabel(str(y.name))
    axes.set_title(f"Target: {y.name}")
    return figure


def confusion_heatmap(matrix: pd.DataFrame) -> Figure:
    """The confusion matrix as a heat map, each cell labelled with its count."""
    size = 2.5 + 0.5 * len(matrix)
    figure = Figure(figsize=(size, size * 0.85))
    axes = figure.add_subplot()
    image = axes.imshow(matrix.to_numpy(), cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046)
    ticks = np.arange(len(matrix))
    axes.set_xticks(ticks, [str(label) for label in matrix.columns])
    axes.set_yticks(ticks, [str(label) for label in matrix.index])
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    limit = matrix.to_numpy().max() / 2
    for (row, column), count in np.ndenumerate(matrix.to_numpy()):
        color = "white" if count > limit else "black"
        axes.text(column, row, str(count), ha="center", va="center", color=color)
    axes.set_title("Confusion matrix")
    return figure


def predicted_vs_actual(y: pd.Series, predicted: np.ndarray) -> Figure:
    """Each held-out row as a point; the diagonal is a perfect prediction."""
    figure = Figure(figsize=(5, 4.5))
    axes = figure.add_subplot()
    actual = y.to_numpy(float)
    axes.scatter(actual, predicted, s=6, alpha=0.4, color="#4c72b0")
    low = float(min(actual.min(), np.min(predicted)))
    high = float(max(actual.max(), np.max(predicted)))
    axes.plot([low, high], [low, high], color="#c44e52", linewidth=1)
    axes.set_xlabel(f"actual {y.name}")
    axes.set_ylabel(f"predicted {y.name}")
    axes.set_title("Predicted vs actual")
    return figure


def contrast_bars(contrast: Contrast, top_n: int = 10) -> Figure:
    """The features that differ most between the two groups, as signed effect sizes."""
    features = contrast.features.dropna(subset=["effect"]).head(top_n).iloc[::-1]
    names = [
        feature if kind == "numeric" else f"{feature} = {category}"
        for feature, kind, category in zip(
            features["feature"], features["kind"], features["category"], strict=True
        )
    ]
    effects = np.clip(features["effect"].to_numpy(float), -5, 5)
    figure = Figure(figsize=(6.5, 0.9 + 0.32 * max(len(names), 1)))
    axes = figure.add_subplot()
    colors = ["#c44e52" if effect > 0 else "#4c72b0" for effect in effects]
    axes.barh(names, effects, color=colors)
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_xlabel(f"effect size ({contrast.group} minus {contrast.reference}; Cohen's d / h)")
    axes.set_title(contrast.title, fontsize=10)
    return figure


def slice_errors(slices: pd.DataFrame, error_name: str) -> Figure:
    """The worst slices' error next to the overall error."""
    rows = slices.iloc[::-1]
    names = [
        f"{feature}: {name}" for feature, name in zip(rows["feature"], rows["slice"], strict=True)
    ]
    figure = Figure(figsize=(6.5, 0.9 + 0.32 * max(len(names), 1)))
    axes = figure.add_subplot()
    axes.barh(names, rows["error"].to_numpy(float), color="#dd8452")
    if len(slices):
        axes.axvline(
            float(slices["overall_error"].iloc[0]), color="black", linestyle="--", label="all rows"
        )
        axes.legend(loc="lower right")
    axes.set_xlabel(error_name)
    axes.set_title("Worst slices")
    return figure


def metric_over_time(
    table: pd.DataFrame, metric: str, period: str, overall: float | None
) -> Figure:
    """The metric per period (its first day on the x axis), with its value on all rows."""
    figure = Figure(figsize=(6, 3.2))
    axes = figure.add_subplot()
    axes.plot(table["from"], table[metric], marker="o", color="#4c72b0", label=f"per {period}")
    if overall is not None:
        axes.axhline(overall, color="#999999", linestyle="--", label="all held-out rows")
    axes.set_ylabel(metric)
    axes.set_xlabel(f"{period} starting")
    axes.tick_params(axis="x", labelrotation=45)
    axes.legend()
    axes.set_title(f"{metric} per {period} on the held-out rows")
    return figure


def importance_bars(table: pd.DataFrame, measure: str, title: str, top_n: int = 15) -> Figure:
    """The most important features (table: feature, mean, std, most important first) as
    bars of their mean importance, with the spread over the repeats as error bars."""
    rows = table.head(top_n).iloc[::-1]
    figure = Figure(figsize=(6.5, 0.9 + 0.32 * max(len(rows), 1)))
    axes = figure.add_subplot()
    axes.barh(
        [str(name) for name in rows["feature"]],
        rows["mean"].to_numpy(float),
        xerr=rows["std"].to_numpy(float),
        color="#4c72b0",
        ecolor="#222",
        capsize=2,
    )
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_xlabel(measure)
    axes.set_title(title, fontsize=10)
    return figure


def variant_metric(plot: VariantPlot) -> Figure:
    """A model's variants' primary metric (mean over the folds, their std as error bars)
    against one hyper-parameter: numbers on a numeric axis (log when they span orders of
    magnitude), other values (lists, texts) as categories; a colour per combination of the
    other varied values; variants halving left behind as hollow, paler points."""
    points = plot.points
    figure = Figure(figsize=(6, 3.4))
    axes = figure.add_subplot()
    series = list(dict.fromkeys(points["series"]))
    for place, name in enumerate(series):
        # Categories: series side by side around each category, so their bars do not hide.
        shift = 0.0 if plot.numeric else 0.08 * (place - (len(series) - 1) / 2)
        label = name or None
        for behind in (False, True):
            shown = points[(points["series"] == name) & (points[LEFT_BEHIND] == behind)]
            if shown.empty:
                continue
            shown = shown.sort_values("x")
            axes.errorbar(
                shown["x"].to_numpy(float) + shift,
                shown["mean"].to_numpy(float),
                yerr=shown["std"].to_numpy(float),
                marker="o",
                linestyle="-" if plot.numeric and not behind else "none",
                capsize=3,
                color=f"C{place}",
                markerfacecolor="none" if behind else f"C{place}",
                alpha=0.55 if behind else 1.0,
                label=label,
            )
            label = None  # one legend entry per series
    if points[LEFT_BEHIND].any():
        axes.plot(
            [],
            [],
            marker="o",
            markerfacecolor="none",
            linestyle="none",
            color="#555",
            label="hollow: left behind by halving (fewer rows)",
        )
    if plot.log:
        axes.set_xscale("log")
    if not plot.numeric:
        axes.set_xticks(range(len(plot.values)), plot.values)
        axes.tick_params(axis="x", labelrotation=30 if len(plot.values) > 4 else 0)
    axes.set_xlabel(plot.param)
    axes.set_ylabel(f"{plot.metric} (mean ± std over folds)")
    axes.set_title(f"{plot.model}: {plot.metric} by {plot.param}", fontsize=10)
    if axes.get_legend_handles_labels()[1]:
        axes.legend(fontsize=7)
    return figure


def partial_dependence_grid(dependences: list[Dependence], ylabel: str) -> Figure:
    """One panel per feature: the average prediction (or probability of each class read)
    as the feature's value changes; categories as points."""
    columns = min(len(dependences), 3)
    rows = -(-len(dependences) // columns)
    figure = Figure(figsize=(3.4 * columns, 2.9 * rows), layout="constrained")
    for position, dependence in enumerate(dependences, start=1):
        axes = figure.add_subplot(rows, columns, position)
        labels = [str(value) for value in dependence.grid]
        for name, averages in dependence.averages.items():
            if dependence.numeric:
                axes.plot(np.asarray(dependence.grid, float), averages, label=name)
            else:
                axes.plot(labels, averages, marker="o", linestyle="", label=name)
        if not dependence.numeric:
            axes.tick_params(axis="x", labelrotation=45, labelsize=8)
        axes.set_xlabel(dependence.feature)
        axes.set_ylabel(ylabel)
        if len(dependence.averages) > 1:
            axes.legend(fontsize=7)
    return figure


def reliability_curves(curves: list[Reliability]) -> Figure:
    """Each class's reliability curve against the diagonal of perfect calibration."""
    figure = Figure(figsize=(4.8, 4.5))
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color="#888", linestyle="--", linewidth=1, label="perfect")
    for curve in curves:
        axes.plot(curve.predicted, curve.actual, marker="o", markersize=3, label=curve.label)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("mean predicted probability (bins of equal rows)")
    axes.set_ylabel("actual share of the class")
    axes.legend(fontsize=8, title="class", title_fontsize=8)
    axes.set_title("Reliability (calibration) on the held-out rows", fontsize=10)
    return figure


# --- the learning curve (compare.learning_curve) ---


def learning_curves(curves: list[dict], metric: str) -> Figure:
    """One panel per model (a curve as leaderboard.json holds it: rows, train_mean,
    train_std, valid_mean, valid_std): the primary metric on the rows each fit was fitted
    on and on the fold's test rows, against the training rows (a log scale: each size a
    similar factor more), the mean over folds with a band of ± its std."""
    figure = Figure(figsize=(4.6 * len(curves), 3.6), layout="constrained")
    for position, curve in enumerate(curves, start=1):
        axes = figure.add_subplot(1, len(curves), position)
        rows = np.asarray(curve["rows"], float)
        for side, label, color in (
            ("train", "rows fitted", "#4c72b0"),
            ("valid", "fold's test rows", "#dd8452"),
        ):
            mean = np.asarray(curve[f"{side}_mean"], float)
            spread = np.asarray(curve[f"{side}_std"], float)
            axes.plot(rows, mean, marker="o", color=color, label=label)
            axes.fill_between(rows, mean - spread, mean + spread, color=color, alpha=0.2)
        axes.set_xscale("log")
        # The sizes themselves as ticks, in plain numbers (not powers of ten).
        axes.set_xticks(rows, [f"{size:,.0f}" for size in rows], fontsize=8)
        axes.minorticks_off()
        axes.set_xlabel("training rows")
        axes.set_ylabel(metric)
        axes.set_title(curve["model"], fontsize=10)
        axes.legend(fontsize=8)
    return figure
