"""Each model gets the preprocessing it needs (its registry entry's `preprocess`), on a
real set: gradient boosting reads categories natively, one column per input, where a
linear model gets scaled one-hot columns, sparse when wide; every model still beats the
dummy baseline; a saved model loads through the allow-list and predicts the same."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from sklearn.model_selection import train_test_split

from trimode.artifacts.model_file import load_model, save_model
from trimode.config.model import ColumnsConfig
from trimode.core.errors import ArtifactError
from trimode.core.tasks import task_named
from trimode.data.schema import infer_schema
from trimode.modelling.evaluation import fit_baseline, lift, score
from trimode.modelling.registry import build_model, model_names

from .real_sets import FLIGHTS_DATES, FLIGHTS_TARGET, flights
from .test_models import project, recorded

__all__ = ["project"]  # the fixture, shared with test_models

TASK = task_named("classification")


@pytest.fixture(scope="module")
def rows():
    """6,000 flights that arrived, split in two: (schema, x_train, x_test, y_train, y_test)."""
    frame = flights(6_000).dropna(subset=[FLIGHTS_TARGET])
    x, y = frame.drop(columns=[FLIGHTS_TARGET]), frame[FLIGHTS_TARGET].astype(int)
    schema = infer_schema(frame, FLIGHTS_TARGET, ColumnsConfig(dates=list(FLIGHTS_DATES)))
    return (schema, *train_test_split(x, y, test_size=0.25, random_state=0, stratify=y))


@pytest.fixture(scope="module")
def boosting(rows, project):
    """The registry's gradient boosting, fitted on the flights."""
    schema, x_train, _, y_train, _ = rows
    model = build_model(project, TASK.name, "hist_gradient_boosting", schema, seed=0, n_jobs=1)
    return model.fit(x_train, y_train)


def test_gradient_boosting_reads_categories_natively_one_column_per_input(rows, boosting):
    schema, _, x_test, _, _ = rows
    assert set(schema.categorical) >= {"carrier", "origin", "dest", "tailnum"}
    matrix = boosting[:-1].transform(x_test)
    # No one-hot expansion: a column per numeric and categorical input, five per date.
    assert matrix.shape == (len(x_test), len(schema.numeric) + len(schema.categorical) + 5)
    categorical = [str(dtype) == "category" for dtype in matrix.dtypes]
    assert list(boosting.named_steps["model"].is_categorical_) == categorical
    assert sum(categorical) == len(schema.categorical)


def test_a_linear_model_gets_scaled_one_hot_columns_sparse_when_wide(rows, project):
    schema, x_train, _, y_train, _ = rows
    model = build_model(project, TASK.name, "logistic_regression", schema, seed=0, n_jobs=1)
    matrix = model[:-1].fit_transform(x_train, y_train)
    assert scipy.sparse.issparse(matrix)
    assert matrix.shape[1] > len(schema.columns) + 100  # a column per frequent category


@pytest.mark.parametrize(
    "name", ["logistic_regression", "random_forest", "hist_gradient_boosting", "mlp"]
)
def test_every_model_beats_the_dummy_on_flights(rows, project, name):
    assert name in model_names(project, TASK.name)
    schema, x_train, x_test, y_train, y_test = rows
    model = build_model(project, TASK.name, name, schema, seed=0, n_jobs=1).fit(x_train, y_train)
    value = score(TASK, model, x_test, y_test)["roc_auc"]
    baseline = score(TASK, fit_baseline(TASK, x_train, y_train), x_test, y_test)["roc_auc"]
    assert lift(TASK, "roc_auc", value, baseline) > 0.05


def test_a_saved_model_loads_through_the_allow_list_and_predicts_the_same(
    rows, boosting, project, tmp_path
):
    _, _, x_test, _, _ = rows
    manifest = {
        **recorded(project, boosting, TASK.name, "hist_gradient_boosting", [0, 1]),
        "artifact": save_model(tmp_path, boosting),
    }
    loaded = load_model(tmp_path / "model.skops", manifest, project)
    np.testing.assert_array_equal(loaded.predict_proba(x_test), boosting.predict_proba(x_test))
    # A row alone, an unseen carrier and a missing airport read as in a batch of rows.
    odd = x_test.head(20).copy()
    odd.iloc[0, odd.columns.get_loc("carrier")] = "never seen"
    odd.iloc[1, odd.columns.get_loc("origin")] = np.nan
    together = loaded.predict_proba(odd)
    alone = np.vstack([loaded.predict_proba(odd.iloc[[i]]) for i in range(len(odd))])
    np.testing.assert_array_equal(alone, together)


def test_a_manifest_naming_other_preprocessing_is_refused(rows, boosting, project, tmp_path):
    manifest = {
        **recorded(project, boosting, TASK.name, "hist_gradient_boosting", [0, 1]),
        "artifact": save_model(tmp_path, boosting),
    }
    with pytest.raises(ArtifactError, match=r"names preprocessing 'os\.system'"):
        load_model(tmp_path / "model.skops", {**manifest, "preprocessing": "os.system"}, project)
    # Saying it was the one-hot preprocessing (as an older manifest would) trusts none of
    # the native preprocessing's types.
    older = {key: value for key, value in manifest.items() if key != "preprocessing"}
    with pytest.raises(ArtifactError, match="OrdinalEncoder"):
        load_model(tmp_path / "model.skops", older, project)


def test_a_model_whose_preprocessing_function_was_renamed_loads_by_its_registry_entry(
    rows, boosting, project, tmp_path
):
    _, _, x_test, _, _ = rows
    manifest = {
        **recorded(project, boosting, TASK.name, "hist_gradient_boosting", [0, 1]),
        "artifact": save_model(tmp_path, boosting),
        "preprocessing": "starter.features.a_function_since_renamed",
    }
    loaded = load_model(tmp_path / "model.skops", manifest, project)
    np.testing.assert_array_equal(loaded.predict(x_test), boosting.predict(x_test))


def test_categories_read_as_the_text_of_each_value_whatever_the_column_type():
    """as_text reads a typed column once per distinct value: each row's text is str() of
    its own value, a missing one NaN, as for a column of mixed objects."""
    import pandas as pd

    from trimode.modelling.features import as_text

    columns = {
        "arrow_text": pd.array(["red", None, "blue", "red"], dtype="string[pyarrow]"),
        "numbers": [1.5, np.nan, -2.0, 1.5],
        "integers": pd.array([3, None, 3, 7], dtype="Int64"),
        "booleans": [True, False, True, True],
        "category": pd.Categorical(["a", "b", None, "a"]),
        "dates": pd.to_datetime(["2024-01-02", None, "2024-01-02", "2023-05-06"]),
        "mixed": [True, 1, "1", None],
    }
    frame = pd.DataFrame(columns)
    found = as_text(frame)
    for name in columns:
        values = frame[name].astype(object)
        expected = [str(value) if pd.notna(value) else None for value in values]
        assert [None if pd.isna(value) else value for value in found[name]] == expected, name
        assert found[name].dtype == object
