"""Why the model decides: how much each input column matters to it, measured on held-out
rows by permutation (sklearn.inspection.permutation_importance).

A column's importance is how much the primary metric worsens when that column's values
are shuffled among the rows (the model unchanged), averaged over repeats, with the
spread of the repeats: about 0 for a column the model ignores, and never a property of
one model family (coefficients, splits). The columns shuffled are the rows' own input
columns, as a person reads them (a category, not its one-hot columns): the whole
pipeline, derived features included, predicts from each shuffled frame. With more than
two classes each class gets its own reading, one class against the rest: how much the
recall of that class drops (the share of its rows the model still finds).

Within a budget: at most `max_rows` held-out rows, drawn at random with the seed (the
record says how many of how many).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.inspection import permutation_importance
from sklearn.metrics import recall_score

from trimode.core.tasks import Metric, Task
from trimode.modelling.compute import limit_threads

# What the per-class reading measures, as the record and the report name it.
PER_CLASS_READING = "drop in recall, one class against the rest"


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
) -> dict[str, Any]:
    """The permutation importance of each of `columns` (input columns of x) for the
    fitted model on the held-out rows x, y, as JSON data (the manifest's "importance").

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
    per_class = len(classes) > 2
    scorer = _Scorer(metric, used_x.drop(columns=shuffled), list(used_x.columns), classes)
    # Many small predictions: native threads cost more to start than they save (measured:
    # 2.5 s of CPU on one thread, 7 s on two, for 10,000 rows of the built-in data).
    with limit_threads(1):
        results = permutation_importance(
            model,
            used_x[shuffled],
            used_y,
            scoring=scorer if per_class else scorer.primary,
            n_repeats=repeats,
            random_state=seed,
        )
    found = results[metric.name] if per_class else results
    return {
        "metric": metric.name,
        "greater_is_better": metric.greater_is_better,
        "rows": len(used_y),
        "held_out_rows": len(y),
        "repeats": repeats,
        "seed": seed,
        "features": _ranked(shuffled, found),
        "per_class": {
            "reading": PER_CLASS_READING,
            "classes": {
                str(label): _ranked(shuffled, results[_recall(label)]) for label in classes
            },
        }
        if per_class
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


class _Scorer:
    """Scores the model on the shuffled input columns put back among the columns not
    shuffled (IDs, dropped columns: the pipeline may still expect them), in their order.

    primary: the metric, signed so that greater is better (permutation_importance's
    convention; a drop then reads as a worsening whichever way the metric points).
    Called: the metric and, per class, its recall, from one prediction of the rows.
    """

    def __init__(
        self, metric: Metric, fixed: pd.DataFrame, order: list[str], classes: list[Any]
    ) -> None:
        self.metric, self.fixed, self.order, self.classes = metric, fixed, order, classes

    def _rows(self, x: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([x, self.fixed], axis=1)[self.order]

    def primary(self, model: BaseEstimator, x: pd.DataFrame, y: pd.Series) -> float:
        value = self.metric.compute(y, model, self._rows(x))
        return value if self.metric.greater_is_better else -value

    def __call__(self, model: BaseEstimator, x: pd.DataFrame, y: pd.Series) -> dict[str, float]:
        rows = self._rows(x)
        predicted = model.predict(rows)
        value = self.metric.compute(y, model, rows)
        scores = {self.metric.name: value if self.metric.greater_is_better else -value}
        for label in self.classes:
            scores[_recall(label)] = float(
                recall_score(y, predicted, labels=[label], average="macro", zero_division=0)
            )
        return scores


def _ranked(columns: list[str], found: Any) -> list[dict[str, Any]]:
    """{feature, mean, std} per column, the largest mean first (ties in column order)."""
    items = [
        {"feature": column, "mean": float(mean), "std": float(std)}
        for column, mean, std in zip(
            columns, found.importances_mean, found.importances_std, strict=True
        )
    ]
    return sorted(items, key=lambda item: -item["mean"])
