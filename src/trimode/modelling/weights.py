"""Sample weights (columns.weight): a column of the rows, not a feature, that every fit
whose estimator takes `sample_weight` and every metric weigh each row by.

The column stays in the rows a model is given (its preprocessing drops it, as it drops
columns.drop), so wherever rows go, in folds, searches and held-out sets, their weights
go with them: scorers read them from the rows (evaluation.row_weights), fits are given
them as the Pipeline's `model__sample_weight`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import has_fit_parameter

from trimode.config.model import Config
from trimode.core.errors import DataError
from trimode.core.io import json_safe
from trimode.modelling.evaluation import row_weights
from trimode.modelling.registry import make_estimator


def check_weights(config: Config, frame: pd.DataFrame) -> None:
    """The weight column is there and holds a number of at least 0 on every row, not all
    0: else one line naming it."""
    column = config.columns.weight
    if not column:
        return
    where = config.where("columns.weight")
    if column not in frame.columns:
        raise DataError(f"{where} names column {column!r}, which the data do not have")
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = frame[column][values.isna() | ~np.isfinite(values) | (values < 0)]
    if len(bad):
        first = bad.iloc[0]
        shown = "no value" if pd.isna(first) else repr(json_safe(first))
        raise DataError(
            f"{where}: column {column!r} must hold a finite number >= 0 on every row, got "
            f"{shown} on {len(bad)} of {len(frame)} rows"
        )
    if not (values > 0).any():
        raise DataError(f"{where}: column {column!r} is 0 on every row")


def takes_weights(estimator: BaseEstimator) -> bool:
    """Whether an estimator's fit (a registry pipeline's model step's) takes sample_weight."""
    if isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return has_fit_parameter(estimator, "sample_weight")


def fit_params(config: Config, estimator: BaseEstimator, x: pd.DataFrame) -> dict[str, Any]:
    """What fit is given besides x, y: the rows' weights, when columns.weight names a column
    and the estimator takes them (a pipeline's as its last step's)."""
    weights = row_weights(x, config.columns.weight)
    if weights is None or not takes_weights(estimator):
        return {}
    if isinstance(estimator, Pipeline):
        return {f"{estimator.steps[-1][0]}__sample_weight": weights}
    return {"sample_weight": weights}


def weight_warning(config: Config, names: list[str]) -> list[str]:
    """One warning naming the models columns.weight cannot weigh in fitting (their fit has
    no sample_weight): they learn unweighted, though their metrics are weighted."""
    if not config.columns.weight:
        return []
    unable = [
        name
        for name in names
        if not takes_weights(make_estimator(config.project, config.task, name))
    ]
    if not unable:
        return []
    return [
        f"{config.where('columns.weight')} = {config.columns.weight!r}: {', '.join(unable)} "
        f"{'takes' if len(unable) == 1 else 'take'} no sample_weight, so "
        f"{'it is' if len(unable) == 1 else 'they are'} fitted unweighted (metrics are weighted)"
    ]
