"""The error analysis finds what was planted in data built for the test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline

from trimode.config.model import ColumnsConfig
from trimode.core.tasks import CLASSIFICATION, REGRESSION
from trimode.data.profile import column_profile
from trimode.data.schema import infer_schema
from trimode.reporting.inspection import (
    MISSING,
    cohens_d,
    confusion,
    contrast_groups,
    data_summary,
    residuals_by_feature,
    slice_keys,
    worst_predictions,
    worst_slices,
)

# Human mode's error analysis: slow tests (-m "not slow" leaves them out).
pytestmark = pytest.mark.slow

N_ROWS = 2_000


def on_columns(columns: list[str], estimator):
    """A model that sees only the named columns of the frame it is given."""
    selector = ColumnTransformer([("keep", "passthrough", columns)])
    return make_pipeline(selector, estimator)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """Two informative numbers, two irrelevant columns and a segment."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x1": rng.normal(size=N_ROWS),
            "x2": rng.normal(size=N_ROWS),
            "noise": rng.normal(size=N_ROWS),
            "colour": rng.choice(["red", "green", "blue"], size=N_ROWS),
            "segment": rng.choice(["a", "b", "c", "noisy"], size=N_ROWS, p=[0.3, 0.3, 0.3, 0.1]),
        }
    )


def test_worst_slice_is_the_category_whose_labels_are_random(rows):
    rng = np.random.default_rng(1)
    clean = (rows["x1"] + 0.5 * rows["x2"] > 0).astype(int)
    random_labels = pd.Series(rng.integers(0, 2, size=N_ROWS), index=rows.index)
    y = clean.where(rows["segment"] != "noisy", random_labels)
    model = on_columns(["x1", "x2"], LogisticRegression()).fit(rows, y)

    slices = worst_slices(rows, y, model.predict(rows), CLASSIFICATION, min_rows=30, top_n=5)

    assert (slices.loc[0, "feature"], slices.loc[0, "slice"]) == ("segment", "noisy")
    assert slices.loc[0, "error"] > 0.3
    assert slices.loc[0, "overall_error"] < 0.1
    assert slices.loc[0, "rows"] == (rows["segment"] == "noisy").sum()
    assert slices.loc[0, "excess"] == pytest.approx(
        slices.loc[0, "error"] - slices.loc[0, "overall_error"]
    )
    assert 1 <= len(slices) <= 5
    assert slices["excess"].is_monotonic_decreasing and (slices["excess"] > 0).all()


def test_a_slice_no_worse_than_all_rows_is_never_listed(rows):
    y = pd.Series(0, index=rows.index)
    predicted = np.where(rows.index % 4 == 0, 1, 0)  # errors spread evenly over every slice
    one = rows.assign(constant="same")  # a slice holding every row
    slices = worst_slices(one, y, predicted, CLASSIFICATION, min_rows=30, top_n=50)
    assert "constant" not in set(slices["feature"])
    assert (slices["excess"] > 0).all()
    perfect = worst_slices(rows, y, np.zeros(len(y)), CLASSIFICATION, min_rows=30)
    assert perfect.empty  # no error anywhere: nothing is worse than all rows


def test_worst_slice_is_the_value_range_where_noise_is_large(rows):
    rng = np.random.default_rng(2)
    noisy = rows["x2"] > rows["x2"].quantile(0.8)
    y = 3 * rows["x1"] + rng.normal(scale=np.where(noisy, 5.0, 0.1))
    model = on_columns(["x1"], LinearRegression()).fit(rows, y)

    slices = worst_slices(rows, y, model.predict(rows), REGRESSION, min_rows=30, top_n=3)

    assert slices.loc[0, "feature"] == "x2"
    assert slices.loc[0, "slice"].startswith("(") and slices.loc[0, "slice"].endswith("]")
    assert slices.loc[0, "rows"] == noisy.sum()
    assert slices.loc[0, "error"] > 2 * slices.loc[0, "overall_error"]


def test_slices_smaller_than_min_rows_are_not_reported(rows):
    y = pd.Series(0, index=rows.index)
    predicted = np.where(rows["segment"] == "noisy", 1, 0)
    slices = worst_slices(rows, y, predicted, CLASSIFICATION, min_rows=1_000, top_n=10)
    assert slices.empty


