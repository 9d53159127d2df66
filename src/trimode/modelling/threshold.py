"""The decision threshold of a binary classifier (evaluation.threshold): the probability
of the second class (in sorted order) from which the model predicts it, instead of 0.5.

A number is taken as given; "f1" or "cost" is tuned on the training rows as scikit-learn's
TunedThresholdClassifierCV does it: each row's probability from a model that did not see
it (fitted on the search's folds), then the candidate threshold whose labels
score best, for F1 of the second class or for the project's metric named "cost"
(core/metrics.py), weighted by columns.weight (which TunedThresholdClassifierCV takes
only with metadata routing switched on). The threshold is recorded in the manifest
(sealed, plain data) and applied where the model's labels are read (evaluation.Decided):
the model file stays the registry's pipeline, which the loader's allow-list trusts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import f1_score, make_scorer
from sklearn.pipeline import Pipeline

from trimode.config.model import Config
from trimode.core.errors import DataError
from trimode.core.metrics import metric_named
from trimode.modelling.compute import parallel_work
from trimode.modelling.evaluation import Decided, row_weights
from trimode.modelling.splitting import make_folds
from trimode.modelling.weights import fit_params

# Candidate thresholds, evenly spaced between the least and greatest probability seen
# (TunedThresholdClassifierCV's default).
CANDIDATES = 100


class _Probabilities(ClassifierMixin, BaseEstimator):
    """Stands for a classifier whose probabilities on the rows scored are given (the
    out-of-fold ones), so that a scorer reads the labels a threshold makes of them."""

    def __init__(self, classes: np.ndarray, probabilities: np.ndarray) -> None:
        self.classes, self.probabilities = classes, probabilities
        self.classes_ = classes

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return self.probabilities


def fit_deciding(
    config: Config, model: Pipeline, x: pd.DataFrame, y: pd.Series, fitted: bool = False
) -> tuple[Pipeline, dict[str, Any] | None]:
    """The model fitted on x, y (already, when `fitted`), and its decision threshold's
    record ({"value", "tuned_for", "positive_class", ...}), None without one."""
    chosen = config.evaluation.threshold
    params = fit_params(config, model, x)
    if chosen == "":
        return (model if fitted else model.fit(x, y, **params)), None
    classes = np.array(sorted(y.unique()))
    if len(classes) != 2:
        raise DataError(
            f"{config.where('evaluation.threshold')} = {chosen!r} is for two classes; the "
            f"target {config.data.target!r} holds {len(classes)}: remove it"
        )
    record: dict[str, Any] = {"value": chosen, "tuned_for": None, "positive_class": classes[1]}
    if isinstance(chosen, str):
        folds = make_folds(config, x, y, "search.cv_folds")
        rows, probabilities = _out_of_fold(config, model, x, y, folds, classes)
        scored_x, scored_y = x.iloc[rows], y.iloc[rows]
        value, best = _best_threshold(config, chosen, classes, probabilities, scored_x, scored_y)
        # The tuned metric on the training rows' out-of-fold labels, as its scorer gives
        # it (a cost negated).
        record.update(value=value, tuned_for=chosen, cv_folds=len(folds), cv_score=best)
    return (model if fitted else model.fit(x, y, **params)), record


def _out_of_fold(
    config: Config,
    model: Pipeline,
    x: pd.DataFrame,
    y: pd.Series,
    folds: list[tuple[np.ndarray, np.ndarray]],
    classes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the rows the folds score, and each one's probabilities (a column
    per class of `classes`) from the model fitted on its fold's training rows. Every row
    when the folds partition them (as cross_val_predict gives); time-ordered folds score
    all but the earliest rows, which cross_val_predict refuses."""

    def one(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        fold_x = x.iloc[train]
        fitted = clone(model).fit(fold_x, y.iloc[train], **fit_params(config, model, fold_x))
        found = fitted.predict_proba(x.iloc[test])
        # A class a fold's training rows lack (early time folds) has probability 0.
        probabilities = np.zeros((len(test), len(classes)))
        for column, label in enumerate(fitted.classes_):
            probabilities[:, int(np.flatnonzero(classes == label)[0])] = found[:, column]
        return probabilities

    with parallel_work():
        parts = Parallel(n_jobs=config.compute.n_jobs)(
            delayed(one)(train, test) for train, test in folds
        )
    rows = np.concatenate([test for _, test in folds])
    return rows, np.concatenate(parts)


def _best_threshold(
    config: Config,
    chosen: str,
    classes: np.ndarray,
    probabilities: np.ndarray,
    x: pd.DataFrame,
    y: pd.Series,
) -> tuple[float, float]:
    """The candidate threshold whose labels score best on these rows, and that score."""
    scorer, weights = _scorer(config, chosen, classes[1]), row_weights(x, config.columns.weight)
    given = {} if weights is None else {"sample_weight": weights}
    stand_in = _Probabilities(classes, probabilities)
    candidates = np.linspace(probabilities[:, 1].min(), probabilities[:, 1].max(), CANDIDATES)
    scores = [scorer(Decided(stand_in, value), x, y, **given) for value in candidates]
    best = int(np.argmax(scores))
    return float(candidates[best]), float(scores[best])


def _scorer(config: Config, chosen: str, positive: Any) -> Any:
    """The scorer a threshold is tuned for: F1 of the positive class, or the metric named
    "cost" (config checks made sure there is one)."""
    if chosen == "f1":
        return make_scorer(f1_score, pos_label=positive)
    metric = metric_named(config.rules, "cost", config.project)
    assert metric is not None  # checked when the config was loaded
    return metric.compute.scorer  # type: ignore[attr-defined]
