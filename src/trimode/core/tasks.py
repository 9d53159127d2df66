"""What a task decides: everything that differs between classification and regression.

One `Task` per value of the config key `task`, looked up with `task_named`. A task
decides:

- the metrics reported for it: how each is computed, the values it can take, what a
  model that predicts a constant scores, whether greater is better; and the primary
  metric when evaluation.primary_metric is not set;
- the dummy baseline every model must beat (class priors, or the mean);
- whether its target holds classes: then rows are held out, folded and sampled so
  that classes keep their shares, predictions are labels with probabilities, and the
  run and the report show a table per class, a confusion matrix and contrasts;
- the score of the leakage check (one feature alone, a shallow decision tree);
- how wrong one prediction is: the error of a slice, the worst predictions, and what
  the report calls that error;
- what a behavioural expectation watches (the probability of a class; the prediction)
  and how a hand-written row meets what is expected of it (see behaviour.py).

The rest of the package asks the task instead of testing its name. Importing this
module imports neither scikit-learn nor pandas nor NumPy: the members that need them
import them when called, so the configuration can read a task without slowing
`--help`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from trimode.core.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sklearn.base import BaseEstimator

# The figures of one class a threshold may name as "<figure>.<class>" (evaluation.thresholds,
# e.g. "recall.dead"): the columns of the per-class table, each in [0, 1], greater better.
PER_CLASS_FIGURES = ("precision", "recall", "f1")


def per_class_key(key: str) -> tuple[str, str] | None:
    """A threshold key's (figure, class) when it names one class ("recall.dead"), else None.
    Metric names hold no dot; a class label may (split at the first one)."""
    figure, dot, label = key.partition(".")
    return (figure, label) if dot else None


# A metric's function of (y_true, fitted model, X[, sample_weight]): each row weighs its
# sample weight (columns.weight), or the same without one (None).
MetricFunction = Callable[..., float]


@dataclass(frozen=True)
class Metric:
    """One metric of a task: its function of (y_true, fitted model, X), whether greater is
    better, the least and greatest value it can take, and what a model that predicts a
    constant scores where that does not depend on the data (None where it does)."""

    name: str
    compute: MetricFunction
    greater_is_better: bool
    low: float
    high: float
    constant: float | None = None

    @property
    def range(self) -> tuple[float, float, float | None]:
        """(least value, greatest value, a constant model's value or None)."""
        return self.low, self.high, self.constant

    @property
    def best(self) -> float:
        """The value of a perfect prediction: the range's better end."""
        return self.high if self.greater_is_better else self.low


@dataclass(frozen=True)
class Task:
    """What differs between tasks (see the module's docstring); pickled as its name."""

    name: str
    # The target holds classes: predict returns labels and predict_proba their probabilities.
    has_classes: bool
    metrics: tuple[Metric, ...]
    # The primary metric when evaluation.primary_metric is not set.
    primary_metric: str
    # The unfitted dummy model every real model must beat.
    make_baseline: Callable[[], BaseEstimator]
    # A decision tree for the target (keyword arguments: the tree's parameters).
    make_tree: Callable[..., BaseEstimator]
    # The leakage check's score of one feature alone, bounded above by 1 in both tasks;
    # how the message names it, and whether the target is replaced by its ranks first
    # (a skewed target's extremes, which a tree cannot reach, would hide a perfect leak).
    leakage_metric: str
    leakage_label: str
    leakage_on_ranks: bool
    # Per row of (y_true, predictions), how wrong the prediction is; what it is called.
    row_errors: Callable[[pd.Series, np.ndarray], pd.Series]
    error_name: str
    # For the worst predictions, from (model, X, y_true, predictions): the name and values
    # of the column that says how wrong each row is, and the rows' order, worst first.
    how_wrong: Callable[
        [BaseEstimator, pd.DataFrame, pd.Series, np.ndarray], tuple[str, np.ndarray, np.ndarray]
    ]

    # For behavioural expectations (behaviour.py), from (model, X, the class an expectation
    # names or None): the name and per-row values of what it watches; and from (model,
    # X, expected outcomes): what the model gave each row and whether that met it. Both
    # raise DoesNotFit when the expectation does not fit the model (a class it lacks).
    watched: Callable[[BaseEstimator, pd.DataFrame, Any], tuple[str, np.ndarray]]
    meets_examples: Callable[
        [BaseEstimator, pd.DataFrame, list[Any]], tuple[np.ndarray, np.ndarray]
    ]

    def __reduce__(self) -> tuple[Callable[..., Task], tuple[Any, ...]]:
        # A task travels to worker processes as its name (the same object comes back),
        # with the metrics a config added to it (with_metrics).
        extra = self.metrics[len(task_named(self.name).metrics) :]
        return (_task_with, (self.name, extra)) if extra else (task_named, (self.name,))

    def with_metrics(self, extra: tuple[Metric, ...]) -> Task:
        """The task reporting these metrics too, after its own (a config's primary metric
        that is none of the task's: see core/metrics.py)."""
        return replace(self, metrics=self.metrics + extra) if extra else self

    @property
    def metric_names(self) -> list[str]:
        """Names of the metrics reported for the task, in report order."""
        return [metric.name for metric in self.metrics]

    def metric(self, name: str) -> Metric:
        """The task's metric of that name (KeyError for a name it does not report)."""
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)

    def stratify_by(self, y: pd.Series, rows_per_class: int) -> pd.Series | None:
        """The target to stratify on, so that classes keep their shares, when the task has
        classes and each holds at least rows_per_class rows; None otherwise."""
        if self.has_classes and y.value_counts().min() >= rows_per_class:
            return y
        return None

    def folds_splitter(self, n_folds: int, seed: int, y: pd.Series, grouped: bool = False) -> Any:
        """Shuffled n_folds-fold cross-validation for the seed: stratified when classes can
        keep their shares in every fold, plain k-fold otherwise; by whole groups (its
        split takes them) when grouped."""
        from sklearn import model_selection as ms

        stratified = self.stratify_by(y, n_folds) is not None
        kinds = {
            (False, False): ms.KFold,
            (True, False): ms.StratifiedKFold,
            (False, True): ms.GroupKFold,
            (True, True): ms.StratifiedGroupKFold,
        }
        return kinds[stratified, grouped](n_splits=n_folds, shuffle=True, random_state=seed)

    def class_kind(self, n_classes: int) -> int:
        """What a fitted model holds, by the classes it was fitted on: 0 without classes,
        2 for two classes (or fewer), 3 for three or more (a multinomial loss)."""
        if not self.has_classes:
            return 0
        return 2 if n_classes <= 2 else 3