def test_false_positive_contrast_finds_the_planted_feature(rows):
    # The model thresholds x1; rows where x2 is high are negatives all the same, so
    # its false positives are the rows with a high x2. False negatives come from
    # segment "c", which is positive whatever x1.
    actual = ((rows["x1"] > 0) & (rows["x2"] < 1)) | (rows["segment"] == "c")
    y = actual.astype(int)
    model = on_columns(["x1"], LogisticRegression()).fit(rows, (rows["x1"] > 0).astype(int))
    false_positives, false_negatives = contrast_groups(model, rows, y)

    assert (false_positives.group, false_positives.reference) == (
        "false positives",
        "true negatives",
    )
    # x1 is what the model decides on; among the others, the planted x2 comes first.
    others = false_positives.features.query("feature != 'x1'").reset_index(drop=True)
    assert others.loc[0, "feature"] == "x2"
    assert others.loc[0, "effect"] > 1
    assert abs(others.set_index("feature").loc["noise", "effect"]) < 0.3

    assert false_negatives.group == "false negatives"
    top = false_negatives.features.query("kind == 'categorical'").iloc[0]
    assert (top["feature"], top["category"]) == ("segment", "c")
    assert top["group"] > 0.95  # almost every false negative is in segment c
    shares = false_negatives.shares["segment"]
    assert shares.index[0] == "c"
    assert shares["group"].sum() == pytest.approx(1.0)


def test_cohens_d_is_the_difference_of_means_in_pooled_standard_deviations():
    a, b = np.array([2.0, 4.0, 6.0]), np.array([0.0, 2.0, 4.0])
    assert cohens_d(a, b) == pytest.approx(1.0)
    assert np.isnan(cohens_d(a[:1], b))


def test_confusion_matrix_is_labelled(rows):
    y = (rows["x1"] > 0).astype(int)
    model = on_columns(["x1"], LogisticRegression()).fit(rows, y)
    matrix = confusion(model, rows, y)
    assert list(matrix.index) == ["0", "1"] and list(matrix.columns) == ["0", "1"]
    assert (matrix.index.name, matrix.columns.name) == ("actual", "predicted")
    assert matrix.to_numpy().sum() == N_ROWS


def test_residuals_by_feature_cover_every_row_once_per_feature(rows):
    y = 3 * rows["x1"] + np.where(rows["segment"] == "noisy", 10.0, 0.0)
    model = on_columns(["x1"], LinearRegression()).fit(rows, y)
    residuals = residuals_by_feature(model, rows, y)
    assert set(residuals["feature"]) == set(rows.columns)
    assert (residuals.groupby("feature")["rows"].sum() == N_ROWS).all()
    x1_slices = residuals.loc[residuals["feature"] == "x1", "slice"].tolist()
    assert len(x1_slices) == 5 and x1_slices[0].startswith("[")  # in increasing order
    by_segment = residuals[residuals["feature"] == "segment"].set_index("slice")
    assert by_segment["mean_residual"].idxmax() == "noisy"


def test_worst_predictions_are_the_largest_errors(rows):
    y = (rows["x1"] > 0).astype(int)
    model = on_columns(["x1"], LogisticRegression()).fit(rows, y)
    # The three rows the model is surest about get the other label.
    flipped = rows["x1"].abs().nlargest(3).index
    y.loc[flipped] = 1 - y.loc[flipped]
    worst = worst_predictions(rows, y, model, CLASSIFICATION, top_n=5)
    assert list(worst.columns[:3]) == ["actual", "predicted", "p_actual"]
    assert list(worst.columns[3:]) == list(rows.columns)
    assert set(worst.index[:3]) == set(flipped)
    assert worst["p_actual"].is_monotonic_increasing
    assert (worst["actual"].iloc[:3] != worst["predicted"].iloc[:3]).all()

    target = 2 * rows["x1"]
    target.iloc[7] += 100
    regression = on_columns(["x1"], LinearRegression()).fit(rows, 2 * rows["x1"])
    worst = worst_predictions(rows, target, regression, REGRESSION, top_n=3)
    assert worst.index[0] == rows.index[7]
    assert worst.iloc[0]["residual"] == pytest.approx(100)


