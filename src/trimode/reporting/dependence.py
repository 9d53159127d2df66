"""How the prediction moves with one feature, the others held as they are: the partial
dependence of the whole pipeline on a raw input column, averaged over at most MAX_ROWS
held-out rows (drawn at random with the seed).

Computed as sklearn.inspection.partial_dependence computes it by brute force (every row
with the feature set to each grid value, predicted, averaged), but all grid values of a
feature in one prediction of the stacked rows instead of one call per value: a
pipeline's fixed cost per call outweighed the work on a thousand rows.

A numeric column is read on a grid of its values between its 5th and 95th percentiles; a
column of categories (or text, or dates read as text) at its MAX_CATEGORIES most frequent
values. What is averaged is the probability of each class the report reads (the second of
two classes; every class of more), or the predicted value for regression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from trimode.core.kinds import kind_of

MAX_ROWS = 1_000
MAX_CATEGORIES = 20
GRID_POINTS = 20


@dataclass(frozen=True)
class Dependence:
    """One feature's partial dependence: the grid of its values, and per output (a class's
    probability, or the prediction) the average at each value."""

    feature: str
    numeric: bool
    grid: list[object]
    averages: dict[str, np.ndarray]


def partial_dependences(
    model: BaseEstimator, x: pd.DataFrame, features: list[str], seed: int
) -> tuple[list[Dependence], int]:
    """The partial dependence of the model on each of features (input columns of x), and
    the number of rows it averaged over."""
    if len(x) > MAX_ROWS:
        x = x.sample(MAX_ROWS, random_state=seed)
    classes = list(getattr(model, "classes_", []))
    outputs = [str(classes[1])] if len(classes) == 2 else [str(label) for label in classes]
    found = []
    for feature in features:
        present = x[feature].dropna()
        numeric = kind_of(x[feature]) == "number"
        if numeric:  # the grid of values between the percentiles, missing ones left out
            grid = np.unique(
                np.quantile(present.astype(float), np.linspace(0.05, 0.95, GRID_POINTS))
            )
        else:
            grid = np.asarray(present.value_counts().index[:MAX_CATEGORIES])
        averages = _averages(model, x, feature, grid, len(classes))
        names = outputs or ["prediction"]
        found.append(
            Dependence(
                feature=feature,
                numeric=numeric,
                grid=list(grid),
                averages={name: averages[:, column] for column, name in enumerate(names)},
            )
        )
    return found, len(x)


def _averages(
    model: BaseEstimator, x: pd.DataFrame, feature: str, grid: np.ndarray, n_classes: int
) -> np.ndarray:
    """Per grid value (a row) the average over x's rows of each output (a column): the
    second class's probability of two, every class's of more, or the prediction."""
    stacked = pd.concat([x.assign(**{feature: value}) for value in grid], ignore_index=True)
    if n_classes:
        predicted = model.predict_proba(stacked)
        predicted = predicted[:, 1:] if n_classes == 2 else predicted
    else:
        predicted = np.asarray(model.predict(stacked), dtype=float).reshape(-1, 1)
    return predicted.reshape(len(grid), len(x), -1).mean(axis=1)