def _roc_auc(
    y_true: pd.Series, model: BaseEstimator, features: pd.DataFrame, sample_weight: Any = None
) -> float:
    """ROC AUC of the second class's probability; with more classes, one class against the
    rest, averaged."""
    from sklearn import metrics

    probabilities = model.predict_proba(features)
    if probabilities.shape[1] == 2:
        return metrics.roc_auc_score(y_true, probabilities[:, 1], sample_weight=sample_weight)
    return metrics.roc_auc_score(
        y_true,
        probabilities,
        multi_class="ovr",
        labels=model.classes_,
        sample_weight=sample_weight,
    )


def _log_loss(
    y_true: pd.Series, model: BaseEstimator, features: pd.DataFrame, sample_weight: Any = None
) -> float:
    """The log loss of the predicted class probabilities."""
    from sklearn import metrics

    probabilities = model.predict_proba(features)
    return metrics.log_loss(
        y_true, probabilities, labels=model.classes_, sample_weight=sample_weight
    )


def _on_predictions(function_name: str, **options: Any) -> MetricFunction:
    """The metric sklearn.metrics.<function_name> of the model's predictions."""

    def compute(
        y_true: pd.Series, model: BaseEstimator, features: pd.DataFrame, sample_weight: Any = None
    ) -> float:
        from sklearn import metrics

        predicted = model.predict(features)
        function = getattr(metrics, function_name)
        return function(y_true, predicted, sample_weight=sample_weight, **options)

    return compute


