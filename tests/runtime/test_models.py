"""Every model in the registry (the project's models.py, found through [tool.trimode])
fits and predicts through the common interface, and its saved artifact loads, whatever
the classes and columns it was fitted on: loading trusts the types the model its run
records would hold, derived in code."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.model_selection import train_test_split

from trimode.artifacts import trust
from trimode.artifacts.model_file import load_model, save_model
from trimode.artifacts.skops_io import types_in
from trimode.artifacts.trust import trusted_types
from trimode.config.model import ColumnsConfig
from trimode.core.cache import CACHE_VARIABLE
from trimode.core.errors import ArtifactError, ConfigError
from trimode.core.io import json_safe
from trimode.core.project import Project, project_at
from trimode.core.tasks import task_named
from trimode.data.schema import infer_schema
from trimode.data.synthetic import TARGETS, make_dataset, with_date_and_text
from trimode.modelling.evaluation import fit_baseline, lift, score
from trimode.modelling.registry import build_model, preprocessing_of, qualified_name

from .conftest import STARTER_FILES, write_pyproject


def starter_model_names() -> dict[str, list[str]]:
    """The names in the template's own registry, {task: [name, ...]}, read when the tests
    are collected (the `starter` package is importable only once the session starts)."""
    spec = importlib.util.spec_from_file_location("starter_registry", STARTER_FILES / "models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {task: list(models) for task, models in module.MODELS.items()}


MODELS = starter_model_names()
ENTRIES = [(task, name) for task, models in MODELS.items() for name in models]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    """A project whose registry, preprocessing and expectations are the template's own."""
    return project_at(write_pyproject(tmp_path_factory.mktemp("project")).parent)


def recorded(
    project: Project, model, task: str, name: str, classes: list[Any] | None = None
) -> dict[str, Any]:
    """What a run's manifest records of a fitted pipeline's model, as train writes it: its
    task, registry name, class (module.name), hyper-parameters, the function that built
    its preprocessing, and classes."""
    estimator = model.named_steps["model"]
    kind = type(estimator)
    return json_safe(
        {
            "task": task,
            "model": name,
            "estimator": f"{kind.__module__}.{kind.__qualname__}",
            "params": estimator.get_params(deep=False),
            "preprocessing": qualified_name(preprocessing_of(project, task, name)),
            "classes": classes,
        }
    )


def allowed_types(
    project: Project, manifest: dict[str, Any], held: set[str] | frozenset[str] = frozenset()
) -> frozenset[str]:
    """The types loading trusts for the model a manifest describes."""
    return trusted_types(project, manifest, set(held), "manifest.json")


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
def test_model_fits_predicts_and_beats_the_dummy(task, name, splits, project):
    schema, x_train, x_test, y_train, y_test = splits[task]
    model = build_model(project, task, name, schema, seed=0, n_jobs=1).fit(x_train, y_train)

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

    # Fitted on other rows, it holds only the types loading trusts for it (trust.py).
    classes = list(model.classes_) if scored.has_classes else None
    held = types_in(sio.dumps(model))
    assert held <= allowed_types(project, recorded(project, model, task, name, classes), held)


def test_unknown_model_names_the_choices(project):
    schema = infer_schema(make_dataset("classification", 10), TARGETS["classification"])
    with pytest.raises(ConfigError, match=r"expected one of: .*logistic_regression"):
        build_model(project, "classification", "no_such_model", schema, seed=0)


@pytest.mark.parametrize(("task", "name"), ENTRIES, ids=[f"{t}-{n}" for t, n in ENTRIES])
def test_search_space_names_real_parameters(task, name, project):
    spec = project.registry()[task][name]
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
def test_every_model_loads_for_every_kind_of_target(task, name, kind, tmp_path, project):
    frame, target = labelled(kind)
    columns = ColumnsConfig(text=["feedback"])
    schema = infer_schema(frame, target, columns)
    assert schema.dates == ("signup_date",)  # found by its type, without being declared
    x, y = frame.drop(columns=[target]), frame[target]
    model = build_model(project, task, name, schema, seed=0, n_jobs=1).fit(x, y)
    classes = list(model.classes_) if task_named(task).has_classes else None
    held = types_in(sio.dumps(model))
    record = recorded(project, model, task, name, classes)
    assert held <= allowed_types(project, record, held), held - allowed_types(project, record, held)
    assert not [kind for kind in held if kind.startswith(("datetime", "pandas"))]
    artifact = save_model(tmp_path, model)
    manifest = {**record, "artifact": artifact}
    loaded = load_model(tmp_path / "model.skops", manifest, project)
    np.testing.assert_array_equal(loaded.predict(x.head(50)), model.predict(x.head(50)))


@pytest.mark.slow
def test_trust_is_per_class_count_not_widened(project):
    frame, target = labelled("3 text classes")
    schema = infer_schema(frame, target)
    model = build_model(project, "classification", "hist_gradient_boosting", schema, 0, 1)
    held = types_in(sio.dumps(model.fit(frame.drop(columns=[target]), frame[target])))
    multinomial = {kind for kind in held if "Multinomial" in kind}
    assert multinomial  # three classes hold a multinomial loss...
    # ...which a run of the same model on two classes never trusts.
    record = recorded(project, model, "classification", "hist_gradient_boosting", ["no", "yes"])
    assert not multinomial & allowed_types(project, record, held)


