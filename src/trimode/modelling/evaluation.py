"""Scoring a model on its task's metrics (tasks.py defines them), the dummy baseline,
how a model compares with it, and how well each class is predicted."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.base import BaseEstimator

from trimode.config.model import Config
from trimode.core.tasks import Task, task_named


class PredictedOnce:
    """A fitted model whose predictions on one set of rows are made once, however many
    metrics read them."""

    def __init__(self, model: BaseEstimator, features: pd.DataFrame) -> None:
        self._model, self._features = model, features
        self._cache: dict[str, np.ndarray] = {}
        self.classes_ = getattr(model, "classes_", None)

    def _call(self, method: str, features: pd.DataFrame) -> np.ndarray:
        if features is not self._features:
            return getattr(self._model, method)(features)
        if method not in self._cache:
            self._cache[method] = getattr(self._model, method)(features)
        return self._cache[method]

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        if self.classes_ is not None and hasattr(self._model, "predict_proba"):
            # Label metrics score the most probable class. For every registry classifier
            # that is what predict returns, and it saves a second pass over the rows.
            probabilities = self._call("predict_proba", features)
            return np.asarray(self.classes_)[np.argmax(probabilities, axis=1)]
        return self._call("predict", features)

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return self._call("predict_proba", features)


def score(
    task: Task, model: BaseEstimator, features: pd.DataFrame, y_true: pd.Series
) -> dict[str, float]:
    """Every metric of the task for a fitted model on held-out rows.

    With the task bound (functools.partial(score, task)) this is a scikit-learn scorer
    returning a dict of metrics, which cross_validate takes as its `scoring`.
    """
    predicted = PredictedOnce(model, features)
    return {
        metric.name: float(metric.compute(y_true, predicted, features)) for metric in task.metrics
    }


def fit_baseline(task: Task, features: pd.DataFrame, y_train: pd.Series) -> BaseEstimator:
    """The dummy baseline, fitted on the training rows."""
    return task.make_baseline().fit(features, y_train)


def lift(task: Task, metric: str, model_value: float, baseline_value: float) -> float:
    """How much better the model is than the baseline, positive when better."""
    difference = model_value - baseline_value
    return difference if task.metric(metric).greater_is_better else -difference


class PrimaryScorer:
    """A scikit-learn scorer of one metric, signed so that greater is always better
    (what the hyper-parameter search maximises)."""

    def __init__(self, task: Task, metric: str) -> None:
        self.task, self.metric = task, metric

    def __call__(self, model: BaseEstimator, features: pd.DataFrame, y_true: pd.Series) -> float:
        metric = self.task.metric(self.metric)
        value = float(metric.compute(y_true, model, features))
        return value if metric.greater_is_better else -value


def gate_checks(
    config: Config, metrics: dict[str, float], primary_lift: float
) -> list[dict[str, object]]:
    """Each requirement a model must meet to be published, with its value and verdict:
    the lift over the baseline, then every threshold in evaluation.thresholds."""
    task, required_lift = task_named(config.task), config.evaluation.min_lift_over_baseline
    checks: list[dict[str, object]] = [
        {
            "check": f"lift of {config.evaluation.primary_metric} over the dummy baseline",
            "value": primary_lift,
            "required": f">= {required_lift:g}",
            "passed": bool(np.isfinite(primary_lift) and primary_lift >= required_lift),
        }
    ]
    for metric, bound in config.evaluation.thresholds.items():
        value = metrics[metric]
        greater = task.metric(metric).greater_is_better
        passed = np.isfinite(value) and (value >= bound if greater else value <= bound)
        checks.append(
            {
                "check": metric,
                "value": value,
                "required": f"{'>=' if greater else '<='} {bound:g}",
                "passed": bool(passed),
            }
        )
    return checks


# A class predicted for at most this share of the rows that hold it, or found in at most
# this share of them (its recall), is "almost never" told apart: whatever the primary
# metric says, the run and the report point it out.
RARELY_PREDICTED = 0.1


def per_class(y_true: pd.Series, predicted: np.ndarray, classes) -> pd.DataFrame:
    """Per class: rows that hold it, rows predicted as it, precision, recall and F1."""
    labels = list(classes)
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, predicted, labels=labels, zero_division=0
    )
    predicted_counts = pd.Series(np.asarray(predicted)).value_counts()
    return pd.DataFrame(
        {
            "rows": support.astype(int),
            "predicted": [int(predicted_counts.get(label, 0)) for label in labels],
            "precision": precision,
            "recall": recall,
            "f1": f1,
        },
        index=pd.Index([str(label) for label in labels], name="class"),
    )


def rarely_predicted(table: pd.DataFrame) -> list[str]:
    """A warning per class the model never or almost never predicts, or finds (see
    per_class): a few guesses of a class, all wrong, tell it apart no better than none."""
    warnings = []
    for label, row in zip(table.index, table.to_dict(orient="records"), strict=True):
        rows, predicted = int(row["rows"]), int(row["predicted"])
        found = float(row["recall"]) > RARELY_PREDICTED
        if rows == 0 or (predicted > RARELY_PREDICTED * rows and found):
            continue
        how = {0: "never predicted", 1: "predicted only once"}.get(
            predicted, f"predicted only {predicted} times"
        )
        warnings.append(
            f"class {label!r} is {how} on the held-out rows, though "
            f"{rows} of them hold it (recall {row['recall']:.2f}): the model "
            "hardly tells it apart, whatever the primary metric says"
        )
    return warnings
