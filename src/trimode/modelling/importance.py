"""Why the model decides: how much each input column matters to it, measured on held-out
rows by permutation (as sklearn.inspection.permutation_importance measures it).

A column's importance is how much the primary metric worsens when that column's values
are shuffled among the rows (the model unchanged), averaged over repeats, with the
spread of the repeats: about 0 for a column the model ignores, and never a property of
one model family (coefficients, splits). The columns shuffled are the rows' own input
columns, as a person reads them (a category, not its one-hot columns): the whole
pipeline, derived features included, predicts from each shuffled frame. With more than
two classes each class gets its own reading, one class against the rest: how much the
recall of that class drops (the share of its rows the model still finds).

Within a budget: at most `max_rows` held-out rows, drawn at random with the seed (the
record says how many of how many). The shuffled copies are stacked and predicted a few
at a time, not one call per column and repeat as scikit-learn's permutation_importance
does: each call of a pipeline costs its column transforms and its trees' walk whatever
the rows, and on a few thousand rows that fixed cost was most of the work (all flights'
16 columns, 5 repeats of 2,000 rows: 2.5 s in 81 calls).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics import recall_score

from trimode.core.tasks import Metric, Task
from trimode.modelling.evaluation import PredictedOnce, row_weights

# What the per-class reading measures, as the record and the report name it.
PER_CLASS_READING = "drop in recall, one class against the rest"

# Cells (rows x columns) of the shuffled copies predicted in one call: large enough that
# the fixed cost of a call is spread thin, small enough to hold beside the data.
CELLS_PER_CALL = 2_000_000


def permutation_importances(
    task: Task,
    metric_name: str,
    model: BaseEstimator,
    x: pd.DataFrame,
    y: pd.Series,
    columns: Sequence[str],
    max_rows: int,
    repeats: int,
    seed: int,
    weight: str = "",
) -> dict[str, Any]:
    """The permutation importance of each of `columns` (input columns of x) for the
    fitted model on the held-out rows x, y, each row weighing its value in the column
    `weight` (columns.weight; "" for none), as JSON data (the manifest's "importance").

    Keys: metric, greater_is_better, rows (used), held_out_rows, repeats, seed, features
    (a list of {feature, mean, std}, most important first: the mean worsening of the
    metric over the repeats, positive when shuffling the column hurts, and its standard
    deviation), and per_class (None with fewer than three classes; else {reading,
    classes: {label: the same list for that class's recall}}).
    """
    metric = task.metric(metric_name)
    used_x, used_y = _sampled(x, y, max_rows, seed)
    shuffled = [column for column in used_x.columns if column in set(columns)]
    classes = list(model.classes_) if task.has_classes else []
    reading = _Reading(metric, classes if len(classes) > 2 else [], used_y, used_x, weight)
    rng = np.random.default_rng(seed)
    # Made as the batches take them: a row order per column and repeat held at once would
    # not fit for many repeats (the run's time budget stops a long one).
    shuffles = (
        (column, rng.permutation(len(used_x))) for column in shuffled for _ in range(repeats)
    )
    reference = reading(PredictedOnce(model, used_x))
    found: list[dict[str, float]] = []
    for batch in _batches(shuffles, max(1, CELLS_PER_CALL // max(1, used_x.size))):
        frames = [
            used_x.assign(**{column: used_x[column].to_numpy()[order]}) for column, order in batch
        ]
        found += [reading(block) for block in _predicted_together(model, frames)]
    # Per reading, a row per shuffled column of its worsening in each repeat.
    worsening = {
        name: np.array([reference[name] - scores[name] for scores in found]).reshape(
            len(shuffled), repeats
        )
        for name in reading.names
    }
    return {
        "metric": metric.name,
        "greater_is_better": metric.greater_is_better,
        "rows": len(used_y),
        "held_out_rows": len(y),
        "repeats": repeats,
        "seed": seed,
        "features": _ranked(shuffled, worsening[metric.name]),
        "per_class": {
            "reading": PER_CLASS_READING,
            "classes": {
                str(label): _ranked(shuffled, worsening[_recall(label)])
                for label in reading.classes
            },
        }
        if reading.classes
        else None,
    }


def importance_table(features: list[dict[str, Any]]) -> pd.DataFrame:
    """A recorded importance list ({feature, mean, std} items) as a table, one row per
    feature in the recorded order (most important first)."""
    return pd.DataFrame(features, columns=["feature", "mean", "std"])


def top_features(importance: dict[str, Any] | None, count: int) -> list[str]:
    """The `count` most important features of a recorded importance that matter at all
    (mean above 0); none when nothing was recorded."""
    if not importance:
        return []
    return [item["feature"] for item in importance["features"] if item["mean"] > 0][:count]


def _sampled(
    x: pd.DataFrame, y: pd.Series, max_rows: int, seed: int
) -> tuple[pd.DataFrame, pd.Series]:
    """At most max_rows of the rows, drawn at random with the seed, indexed 0..n-1 (the
    scorer joins shuffled and fixed columns by position)."""
    if len(x) > max_rows:
        chosen = np.sort(np.random.default_rng(seed).choice(len(x), max_rows, replace=False))
        x, y = x.iloc[chosen], y.iloc[chosen]
    return x.reset_index(drop=True), y.reset_index(drop=True)


def _recall(label: object) -> str:
    return f"recall of {label}"


class _Reading:
    """What one prediction of the rows reads: the metric, signed so that greater is better
    (a drop then reads as a worsening whichever way the metric points), and per class
    named its recall."""

    def __init__(
        self, metric: Metric, classes: list[Any], y: pd.Series, x: pd.DataFrame, weight: str
    ) -> None:
        self.metric, self.classes, self.y, self.x = metric, classes, y, x
        self.weights = row_weights(x, weight)
        self.names = [metric.name, *(_recall(label) for label in classes)]

    def __call__(self, predicted: Any) -> dict[str, float]:
        value = float(self.metric.compute(self.y, predicted, self.x, self.weights))
        scores = {self.metric.name: value if self.metric.greater_is_better else -value}
        if self.classes:
            labels = predicted.predict(self.x)
            for label in self.classes:
                scores[_recall(label)] = float(
                    recall_score(
                        self.y,
                        labels,
                        labels=[label],
                        average="macro",
                        zero_division=0,
                        sample_weight=self.weights,
                    )
                )
        return scores


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """The items in lists of at most size, each made when its list is taken."""
    while batch := list(islice(items, size)):
        yield batch


def _predicted_together(model: BaseEstimator, frames: list[pd.DataFrame]) -> list[Any]:
    """A stand-in for the model per frame, each answering from one prediction of all the
    frames stacked (the methods a metric asks for, each made once)."""
    stacked = pd.concat(frames, ignore_index=True)
    once = PredictedOnce(model, stacked)
    ends = np.cumsum([len(frame) for frame in frames])
    return [
        _Block(once, stacked, slice(end - len(frame), end))
        for frame, end in zip(frames, ends, strict=True)
    ]


class _Block:
    """One frame's share of a stacked prediction, answering as the model would on it."""

    def __init__(self, once: PredictedOnce, stacked: pd.DataFrame, rows: slice) -> None:
        self._once, self._stacked, self._rows = once, stacked, rows
        self.classes_ = once.classes_

    def __sklearn_tags__(self) -> Any:
        return self._once.__sklearn_tags__()

    def predict(self, _features: pd.DataFrame) -> np.ndarray:
        return self._once.predict(self._stacked)[self._rows]

    def predict_proba(self, _features: pd.DataFrame) -> np.ndarray:
        return self._once.predict_proba(self._stacked)[self._rows]


def _ranked(columns: list[str], worsening: np.ndarray) -> list[dict[str, Any]]:
    """{feature, mean, std} per column (over its repeats), the largest mean first (ties in
    column order)."""
    items = [
        {"feature": column, "mean": float(np.mean(drops)), "std": float(np.std(drops))}
        for column, drops in zip(columns, worsening, strict=True)
    ]
    return sorted(items, key=lambda item: -item["mean"])
