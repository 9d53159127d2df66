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

from trimode.reporting.inspection import Contrast, DataSummary


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
