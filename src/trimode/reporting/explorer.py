"""The rows behind the report's slice explorer: the held-out rows as compact columns.

The page (page.js) computes every number its explorer shows from what explorer_rows
returns, embedded in the page as JSON: per feature, the slice of each row (the value
ranges and categories of inspection.slice_keys, as one character per row); per row, the
actual and predicted class and the probability of each class in thousandths
(classification), or the residual to four significant digits (regression). That keeps
a page of 50,000 rows and ten features near one megabyte.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from trimode.core.specs import FeatureSchema
from trimode.core.tasks import Task
from trimode.reporting.inspection import MISSING, inspected, slice_keys

# One character per row and column: a slice's or a class's position in its list.
ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
# A feature of more categories keeps the most frequent ones; the rest are one slice.
OTHER = "(other)"
MAX_SLICES = len(ALPHABET)


def explorer_rows(
    model: BaseEstimator,
    x: pd.DataFrame,
    y: pd.Series,
    task: Task,
    schema: FeatureSchema | None = None,
    ranking: Sequence[str] = (),
) -> dict[str, Any]:
    """The explorer's data: the held-out rows x, y and the model's predictions on them.

    Keys: task, error_name, rows, alphabet, features (each: name, kind, slices, codes),
    first (the position of the feature the explorer opens on: see most_informative,
    with ranking the features by importance, most important first);
    with classes also classes, positive (the class shown first: the second of two, else
    the first), actual, predicted and probabilities (one list per class, in thousandths;
    null for a model without predict_proba); for regression, residual (actual -
    predicted). A code column is a string of `alphabet` characters, one per row, or a
    list of integers when there are more values than characters.
    """
    predicted = model.predict(x)
    _, kinds = inspected(x, schema)
    keys = slice_keys(x, schema=schema)
    features = [
        {
            "name": name,
            "kind": "numeric" if name in kinds.numeric else "categorical",
            **_slices(key),
        }
        for name, key in keys.items()
    ]
    errors = task.row_errors(y, predicted)
    data: dict[str, Any] = {
        "task": task.name,
        "error_name": task.error_name,
        "rows": len(y),
        "alphabet": ALPHABET,
        "features": features,
        "first": most_informative(keys, errors, ranking),
    }
    if task.has_classes:
        data.update(_classes(model, x, y, predicted))
    else:
        residual = y.to_numpy(float) - np.asarray(predicted, float)
        data["residual"] = [float(f"{value:.4g}") for value in residual]
    return data


def most_informative(
    keys: dict[str, pd.Series], errors: pd.Series, ranking: Sequence[str] = ()
) -> int:
    """The position (among keys) of the feature the explorer opens on, never one whose
    rows all fall in one slice (a constant) while another varies: the most important of
    ranking that varies; else the one whose slices' errors differ most (the rows'
    share-weighted variance of their slice's mean error against the overall mean)."""
    names = list(keys)
    varied = [name for name in names if len(keys[name].drop_duplicates()) > 1]
    if not varied:
        return 0
    for name in ranking:
        if name in varied:
            return names.index(name)
    overall = errors.mean()

    def spread(name: str) -> float:
        means = errors.groupby(keys[name], observed=True).transform("mean")
        return float(((means - overall) ** 2).mean())

    return names.index(max(varied, key=spread))


def _slices(key: pd.Series) -> dict[str, Any]:
    """A feature's slices that hold rows, in their order, and each row's slice."""
    key = key.cat.remove_unused_categories()
    names = [str(name) for name in key.cat.categories]
    codes = key.cat.codes.to_numpy()
    if len(names) > MAX_SLICES:
        present = [name for name in names if name != MISSING]
        kept = present[: MAX_SLICES - 2]
        names = [*kept, OTHER, *([MISSING] if MISSING in names else [])]
        position = {name: index for index, name in enumerate(names)}
        codes = np.array(
            [position.get(str(value), position[OTHER]) for value in key.astype(str)], dtype=int
        )
    return {"slices": names, "codes": encode(codes, len(names))}


def _classes(
    model: BaseEstimator, x: pd.DataFrame, y: pd.Series, predicted: np.ndarray
) -> dict[str, Any]:
    """The classes (the model's, then any held-out class it never saw) and, per row, the
    actual and predicted class and each class's probability."""
    known = list(model.classes_)
    unseen = sorted(set(y.unique()) - set(known), key=str)
    classes = pd.Index([*known, *unseen])
    probabilities = None
    if hasattr(model, "predict_proba"):
        thousandths = np.rint(model.predict_proba(x) * 1000).astype(int)
        probabilities = [thousandths[:, column].tolist() for column in range(len(known))]
    return {
        "classes": [str(label) for label in classes],
        "positive": 1 if len(known) == 2 else 0,
        "actual": encode(classes.get_indexer(y), len(classes)),
        "predicted": encode(classes.get_indexer(predicted), len(classes)),
        "probabilities": probabilities,
    }


def encode(codes: np.ndarray, distinct: int) -> str | list[int]:
    """Codes 0..distinct-1 as one ALPHABET character each, or as integers if too many."""
    codes = np.asarray(codes, dtype=int)
    if distinct <= len(ALPHABET):
        return "".join(np.array(list(ALPHABET))[codes].tolist())
    return codes.tolist()
