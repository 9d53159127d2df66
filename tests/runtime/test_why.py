"""The report's calibration and partial dependence read what was planted: probabilities
of a calibrated model lie near the diagonal and beat the class share's Brier score, and
the prediction rises with the column that drives it and stays flat with noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_wine
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.inspection import partial_dependence
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from trimode.reporting.calibration import brier_table, reliability
from trimode.reporting.dependence import partial_dependences

N_ROWS = 4_000


def planted() -> tuple[pd.DataFrame, pd.Series]:
    """The class "yes" with probability sigmoid(2 * signal): a logistic model is calibrated."""
    rng = np.random.default_rng(0)
    x = pd.DataFrame(
        {
            "signal": rng.normal(size=N_ROWS),
            "noise": rng.integers(0, 50, N_ROWS),  # integers: sklearn's PD refuses them as they are
            "colour": rng.choice(["red", "green", "blue"], N_ROWS),
        }
    )
    chance = 1 / (1 + np.exp(-2 * x["signal"]))
    y = pd.Series(np.where(rng.random(N_ROWS) < chance, "yes", "no"), name="y")
    return x, y


def fitted(estimator, x, y):
    columns = ColumnTransformer(
        [
            ("colour", OneHotEncoder(), ["colour"]),
            ("numbers", StandardScaler(), ["signal", "noise"]),
        ]
    )
    half = len(x) // 2
    return make_pipeline(columns, estimator).fit(x[:half], y[:half]), x[half:], y[half:], y[:half]


def test_a_calibrated_binary_model_lies_near_the_diagonal_and_beats_the_share():
    model, x, y, y_train = fitted(LogisticRegression(), *planted())
    (curve,) = reliability(model, x, y, y_train)
    assert curve.label == "yes"  # the second class
    for values in (curve.predicted, curve.actual):
        assert ((values >= 0) & (values <= 1)).all()
    assert np.abs(curve.predicted - curve.actual).max() < 0.1
    assert curve.brier < curve.brier_of_prior
    assert brier_table([curve]).loc["yes", "better than the share"] == "yes"


def test_more_than_two_classes_get_one_curve_each_against_the_rest():
    data = load_wine(as_frame=True)
    x, y = data.data, data.target.map(lambda label: f"cultivar {label}")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x.iloc[order], y.iloc[order]
    half = len(x) // 2
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x[:half], y[:half])
    curves = reliability(model, x[half:], y[half:], y[:half])
    assert [curve.label for curve in curves] == list(model.classes_)
    for curve in curves:
        assert ((curve.actual >= 0) & (curve.actual <= 1)).all()
        assert 0 <= curve.brier < curve.brier_of_prior


def test_partial_dependence_rises_with_the_signal_and_stays_flat_with_noise():
    model, x, _, _ = fitted(LogisticRegression(), *planted())
    found, rows = partial_dependences(model, x, ["signal", "noise", "colour"], seed=0)
    assert rows == 1_000  # at most MAX_ROWS rows
    signal, noise, colour = found
    (probability,) = signal.averages.values()
    assert list(signal.averages) == ["yes"]
    assert (np.diff(probability) > 0).all()
    assert probability[-1] - probability[0] > 0.5
    (flat,) = noise.averages.values()
    assert np.ptp(flat) < 0.1
    assert set(colour.grid) == {"red", "green", "blue"}
    assert not colour.numeric


def test_partial_dependence_of_a_regression_is_the_prediction():
    x, _ = planted()
    y = pd.Series(5 * x["signal"] + np.random.default_rng(1).normal(size=N_ROWS), name="y")
    model, x_test, _, _ = fitted(HistGradientBoostingRegressor(max_iter=50), x, y)
    (found,), _ = partial_dependences(model, x_test, ["signal"], seed=0)
    (prediction,) = found.averages.values()
    assert list(found.averages) == ["prediction"]
    assert prediction[-1] - prediction[0] > 5


def test_partial_dependence_equals_scikit_learns_on_the_same_grid():
    """Stacking the grid into one prediction computes what sklearn's brute force does,
    for two classes, more, a category and a regression."""
    x, y = planted()
    data = load_wine(as_frame=True)
    three = pd.Series(data.target.map(lambda label: f"cultivar {label}"))
    wine = make_pipeline(StandardScaler(), LogisticRegression()).fit(data.data, three)
    y_value = 5 * x["signal"]
    cases = [
        (fitted(LogisticRegression(), x, y)[0], x[:300], ["signal", "colour"]),
        (wine, data.data, ["alcohol"]),
        (fitted(HistGradientBoostingRegressor(max_iter=20), x, y_value)[0], x[:300], ["signal"]),
    ]
    for model, rows, features in cases:
        found, _ = partial_dependences(model, rows, features, seed=0)
        for dependence in found:
            numeric = dependence.numeric
            expected = partial_dependence(
                model,
                rows.astype({dependence.feature: float}) if numeric else rows,
                [dependence.feature],
                kind="average",
                custom_values={dependence.feature: np.asarray(dependence.grid)},
                categorical_features=None if numeric else [dependence.feature],
            )["average"]
            ours = np.array(list(dependence.averages.values()))
            np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-12)
