"""The decision threshold of a binary classifier (evaluation.threshold): the probability
of the second class (in sorted order) from which the model predicts it, instead of 0.5.

A number is taken as given; "f1" or "cost" is tuned by scikit-learn's
TunedThresholdClassifierCV on the training rows (the search's folds), for F1 of the
second class or for the project's metric named "cost" (core/metrics.py). The threshold
is recorded in the manifest (sealed, plain data) and applied where the model's labels
are read (evaluation.Decided): the model file stays the registry's pipeline, which the
loader's allow-list already trusts.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.base import clone
from sklearn.metrics import f1_score, make_scorer
from sklearn.model_selection import TunedThresholdClassifierCV
from sklearn.pipeline import Pipeline

from trimode.config.model import Config
from trimode.core.errors import DataError
from trimode.core.metrics import metric_named
from trimode.modelling.splitting import make_folds

# Candidate thresholds TunedThresholdClassifierCV tries, between the least and greatest
# probability it sees.
CANDIDATES = 100


def fit_deciding(
    config: Config, model: Pipeline, x: pd.DataFrame, y: pd.Series, fitted: bool = False
) -> tuple[Pipeline, dict[str, Any] | None]:
    """The model fitted on x, y (already, when `fitted`), and its decision threshold's
    record ({"value", "tuned_for", "positive_class", ...}), None without one."""
    chosen = config.evaluation.threshold
    if chosen == "":
        return (model if fitted else model.fit(x, y)), None
    classes = sorted(y.unique())
    if len(classes) != 2:
        raise DataError(
            f"{config.where('evaluation.threshold')} = {chosen!r} is for two classes; the "
            f"target {config.data.target!r} holds {len(classes)}: remove it"
        )
    positive = classes[1]
    if not isinstance(chosen, str):
        fitted_model = model if fitted else model.fit(x, y)
        return fitted_model, {"value": float(chosen), "tuned_for": None, "positive_class": positive}
    folds = make_folds(config, x, y, "search.cv_folds")
    tuner = TunedThresholdClassifierCV(
        clone(model),
        scoring=_scorer(config, chosen, positive),
        response_method="predict_proba",
        thresholds=CANDIDATES,
        cv=folds,
        n_jobs=config.compute.n_jobs,
    ).fit(x, y)
    record = {
        "value": float(tuner.best_threshold_),
        "tuned_for": chosen,
        "positive_class": positive,
        "cv_folds": len(folds),
        # The tuned metric's mean over the folds, as its scorer gives it (a cost negated).
        "cv_score": float(tuner.best_score_),
    }
    return tuner.estimator_, record


def _scorer(config: Config, chosen: str, positive: Any) -> Any:
    """The scorer a threshold is tuned for: F1 of the positive class, or the metric named
    "cost" (config checks made sure there is one)."""
    if chosen == "f1":
        return make_scorer(f1_score, pos_label=positive)
    metric = metric_named(config.rules, "cost", config.project)
    assert metric is not None  # checked when the config was loaded
    return metric.compute.scorer  # type: ignore[attr-defined]