def test_worst_predictions_hold_only_wrong_rows_ids_first(rows):
    """Few rows are wrong: the table is shorter than top_n rather than list right ones."""
    x = rows.assign(customer=[f"c{number}" for number in range(N_ROWS)])
    schema = infer_schema(x, "", ColumnsConfig(ids=["customer"]))
    y = (rows["x1"] > 0).astype(int)
    y.iloc[:4] = 1 - y.iloc[:4]
    model = on_columns(["x1"], LogisticRegression(C=100)).fit(rows, (rows["x1"] > 0).astype(int))
    wrong = int((model.predict(x) != y).sum())
    worst = worst_predictions(x, y, model, CLASSIFICATION, top_n=50, schema=schema)
    assert 4 <= len(worst) == wrong < 50
    assert (worst["actual"] != worst["predicted"]).all()
    assert list(worst.columns[:4]) == ["customer", "actual", "predicted", "p_actual"]

    rng = np.random.default_rng(5)
    target = 1_000 + 2_000 * rows["x1"] + rng.normal(scale=100, size=N_ROWS)
    regression = on_columns(["x1"], LinearRegression()).fit(rows, target)
    worst = worst_predictions(x, target, regression, REGRESSION, top_n=N_ROWS, schema=schema)
    absolute = np.abs(worst["residual"])
    mean_absolute_error = np.abs(target - regression.predict(x)).mean()
    assert 0 < len(worst) < N_ROWS and (absolute >= mean_absolute_error).all()
    assert list(worst.columns[:5]) == [
        "customer",
        "actual",
        "predicted",
        "residual",
        "relative error",
    ]
    relative = absolute / worst["actual"].abs()
    assert np.allclose(worst["relative error"], relative)


def test_data_summary_describes_columns_and_target_balance(rows):
    frame = rows.assign(y=(rows["x1"] > 0).astype(int))
    frame.loc[:9, "colour"] = None
    summary = data_summary(frame, "y")
    columns = summary.columns
    assert list(columns.index) == list(frame.columns)
    assert columns.loc["colour", "missing"] == 10
    assert columns.loc["colour", "missing_share"] == pytest.approx(10 / N_ROWS)
    assert columns.loc["segment", "distinct"] == 4
    assert columns.loc["x1", "50%"] == pytest.approx(frame["x1"].median())
    assert columns.loc["x1", "min"] == frame["x1"].min()
    assert "noisy" in columns.loc["segment", "top_values"]
    # One profile of the columns: the spreadsheet copy's "columns" sheet says the same.
    profile = column_profile(frame)
    shared = list(profile.columns)
    pd.testing.assert_frame_equal(columns[shared], profile)
    assert summary.target_is_categorical
    assert summary.target["share"].sum() == pytest.approx(1.0)

    amounts = data_summary(rows.assign(amount=rows["x1"] * 10.5), "amount")
    assert not amounts.target_is_categorical
    assert amounts.target.loc["mean", "amount"] == pytest.approx(rows["x1"].mean() * 10.5)


def test_missing_values_are_a_slice_of_their_own(rows):
    x = rows.assign(colour=rows["colour"].where(rows.index >= 100))
    y = pd.Series(0, index=rows.index)
    predicted = np.where(rows.index < 100, 1, 0)
    slices = worst_slices(x, y, predicted, CLASSIFICATION, min_rows=50, top_n=1)
    assert (slices.loc[0, "feature"], slices.loc[0, "slice"]) == ("colour", MISSING)
    assert slices.loc[0, "error"] == 1.0


def test_multiclass_contrasts_every_class_with_the_rest(rows):
    y = pd.cut(rows["x1"], [-np.inf, -0.4, 0.4, np.inf], labels=["low", "mid", "high"])
    y = y.astype(str)
    model = on_columns(["x1"], LogisticRegression()).fit(rows, y)
    contrasts = contrast_groups(model, rows, y)
    assert len(contrasts) == 2 * len(model.classes_)
    for label, (false_positives, false_negatives) in zip(
        model.classes_, zip(contrasts[::2], contrasts[1::2], strict=True), strict=True
    ):
        assert false_positives.group == f"false positives (class {label} vs the rest)"
        assert false_negatives.reference == f"true positives (class {label} vs the rest)"
        counts = [false_positives.n_group, false_positives.n_reference]
        counts += [false_negatives.n_group, false_negatives.n_reference]
        assert sum(counts) == N_ROWS
        assert false_negatives.n_group + false_negatives.n_reference == (y == label).sum()
    assert confusion(model, rows, y).to_numpy().sum() == N_ROWS
    worst = worst_predictions(rows, y, model, CLASSIFICATION, top_n=3)
    assert (worst["p_actual"] < 0.5).all()


def test_ids_and_text_are_never_sliced_and_dates_are_sliced_by_year(rows):
    x = rows.assign(
        row_id=np.arange(N_ROWS),
        comment=[f"note {i}" for i in range(N_ROWS)],
        signup=pd.Timestamp("2021-06-01") + pd.to_timedelta(np.arange(N_ROWS) % 900, unit="D"),
    )
    schema = infer_schema(x, "", ColumnsConfig(ids=["row_id"], text=["comment"]))
    keys = slice_keys(x, schema=schema)
    assert "row_id" not in keys and "comment" not in keys
    assert set(keys["signup"].astype(str)) == {"2021", "2022", "2023"}