@pytest.mark.slow
def test_a_model_whose_parameters_change_its_types_loads_and_no_other_does(tmp_path, project):
    """A Poisson loss (train.params or the search's pick, recorded with the model's
    hyper-parameters) holds types the registry's default loss does not: loading trusts
    them for that model only."""
    frame, target = labelled("a number")
    schema = infer_schema(frame, target)
    model = build_model(
        project, "regression", "hist_gradient_boosting", schema, 0, 1, {"loss": "poisson"}
    )
    x = frame.drop(columns=[target])
    model.fit(x, frame[target])
    artifact = save_model(tmp_path, model)
    manifest = {
        **recorded(project, model, "regression", "hist_gradient_boosting"),
        "artifact": artifact,
    }
    del manifest["estimator"], manifest["params"]  # the registry entry's defaults
    with pytest.raises(ArtifactError, match="HalfPoissonLoss"):
        load_model(tmp_path / "model.skops", manifest, project)
    for described in (
        {"params": {"loss": "poisson"}},  # over the registry entry's defaults
        recorded(
            project, model, "regression", "hist_gradient_boosting"
        ),  # the class, as a run records it
    ):
        loaded = load_model(tmp_path / "model.skops", manifest | described, project)
        np.testing.assert_array_equal(loaded.predict(x.head(20)), model.predict(x.head(20)))


@pytest.fixture
def ridge(tmp_path, project):
    """A ridge of the registry fitted on the built-in rows and saved: (folder, model, the
    manifest its run would write, rows)."""
    frame = make_dataset("regression", 50)
    schema = infer_schema(frame, "lifetime_value")
    x = frame.drop(columns="lifetime_value")
    model = build_model(project, "regression", "ridge", schema, 0, 1).fit(
        x, frame["lifetime_value"]
    )
    manifest = {
        **recorded(project, model, "regression", "ridge"),
        "artifact": save_model(tmp_path, model),
    }
    return tmp_path, model, manifest, x


def test_a_model_the_registry_does_not_know_is_refused(ridge, project):
    folder, _, manifest, _ = ridge
    unknown = {key: value for key, value in manifest.items() if key not in ("estimator", "params")}
    with pytest.raises(ArtifactError, match="not in this project's registry") as refused:
        load_model(folder / "model.skops", {**unknown, "model": "lasso"}, project)
    assert "\n" not in str(refused.value)


def test_a_model_trained_before_its_registry_entry_went_still_loads(ridge, project):
    """Trust comes from the class and hyper-parameters the run recorded, not from what
    models.py says today: renaming or removing the entry breaks no published model."""
    folder, model, manifest, x = ridge
    loaded = load_model(folder / "model.skops", {**manifest, "model": "old_ridge"}, project)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize(
    ("estimator", "expected"),
    [
        ("builtins.eval", r"neither a scikit-learn or trimode class, one of this project's \(st"),
        ("os.system", r"neither a scikit-learn or trimode class, one of this project's"),
        ("sklearn.utils.Bunch", r"'sklearn\.utils\.Bunch', which is not an estimator"),
    ],
)
def test_a_recorded_class_that_is_no_trusted_estimator_is_refused(
    ridge, project, estimator, expected
):
    folder, _, manifest, _ = ridge
    with pytest.raises(ArtifactError, match=expected) as refused:
        load_model(folder / "model.skops", {**manifest, "estimator": estimator}, project)
    assert "\n" not in str(refused.value)


def test_a_repeated_load_fits_nothing(ridge, project, tmp_path, monkeypatch):
    """The derived list of types is cached per estimator, parameters and class count, in
    TRIMODE_CACHE_DIR: a second load of the same model fits no model to learn it."""
    folder, model, manifest, x = ridge
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_VARIABLE, str(cache))
    load_model(folder / "model.skops", manifest, project)
    assert list((cache / "trusted-types").glob("*.json"))

    def no_fit(*arguments):
        raise AssertionError("a model was fitted to learn its types again")

    monkeypatch.setattr(trust, "_derive", no_fit)
    loaded = load_model(folder / "model.skops", manifest, project)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    # Other parameters are another model: learnt afresh, not taken from the cache.
    with pytest.raises(AssertionError, match="fitted to learn its types"):
        load_model(folder / "model.skops", manifest | {"params": {"alpha": 3.0}}, project)


def test_a_repeated_parameter_check_fits_nothing_and_still_refuses(tmp_path, monkeypatch):
    """Checking train.params fits the estimator on a few rows once; the answer is kept per
    class, parameters and scikit-learn version, so the next load (the commit hook loads
    the configs many times) fits nothing and refuses the same bad value alike."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from trimode.workflows.session import load_config

    from .conftest import make_configs

    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "cache"))
    good = {"train": {"params": {"hist_gradient_boosting": {"max_iter": 7}}}}
    bad = {"train": {"params": {"hist_gradient_boosting": {"max_iter": 0}}}}
    configs = {
        name: make_configs(tmp_path / name, base=base)
        for name, base in [("good", good), ("bad", bad)]
    }
    load_config("test", configs["good"])
    with pytest.raises(ConfigError, match=r"train\.params\.hist_gradient_boosting.*max_iter"):
        load_config("test", configs["bad"])
    assert len(list((tmp_path / "cache" / "parameter-checks").glob("*.json"))) == 2

    def forbidden(self, *args, **kwargs):
        raise AssertionError("a cached parameter check fitted a model")

    monkeypatch.setattr(HistGradientBoostingClassifier, "fit", forbidden)
    load_config("test", configs["good"])
    with pytest.raises(ConfigError, match=r"train\.params\.hist_gradient_boosting.*max_iter"):
        load_config("test", configs["bad"])
