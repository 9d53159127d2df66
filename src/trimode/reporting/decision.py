"""The report's section on a binary classifier's decision threshold: precision and recall
of the positive class on the held-out rows across thresholds, the chosen one marked
(evaluation.threshold; modelling/threshold.py chose it)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve

# The thresholds the table lists beside the chosen one and 0.5.
TABLE_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9)


def threshold_curve(
    model: Any, x: pd.DataFrame, y: pd.Series, positive: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, precision, recall) of the positive class on these rows, as
    precision_recall_curve gives them: one point more than thresholds, none predicted."""
    column = list(model.classes_).index(positive)
    probability = model.predict_proba(x)[:, column]
    precision, recall, thresholds = precision_recall_curve(y == positive, probability)
    return thresholds, precision, recall


def threshold_table(
    curve: tuple[np.ndarray, np.ndarray, np.ndarray], chosen: float
) -> pd.DataFrame:
    """Precision and recall at a few thresholds, 0.5 and the chosen one (marked)."""
    thresholds, precision, recall = curve
    listed = sorted({*TABLE_THRESHOLDS, 0.5, round(chosen, 4)})
    # At t, the point of the least threshold reaching t (predicted positive: p >= t); past
    # every probability, the last point (none predicted positive).
    at = np.searchsorted(thresholds, listed)
    return pd.DataFrame(
        {
            "threshold": listed,
            "precision": precision[at],
            "recall": recall[at],
            "": ["chosen" if value == round(chosen, 4) else "" for value in listed],
        }
    )


def threshold_figure(curve: tuple[np.ndarray, np.ndarray, np.ndarray], chosen: float) -> Figure:
    """Precision and recall against the threshold, the chosen one a vertical line."""
    thresholds, precision, recall = curve
    figure = Figure(figsize=(6, 3.2))
    axes = figure.add_subplot()
    axes.plot(thresholds, precision[:-1], label="precision", color="#4c72b0")
    axes.plot(thresholds, recall[:-1], label="recall", color="#dd8452")
    axes.axvline(chosen, color="#c44e52", linewidth=1, linestyle="--", label=f"chosen {chosen:.3g}")
    axes.set_xlim(0, 1)
    axes.set_xlabel("threshold (probability of the positive class)")
    axes.legend(loc="lower left")
    axes.set_title("Precision and recall across thresholds (held-out rows)")
    return figure
