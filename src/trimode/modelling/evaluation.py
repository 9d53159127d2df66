"""Scoring a model on its task's metrics (tasks.py defines them), the dummy baseline,
how a model compares with it, and how well each class is predicted."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.base import BaseEstimator

from trimode.config.model import Config
from trimode.core.errors import ConfigError
from trimode.core.tasks import Task, per_class_key


class PredictedOnce:
    """A fitted model whose predictions on one set of rows are made once, however many
    metrics read them; a Decided model's labels follow its decision threshold."""

    def __init__(self, model: BaseEstimator, features: pd.DataFrame) -> None:
        self._threshold = model.threshold if isinstance(model, Decided) else None
        self._model = model.model if isinstance(model, Decided) else model
        self._features = features
        self._cache: dict[str, np.ndarray] = {}
        self.classes_ = getattr(model, "classes_", None)

    def __sklearn_tags__(self) -> Any:
        # Scorers ask what the model is (a classifier: which response to read).
        return self._model.__sklearn_tags__()

    def _call(self, method: str, features: pd.DataFrame) -> np.ndarray:
        if features is not self._features:
            return self._made(method, features)
        if method not in self._cache:
            self._cache[method] = self._made(method, features)
        return self._cache[method]

    def _made(self, method: str, features: pd.DataFrame) -> np.ndarray:
        if (
            method == "predict"
            and self.classes_ is not None
            and hasattr(self._model, "predict_proba")
        ):
            # Label metrics score the most probable class (or the threshold's). For every
            # registry classifier that is what predict returns, and it saves a second pass.
            return decide(self.classes_, self._call("predict_proba", features), self._threshold)
        return getattr(self._model, method)(features)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self._call("predict", features)

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return self._call("predict_proba", features)


def decide(classes: Any, probabilities: np.ndarray, threshold: float | None) -> np.ndarray:
    """The predicted labels: the most probable class, or with a decision threshold (two
    classes), the second where its probability reaches the threshold (as scikit-learn's
    FixedThresholdClassifier decides)."""
    classes = np.asarray(classes)
    if threshold is None:
        return classes[np.argmax(probabilities, axis=1)]
    return classes[(probabilities[:, 1] >= threshold).astype(int)]


class Decided:
    """A fitted binary classifier acting on its decision threshold (threshold.py): its
    labels are decide()'s; everything else is the model's own."""

    def __init__(self, model: BaseEstimator, threshold: float) -> None:
        self.model, self.threshold = model, threshold

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("model", "threshold"):
            raise AttributeError(name)  # not the model's: copying and pickling ask
        return getattr(self.model, name)

    def __sklearn_tags__(self) -> Any:
        return self.model.__sklearn_tags__()

    def __sklearn_is_fitted__(self) -> bool:
        return True  # it wraps a fitted model (scikit-learn's inspection tools ask)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return decide(self.model.classes_, self.model.predict_proba(features), self.threshold)


def decided(model: BaseEstimator, threshold: dict[str, Any] | None) -> BaseEstimator:
    """The model as it decides: with the decision threshold a manifest records (its
    "decision_threshold"), a Decided; without one, the model itself."""
    if not threshold:
        return model
    return Decided(model, float(threshold["value"]))  # type: ignore[return-value]


def score(
    task: Task, model: BaseEstimator, features: pd.DataFrame, y_true: pd.Series, weight: str = ""
) -> dict[str, float]:
    """Every metric of the task for a fitted model on held-out rows, each row weighing its
    value in the column `weight` (columns.weight; "" for none).

    With the task bound (functools.partial(score, task, weight=...)) this is a
    scikit-learn scorer returning a dict of metrics, which cross_validate takes as its
    `scoring`.
    """
    predicted = model if isinstance(model, PredictedOnce) else PredictedOnce(model, features)
    weights = row_weights(features, weight)
    return {
        metric.name: float(metric.compute(y_true, predicted, features, weights))
        for metric in task.metrics
    }


def row_weights(features: pd.DataFrame, weight: str) -> np.ndarray | None:
    """The rows' sample weights, from their column `weight` (columns.weight, checked when
    the rows were split: see weights.py); None without one."""
    return features[weight].to_numpy(dtype=float) if weight else None


def fit_baseline(
    task: Task, features: pd.DataFrame, y_train: pd.Series, weight: str = ""
) -> BaseEstimator:
    """The dummy baseline, fitted on the training rows (weighted by the column `weight`)."""
    return task.make_baseline().fit(features, y_train, sample_weight=row_weights(features, weight))


def lift(task: Task, metric: str, model_value: float, baseline_value: float) -> float:
    """How much better the model is than the baseline, positive when better."""
    difference = model_value - baseline_value
    return difference if task.metric(metric).greater_is_better else -difference


