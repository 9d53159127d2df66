"""Every model in the registry fits and predicts through the common interface, and
its saved artifact loads, whatever the classes and columns it was fitted on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.model_selection import train_test_split

from {{ cookiecutter.package_name }}.ingest.synthetic import TARGETS, make_dataset, with_date_and_text
from {{ cookiecutter.package_name }}.modelling.evaluation import fit_baseline, lift, score
from {{ cookiecutter.package_name }}.modelling.tasks import task_named
from {{ cookiecutter.package_name }}.publishing.artifacts import allowed_types, load_model, save_model, types_in
from {{ cookiecutter.package_name }}.run.config import ColumnsConfig
from {{ cookiecutter.package_name }}.run.errors import ArtifactError
from {{ cookiecutter.package_name }}.yours.features import infer_schema
from {{ cookiecutter.package_name }}.yours.models import MODELS, build_model

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
    if task_named(task).has_classes:
        probabilities = model.predict_proba(x_test)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
        # The label metrics (accuracy, F1) score the most probable class: it must be
        # what predict returns.
        np.testing.assert_array_equal(model.classes_[probabilities.argmax(axis=1)], predictions)
    else:
        assert np.all(np.isfinite(predictions))

    scored = task_named(task)
    metric = scored.primary_metric
    value = score(scored, model, x_test, y_test)[metric]
    baseline = score(scored, fit_baseline(scored, x_train, y_train), x_test, y_test)[metric]
    assert lift(scored, metric, value, baseline) > 0.05

    # Fitted on other rows, it holds only the types loading trusts for it (artifacts.py).
    assert types_in(sio.dumps(model)) <= allowed_types(task, name)


def test_unknown_model_names_the_choices():
    from {{ cookiecutter.package_name }}.run.errors import ConfigError

    schema = infer_schema(make_dataset("classification", 10), TARGETS["classification"])
    with pytest.raises(ConfigError, match=r"expected one of: .*logistic_regression"):
        build_model("classification", "no_such_model", schema, seed=0)


@pytest.mark.parametrize(("task", "name"), ENTRIES, ids=[f"{t}-{n}" for t, n in ENTRIES])
def test_search_space_names_real_parameters(task, name):
    spec = MODELS[task][name]
    assert set(spec.search_space) <= set(spec.make(0, 1).get_params())


def labelled(kind: str) -> tuple[pd.DataFrame, str]:
    """Rows of the built-in data with a target of the given kind, and its name: two
    integer classes, three text classes, four integer classes, or a number. Dates come
    as Python date objects (as pyarrow reads a CSV's dates) and a flag as booleans."""
    frame = with_date_and_text(make_dataset("classification", 600, seed=2), seed=2)
    frame["signup_date"] = frame["signup_date"].dt.date.astype(object)
    frame["paperless"] = frame["age"].fillna(0) > 40
    if kind == "2 integer classes":
        return frame, "churned"
    frame = frame.drop(columns="churned")
    if kind == "3 text classes":
        return frame, "plan"
    if kind == "4 integer classes":
        codes = {"north": 0, "south": 1, "east": 2, "west": 3}
        return frame.assign(region=frame["region"].map(codes)), "region"
    return frame, "monthly_charges"


KINDS = ["2 integer classes", "3 text classes", "4 integer classes"]
TRUST_CASES = [
    ("classification", name, kind) for name in MODELS["classification"] for kind in KINDS
] + [("regression", name, "a number") for name in MODELS["regression"]]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task", "name", "kind"), TRUST_CASES, ids=[f"{t}-{n}-{k}" for t, n, k in TRUST_CASES]
)
def test_every_model_loads_for_every_kind_of_target(task, name, kind, tmp_path):
    frame, target = labelled(kind)
    columns = ColumnsConfig(text=["feedback"])
    schema = infer_schema(frame, target, columns)
    assert schema.dates == ("signup_date",)  # found by its type, without being declared
    x, y = frame.drop(columns=[target]), frame[target]
    model = build_model(task, name, schema, seed=0, n_jobs=1).fit(x, y)
    classes = list(model.classes_) if task_named(task).has_classes else None
    held = types_in(sio.dumps(model))
    assert held <= allowed_types(task, name, len(classes or ())), held - allowed_types(
        task, name, len(classes or ())
    )
    assert not [kind for kind in held if kind.startswith(("datetime", "pandas"))]
    artifact = save_model(tmp_path, model)
    manifest = {"task": task, "model": name, "classes": classes, "artifact": artifact}
    loaded = load_model(tmp_path / "model.skops", manifest)
    np.testing.assert_array_equal(loaded.predict(x.head(50)), model.predict(x.head(50)))


@pytest.mark.slow
def test_trust_is_per_class_count_not_widened():
    frame, target = labelled("3 text classes")
    schema = infer_schema(frame, target)
    model = build_model("classification", "hist_gradient_boosting", schema, 0, 1)
    held = types_in(sio.dumps(model.fit(frame.drop(columns=[target]), frame[target])))
    multinomial = {kind for kind in held if "Multinomial" in kind}
    assert multinomial  # three classes hold a multinomial loss...
    assert not multinomial & allowed_types("classification", "hist_gradient_boosting", 2)


@pytest.mark.slow
def test_a_model_whose_parameters_change_its_types_loads_and_no_other_does(tmp_path):
    """A Poisson loss (train.params or the search's pick) holds types the registry's
    default loss does not: loading trusts them for that model only."""
    frame, target = labelled("a number")
    schema = infer_schema(frame, target)
    model = build_model("regression", "hist_gradient_boosting", schema, 0, 1, {"loss": "poisson"})
    x = frame.drop(columns=[target])
    model.fit(x, frame[target])
    artifact = save_model(tmp_path, model)
    manifest = {"task": "regression", "model": "hist_gradient_boosting", "artifact": artifact}
    with pytest.raises(ArtifactError, match="HalfPoissonLoss"):
        load_model(tmp_path / "model.skops", manifest)
    for recorded in (
        {"config": {"train": {"params": {"hist_gradient_boosting": {"loss": "poisson"}}}}},
        {"search": {"best_params": {"model__loss": "poisson"}}},
    ):
        loaded = load_model(tmp_path / "model.skops", manifest | recorded)
        np.testing.assert_array_equal(loaded.predict(x.head(20)), model.predict(x.head(20)))


def test_a_model_the_registry_does_not_know_is_refused(tmp_path):
    frame = make_dataset("regression", 50)
    schema = infer_schema(frame, "lifetime_value")
    model = build_model("regression", "ridge", schema, 0, 1).fit(
        frame.drop(columns="lifetime_value"), frame["lifetime_value"]
    )
    artifact = save_model(tmp_path, model)
    manifest = {"task": "regression", "model": "lasso", "classes": None, "artifact": artifact}
    with pytest.raises(ArtifactError, match="not in this project's registry"):
        load_model(tmp_path / "model.skops", manifest)
