"""The explorer's embedded rows say, per row, its slice of each feature, its classes or
residual; and nothing in them can end the element that holds them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from trimode.core.tasks import CLASSIFICATION, REGRESSION
from trimode.reporting.explorer import ALPHABET, MAX_SLICES, OTHER, encode, explorer_rows
from trimode.reporting.inspection import MISSING, slice_keys

from .test_inspection import on_columns

# Human mode's report: slow tests (-m "not slow" leaves them out).
pytestmark = pytest.mark.slow

N_ROWS = 600


def decoded(codes: str | list[int]) -> list[int]:
    return [ALPHABET.index(code) for code in codes] if isinstance(codes, str) else codes


def labels(rows: int, classes: tuple = (0, 1), seed: int = 1) -> np.ndarray:
    """Random labels of the classes, one per row."""
    return np.random.default_rng(seed).choice(classes, size=rows)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x1 = rng.normal(size=N_ROWS)
    return pd.DataFrame(
        {
            "x1": np.where(rng.random(N_ROWS) < 0.05, np.nan, x1),
            "colour": rng.choice(["red", "green", "blue"], size=N_ROWS),
        }
    )


def test_each_rows_code_is_its_slice_of_the_feature(rows):
    y = pd.Series(labels(N_ROWS), index=rows.index)
    model = DummyClassifier(strategy="stratified", random_state=0).fit(rows, y)
    data = explorer_rows(model, rows, y, CLASSIFICATION)
    assert [(feature["name"], feature["kind"]) for feature in data["features"]] == [
        ("x1", "numeric"),
        ("colour", "categorical"),
    ]
    for feature in data["features"]:
        key = slice_keys(rows)[feature["name"]]
        slices = [feature["slices"][code] for code in decoded(feature["codes"])]
        assert slices == key.astype(str).tolist()
    assert data["features"][0]["slices"][-1] == MISSING  # x1 has missing values


def test_classes_a_class_unseen_in_training_and_probabilities(rows):
    y = pd.Series(labels(N_ROWS, ("a", "b", "c")), index=rows.index)
    model = on_columns(["x1"], LogisticRegression()).fit(rows.fillna(0), y)
    held_out = y.where(rows.index % 50 != 0, "d")  # a class the model never saw
    data = explorer_rows(model, rows.fillna(0), held_out, CLASSIFICATION)
    assert data["classes"] == ["a", "b", "c", "d"]
    assert data["positive"] == 0
    classes = np.array(data["classes"])
    assert (classes[decoded(data["actual"])] == held_out.to_numpy()).all()
    assert (classes[decoded(data["predicted"])] == model.predict(rows.fillna(0))).all()
    thousandths = np.array(data["probabilities"])
    assert thousandths.shape == (3, N_ROWS)
    assert np.abs(thousandths.sum(axis=0) - 1000).max() <= 2


def test_a_feature_of_many_categories_keeps_the_most_frequent_ones():
    rng = np.random.default_rng(2)
    names = [f"shop {number}" for number in range(100)]
    shops = rng.choice(names, size=5_000, p=np.linspace(2, 1, 100) / np.linspace(2, 1, 100).sum())
    x = pd.DataFrame({"shop": pd.Series(shops).where(rng.random(5_000) > 0.01)})
    y = pd.Series(rng.normal(size=5_000))
    data = explorer_rows(_Constant(0.0), x, y, REGRESSION)
    (feature,) = data["features"]
    assert len(feature["slices"]) == MAX_SLICES
    assert feature["slices"][-2:] == [OTHER, MISSING]
    most_frequent = x["shop"].value_counts().index[: MAX_SLICES - 2].tolist()
    assert feature["slices"][:-2] == most_frequent
    slices = np.array(feature["slices"])[decoded(feature["codes"])]
    shown = x["shop"].fillna(MISSING)
    shown = shown.where(shown.isin([*most_frequent, MISSING]), OTHER)
    assert slices.tolist() == shown.tolist()
    assert data["residual"] == [float(f"{value:.4g}") for value in y]


class _Constant:
    """A model that predicts the same value for every row."""

    def __init__(self, value: float):
        self.value = value

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        return np.full(len(x), self.value)


def test_codes_beyond_the_alphabet_are_integers():
    assert encode(np.array([0, 1, 61]), 62) == "01z"
    assert encode(np.array([0, 1, 62]), 63) == [0, 1, 62]


def test_the_json_block_cannot_end_its_element():
    from trimode.reporting.page import _json

    data = {"slices": ["</script><b>x</b>", "a & b", "<!--"]}
    inside = str(_json(data))  # what the page puts inside its <script> element
    assert "<" not in inside and ">" not in inside and "&" not in inside
    assert json.loads(inside) == data


def test_the_explorer_opens_on_the_feature_that_matters_never_a_constant_one():
    """A constant column comes first in the frame; the label follows x2 alone."""
    rng = np.random.default_rng(3)
    x = pd.DataFrame(
        {
            "constant": np.full(N_ROWS, 7.0),
            "region": rng.choice(["north", "south"], N_ROWS),
            "x1": rng.normal(size=N_ROWS),
            "x2": rng.normal(size=N_ROWS),
        }
    )
    y = pd.Series(np.where(x["x2"] > 0, "yes", "no"))
    # A model that ignores x2 errs by x2: the slices of x2 differ most in their error.
    model = on_columns(["x1"], LogisticRegression()).fit(x, y)
    names = [feature["name"] for feature in explorer_rows(model, x, y, CLASSIFICATION)["features"]]
    data = explorer_rows(model, x, y, CLASSIFICATION)
    assert names[data["first"]] == "x2"
    # The importance the run recorded wins, but never for a constant column.
    ranked = explorer_rows(model, x, y, CLASSIFICATION, ranking=["constant", "region", "x2"])
    assert names[ranked["first"]] == "region"
    regression = explorer_rows(_Constant(0.0), x, 5 * x["x1"], REGRESSION)
    assert names[regression["first"]] == "x1"