class PrimaryScorer:
    """A scikit-learn scorer of one metric, signed so that greater is always better
    (what the hyper-parameter search maximises)."""

    def __init__(self, task: Task, metric: str, weight: str = "") -> None:
        self.task, self.metric, self.weight = task, metric, weight

    def __call__(self, model: BaseEstimator, features: pd.DataFrame, y_true: pd.Series) -> float:
        metric = self.task.metric(self.metric)
        value = float(metric.compute(y_true, model, features, row_weights(features, self.weight)))
        return value if metric.greater_is_better else -value


def gate_checks(
    config: Config,
    metrics: dict[str, float],
    primary_lift: float,
    classes: pd.DataFrame | None = None,
) -> list[dict[str, object]]:
    """Each requirement a model must meet to be published, with its value and verdict:
    the lift over the baseline, then every threshold in evaluation.thresholds (a
    per-class one, "recall.dead", read from the per-class table `classes`)."""
    task, required_lift = config.rules, config.evaluation.min_lift_over_baseline
    checks: list[dict[str, object]] = [
        {
            "check": f"lift of {config.evaluation.primary_metric} over the dummy baseline",
            "value": primary_lift,
            "required": f">= {required_lift:g}",
            "passed": bool(np.isfinite(primary_lift) and primary_lift >= required_lift),
        }
    ]
    for metric, bound in config.evaluation.thresholds.items():
        one_class = per_class_key(metric)
        if one_class:
            figure, label = one_class
            # A class the training rows lacked has no figure: NaN, which fails.
            value = float(classes[figure].get(label, np.nan))  # type: ignore[index]
            greater = True
        else:
            value, greater = metrics[metric], task.metric(metric).greater_is_better
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


def check_class_thresholds(config: Config, labels: list[Any]) -> None:
    """Refuse a per-class threshold ("recall.dead") whose class the target does not hold,
    naming the key and the classes it holds (before anything is fitted)."""
    known = [str(label) for label in labels]
    for key in config.evaluation.thresholds:
        one_class = per_class_key(key)
        if one_class and one_class[1] not in known:
            raise ConfigError(
                f"{config.file_of('evaluation.thresholds')}: key 'evaluation.thresholds' "
                f"names {key!r}, but target {config.data.target!r} has no class "
                f"{one_class[1]!r}: expected one of {', '.join(map(repr, known))}"
            )


# A class predicted for at most this share of the rows that hold it, or found in at most
# this share of them (its recall), is "almost never" told apart: whatever the primary
# metric says, the run and the report point it out.
RARELY_PREDICTED = 0.1
# A class holding less than this share of the held-out rows is rare: when the model finds
# less of it than evaluation.rare_class_recall, a good ROC AUC or accuracy hides that.
RARE_SHARE = 0.1


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


def weak_classes(table: pd.DataFrame, config: Config) -> dict[str, str]:
    """The classes the model hardly tells apart (see per_class), each with its warning and
    the threshold line that would gate it: never or almost never predicted
    (RARELY_PREDICTED), or rare (RARE_SHARE) and recalled less than
    evaluation.rare_class_recall."""
    rare_recall = config.evaluation.rare_class_recall
    warnings = {}
    total = int(table["rows"].sum())
    for label, row in zip(table.index, table.to_dict(orient="records"), strict=True):
        rows, predicted, recall = int(row["rows"]), int(row["predicted"]), row["recall"]
        if rows == 0:
            continue
        if predicted <= RARELY_PREDICTED * rows:
            how = {0: "never predicted", 1: "predicted only once"}.get(
                predicted, f"predicted only {predicted} times"
            )
            said = f"is {how} on the held-out rows, though {rows} of them hold it"
        elif recall <= RARELY_PREDICTED:  # a few guesses, nearly all wrong: no better
            said = (
                f"is predicted {predicted} times on the held-out rows but found in "
                f"{round(recall * rows)} of the {rows} that hold it"
            )
        elif rows < RARE_SHARE * total and recall < rare_recall:
            said = (
                f"is rare ({rows} of {total} held-out rows, {rows / total:.1%}) and the model "
                f"finds {round(recall * rows)} of them"
            )
        else:
            continue
        # The line that gates it, beside the thresholds set already (it replaces them).
        required = {**config.evaluation.thresholds, f"recall.{label}": max(rare_recall, 0.1)}
        line = ", ".join(f"{json.dumps(key)} = {bound:g}" for key, bound in required.items())
        warnings[str(label)] = (
            f"class {label!r} {said} (recall {recall:.2f}): the model hardly tells it apart, "
            f"whatever the primary metric says; to require more of it, set in "
            f"{config.file_of('evaluation.thresholds')}, section [evaluation]: "
            f"thresholds = {{ {line} }}"
        )
    return warnings