def _prior_classifier() -> BaseEstimator:
    """A dummy classifier that predicts the class priors."""
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="prior")


def _mean_regressor() -> BaseEstimator:
    """A dummy regressor that predicts the mean."""
    from sklearn.dummy import DummyRegressor

    return DummyRegressor()


def _classification_tree(**params: Any) -> BaseEstimator:
    """A decision tree classifier with these parameters."""
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(**params)


def _regression_tree(**params: Any) -> BaseEstimator:
    """A decision tree regressor with these parameters."""
    from sklearn.tree import DecisionTreeRegressor

    return DecisionTreeRegressor(**params)


def _wrong_class(y: pd.Series, predicted: np.ndarray) -> pd.Series:
    """Per row: 1.0 for a wrong class, 0.0 for a right one."""
    import numpy as np
    import pandas as pd

    return pd.Series((y.to_numpy() != np.asarray(predicted)).astype(float), index=y.index)


def _absolute_residual(y: pd.Series, predicted: np.ndarray) -> pd.Series:
    """Per row: the absolute residual."""
    import numpy as np
    import pandas as pd

    return pd.Series(np.abs(y.to_numpy(float) - np.asarray(predicted, float)), index=y.index)


def _probability_of_actual(
    model: BaseEstimator, x: pd.DataFrame, y: pd.Series, predicted: np.ndarray
) -> tuple[str, np.ndarray, np.ndarray]:
    """The probability the model gives the actual class (p_actual), lowest first."""
    import numpy as np
    import pandas as pd

    probabilities = model.predict_proba(x)
    index = pd.Index(model.classes_).get_indexer(y)
    chosen = probabilities[np.arange(len(y)), np.maximum(index, 0)]
    # A class the model never saw in training has probability 0.
    p_actual = np.where(index >= 0, chosen, 0.0)
    return "p_actual", p_actual, np.argsort(p_actual, kind="stable")


def _residual(
    model: BaseEstimator, x: pd.DataFrame, y: pd.Series, predicted: np.ndarray
) -> tuple[str, np.ndarray, np.ndarray]:
    """The residual (actual - predicted), largest in absolute value first."""
    import numpy as np

    residual = y.to_numpy(float) - predicted
    return "residual", residual, np.argsort(-np.abs(residual), kind="stable")


class DoesNotFit(ValueError):
    """An expectation does not fit the model: it names a class the model lacks, or says
    what it expects in a form the task cannot check."""


def _probability_of(model: BaseEstimator, x: pd.DataFrame, of_class: Any) -> tuple[str, np.ndarray]:
    """The probability of the named class (with two classes and none named, the second)."""
    classes = list(model.classes_)
    if of_class is None:
        if len(classes) != 2:
            raise DoesNotFit(
                f"the model has {len(classes)} classes ({', '.join(map(str, classes))}): "
                "name the one whose probability it watches (of_class=...)"
            )
        of_class = classes[1]
    # Labels as text: a class written 1 matches a target read as "1", and the reverse.
    names = [str(label) for label in classes]
    if str(of_class) not in names:
        raise DoesNotFit(f"class {of_class!r} is not among the model's ({', '.join(names)})")
    index = names.index(str(of_class))
    return f"probability of class {classes[index]}", model.predict_proba(x)[:, index]


