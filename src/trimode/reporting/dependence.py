"""How the prediction moves with one feature, the others held as they are: the partial
dependence (sklearn.inspection.partial_dependence) of the whole pipeline on a raw input
column, averaged over at most MAX_ROWS held-out rows (drawn at random with the seed).

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
from sklearn.inspection import partial_dependence

from trimode.core.kinds import kind_of
from trimode.modelling.compute import limit_threads

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
            # As floats: scikit-learn refuses integers (a grid value would be rounded).
            x = x.assign(**{feature: x[feature].astype("float64")})
            grid = np.unique(
                np.quantile(present.astype(float), np.linspace(0.05, 0.95, GRID_POINTS))
            )
            options: dict[str, object] = {}
        else:
            grid = np.asarray(present.value_counts().index[:MAX_CATEGORIES])
            options = {"categorical_features": [feature]}
        with limit_threads(1):  # many small predictions, as for importance.py
            result = partial_dependence(
                model, x, [feature], kind="average", custom_values={feature: grid}, **options
            )
        averages = result["average"]
        names = outputs or ["prediction"]
        found.append(
            Dependence(
                feature=feature,
                numeric=numeric,
                grid=list(result["grid_values"][0]),
                averages={name: averages[row] for row, name in enumerate(names)},
            )
        )
    return found, len(x)
