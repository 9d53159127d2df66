"""Every model in the registry fits and predicts through the common interface."""

from __future__ import annotations

import numpy as np
import pytest
import skops.io as sio
from sklearn.model_selection import train_test_split

from {{ cookiecutter.package_name }}.artifacts import allowed_types, types_in
from {{ cookiecutter.package_name }}.evaluation import fit_baseline, lift, score
from {{ cookiecutter.package_name }}.models import MODELS, build_model
from {{ cookiecutter.package_name }}.preprocessing import infer_schema
from {{ cookiecutter.package_name }}.synthetic import TARGETS, make_dataset

PRIMARY = {"classification": "roc_auc", "regression": "r2"}
ENTRIES = [(task, name) for task, models in MODELS.items() for name in models]


@pytest.fixture(scope="module")
def splits():
    """A small train/test split of the built-in data set for each task."""
    result = {}
    for task, target in TARGETS.items():
        frame = make_dataset(task, 2_000)
        features, y = frame.drop(columns=[target]), frame[target]
        result[task] = (infer_schema(frame, target), *train_test_split(features, y, random_state=0))
    return result


# Every entry, both tasks: a few seconds, so the commit hook leaves it to the full suite.
@pytest.mark.slow
@pytest.mark.parametrize(("task", "name"), ENTRIES, ids=[f"{t}-{n}" for t, n in ENTRIES])
def test_model_fits_predicts_and_beats_the_dummy(task, name, splits):
    schema, x_train, x_test, y_train, y_test = splits[task]
    model = build_model(task, name, schema, seed=0, n_jobs=1).fit(x_train, y_train)

    predictions = model.predict(x_test)
    assert predictions.shape == (len(x_test),)
    if task == "classification":
        probabilities = model.predict_proba(x_test)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
        # The label metrics (accuracy, F1) score the most probable class: it must be
        # what predict returns.
        np.testing.assert_array_equal(model.classes_[probabilities.argmax(axis=1)], predictions)
    else:
        assert np.all(np.isfinite(predictions))

    metric = PRIMARY[task]
    value = score(task, model, x_test, y_test)[metric]
    baseline = score(task, fit_baseline(task, x_train, y_train), x_test, y_test)[metric]
    assert lift(task, metric, value, baseline) > 0.05

    # Fitted on other rows, it holds only the types loading trusts for it (artifacts.py).
    assert types_in(sio.dumps(model)) <= allowed_types(task, name)


def test_unknown_model_names_the_choices():
    from {{ cookiecutter.package_name }}.errors import ConfigError

    schema = infer_schema(make_dataset("classification", 10), TARGETS["classification"])
    with pytest.raises(ConfigError, match=r"expected one of: .*logistic_regression"):
        build_model("classification", "no_such_model", schema, seed=0)


@pytest.mark.parametrize(("task", "name"), ENTRIES, ids=[f"{t}-{n}" for t, n in ENTRIES])
def test_search_space_names_real_parameters(task, name):
    spec = MODELS[task][name]
    assert set(spec.search_space) <= set(spec.make(0, 1).get_params())