def _labels_met(
    model: BaseEstimator, x: pd.DataFrame, expected: list[Any]
) -> tuple[np.ndarray, np.ndarray]:
    """The predicted labels, and whether each is the expected one (compared as text)."""
    import numpy as np

    names = {str(label) for label in model.classes_}
    unknown = [label for label in expected if str(label) not in names]
    if unknown:
        raise DoesNotFit(
            f"expected label {unknown[0]!r} is not among the model's classes "
            f"({', '.join(sorted(names))})"
        )
    predicted = np.asarray(model.predict(x))
    met = np.array([str(got) == str(want) for got, want in zip(predicted, expected, strict=True)])
    return predicted, met


def _prediction(model: BaseEstimator, x: pd.DataFrame, of_class: Any) -> tuple[str, np.ndarray]:
    """The predicted value; a regression has no class to name."""
    import numpy as np

    if of_class is not None:
        raise DoesNotFit(f"a regression has no classes: leave out of_class={of_class!r}")
    return "prediction", np.asarray(model.predict(x), dtype=float)


def _within_ranges(
    model: BaseEstimator, x: pd.DataFrame, expected: list[Any]
) -> tuple[np.ndarray, np.ndarray]:
    """The predictions, and whether each lies in its expected (low, high) range."""
    import numpy as np

    try:
        ranges = np.asarray(expected, dtype=float).reshape(len(expected), 2)
    except (TypeError, ValueError):
        raise DoesNotFit(
            f"a regression expects a (low, high) range per row, got {expected!r}"
        ) from None
    predicted = np.asarray(model.predict(x), dtype=float)
    return predicted, (ranges[:, 0] <= predicted) & (predicted <= ranges[:, 1])


INFINITY = float("inf")

CLASSIFICATION = Task(
    name="classification",
    has_classes=True,
    metrics=(
        Metric("roc_auc", _roc_auc, True, 0.0, 1.0, 0.5),
        Metric("accuracy", _on_predictions("accuracy_score"), True, 0.0, 1.0),
        Metric("balanced_accuracy", _on_predictions("balanced_accuracy_score"), True, 0.0, 1.0),
        Metric(
            "f1_macro",
            _on_predictions("f1_score", average="macro", zero_division=0),
            True,
            0.0,
            1.0,
        ),
        Metric("log_loss", _log_loss, False, 0.0, INFINITY),
    ),
    primary_metric="roc_auc",
    make_baseline=_prior_classifier,
    make_tree=_classification_tree,
    leakage_metric="roc_auc",
    leakage_label="ROC AUC",
    leakage_on_ranks=False,
    row_errors=_wrong_class,
    error_name="error rate",
    how_wrong=_probability_of_actual,
    watched=_probability_of,
    meets_examples=_labels_met,
)

REGRESSION = Task(
    name="regression",
    has_classes=False,
    metrics=(
        # A constant model scores an R² of 0 at best (the mean of the scored rows).
        Metric("r2", _on_predictions("r2_score"), True, -INFINITY, 1.0, 0.0),
        Metric("rmse", _on_predictions("root_mean_squared_error"), False, 0.0, INFINITY),
        Metric("mae", _on_predictions("mean_absolute_error"), False, 0.0, INFINITY),
    ),
    primary_metric="r2",
    make_baseline=_mean_regressor,
    make_tree=_regression_tree,
    leakage_metric="r2",
    leakage_label="R² on the target's ranks",
    leakage_on_ranks=True,
    row_errors=_absolute_residual,
    error_name="mean absolute error",
    how_wrong=_residual,
    watched=_prediction,
    meets_examples=_within_ranges,
)

TASKS = {task.name: task for task in (CLASSIFICATION, REGRESSION)}


def _task_with(name: str, extra: tuple[Metric, ...]) -> Task:
    """The named task with these metrics added (how a task with_metrics is unpickled)."""
    return task_named(name).with_metrics(extra)


def task_named(name: str) -> Task:
    """The task of that name (the config key `task`); ConfigError for an unknown one."""
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown task {name!r} (expected one of: {', '.join(TASKS)})") from None
