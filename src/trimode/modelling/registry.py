"""The model registry of a project (its models.py, found through [tool.trimode]): names,
the unfitted pipelines built from them, their search spaces, and the checks of the
config keys that name them.

Every model is wrapped the same way: the project's `add_features` (when its features.py
has one: derived columns, inside the saved model so every mode, `predict` and the report
derive them alike), the preprocessing its registry entry names for the feature schema
(the project's build_preprocessor unless it names another: native categories for gradient
boosting, say), then the registry's estimator with the config's hyper-parameters over
its defaults. Every step reads the raw columns, so what inspects a model by its input
columns (the report, the explorer) works whatever the preprocessing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from trimode.config.checks import problem
from trimode.config.model import Config
from trimode.config.wording import Problem
from trimode.core import cache
from trimode.core.errors import ConfigError, ProjectError
from trimode.core.io import json_safe
from trimode.core.project import Project
from trimode.core.specs import FeatureSchema, ModelSpec
from trimode.data.schema import infer_schema
from trimode.modelling.evaluation import Decided
from trimode.modelling.splitting import Split

# Parameters that say how to run, not what to learn: never carried from one mode to another.
RUNTIME_PARAMS = frozenset({"n_jobs", "random_state", "verbose", "warm_start"})
# Rows of the small data set a model is fitted on to check its hyper-parameters, and the
# cache of the answers (bumped when the check changes).
CHECK_ROWS = 40
CHECK_KIND, CHECK_VERSION = "parameter-checks", 1
# The name of the pipeline's first step when features.py has an add_features.
ADD_FEATURES_STEP = "add_features"


def model_names(project: Project, task: str) -> list[str]:
    """Names of the registered models for a task, in registry order."""
    return list(project.registry().get(task, {}))


def spec_of(project: Project, task: str, name: str) -> ModelSpec:
    """The registry entry of a model; ConfigError naming the ones there are."""
    try:
        return project.registry()[task][name]
    except KeyError:
        raise ConfigError(
            f"unknown model {name!r} for task {task} (expected one of: "
            f"{', '.join(model_names(project, task))}; the registry is "
            f"{project.modules['models']})"
        ) from None


def make_estimator(
    project: Project, task: str, name: str, seed: int = 0, n_jobs: int = 1, params=None
) -> BaseEstimator:
    """The registry's unfitted estimator, its defaults overridden by params."""
    return spec_of(project, task, name).make(seed, n_jobs).set_params(**(params or {}))


def model_params(config: Config, name: str) -> dict[str, Any]:
    """The hyper-parameters a run gives the named model: train.params's, and
    class_weight = "balanced" when train.class_weight says so and the model takes it."""
    params = dict(config.train.params.get(name) or {})
    if config.train.class_weight and takes_class_weight(config, name):
        params.setdefault("class_weight", config.train.class_weight)
    return params


def takes_class_weight(config: Config, name: str) -> bool:
    """Whether the named registry model has a class_weight hyper-parameter."""
    estimator = make_estimator(config.project, config.task, name)
    return "class_weight" in estimator.get_params(deep=False)


def class_weight_warning(config: Config, names: list[str]) -> list[str]:
    """One warning naming the models train.class_weight cannot weigh (none: no warning)."""
    if not config.train.class_weight:
        return []
    unable = [name for name in names if not takes_class_weight(config, name)]
    if not unable:
        return []
    return [
        f"{config.where('train.class_weight')} = {config.train.class_weight!r} is not applied "
        f"to {', '.join(unable)}: {'it has' if len(unable) == 1 else 'they have'} no "
        "class_weight hyper-parameter"
    ]


def class_path(estimator: object) -> str:
    """Where an estimator's class is defined, module.name: what a manifest records, so
    that loading can rebuild it whatever the registry says by then."""
    return qualified_name(type(estimator))


def feature_frame(project: Project, x: pd.DataFrame) -> pd.DataFrame:
    """The rows as the preprocessing sees them: with the project's derived columns
    (features.py's add_features), when it has that function. Every run calls it here
    first (the schema is computed from its result), so a mistake in it is one line naming
    it, not a traceback from inside a pipeline."""
    features = project.module("features")
    add_features = getattr(features, "add_features", None)
    if add_features is None:
        return x
    where = f"{features.__file__}: add_features"
    try:
        frame = add_features(x.copy())
    except Exception as error:  # the user's code: any error it raises is theirs to fix
        raise ProjectError(f"{where} raised {type(error).__name__}: {error}") from error
    if not isinstance(frame, pd.DataFrame) or len(frame) != len(x):
        got = f"{len(frame)} rows" if isinstance(frame, pd.DataFrame) else type(frame).__name__
        raise ProjectError(
            f"{where} must return the frame it was given with its derived columns "
            f"({len(x)} rows), got {got}"
        )
    return frame


def build_model(
    project: Project,
    task: str,
    name: str,
    schema: FeatureSchema,
    seed: int,
    n_jobs: int = -1,
    params: dict[str, Any] | None = None,
) -> Pipeline:
    """The unfitted pipeline: the project's add_features (if any), its preprocessing for
    the schema (the columns after add_features), then the named model with its registry
    defaults, overridden by params (e.g. from train.params in configs/)."""
    features = project.module("features")
    steps: list[tuple[str, Any]] = []
    add_features = getattr(features, "add_features", None)
    if add_features is not None:
        steps.append((ADD_FEATURES_STEP, FunctionTransformer(add_features)))
    steps.append(("preprocess", preprocessing_of(project, task, name)(schema)))
    steps.append(("model", make_estimator(project, task, name, seed, n_jobs, params)))
    return Pipeline(steps)


def preprocessing_of(project: Project, task: str, name: str) -> Callable[[FeatureSchema], Any]:
    """The function building the named model's preprocessing from a feature schema: its
    registry entry's `preprocess`, else the project's features.build_preprocessor."""
    chosen = spec_of(project, task, name).preprocess
    return chosen if chosen is not None else project.module("features").build_preprocessor


def qualified_name(defined: Any) -> str:
    """Where a class or function is defined, module.name: what a manifest records of a
    model's estimator class and of the function that built its preprocessing, so that
    loading can build the same."""
    return f"{defined.__module__}.{defined.__qualname__}"


def search_space(project: Project, task: str, name: str) -> dict[str, list[Any]]:
    """The named model's search space, keyed as the pipeline's parameters (`model__...`)."""
    space = spec_of(project, task, name).search_space
    return {f"model__{key}": values for key, values in space.items()}


def chosen_params(project: Project, task: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The hyper-parameters among params (a run's, as its manifest records them) that
    differ from the registry's defaults, leaving out how to run (n_jobs, seeds...)."""
    defaults = json_safe(make_estimator(project, task, name).get_params(deep=False))
    return {
        key: value
        for key, value in params.items()
        if key not in RUNTIME_PARAMS and value != defaults.get(key)
    }


def invalid_params(estimator: BaseEstimator) -> str | None:
    """Why the estimator refuses its hyper-parameter values, or None when it takes them.

    scikit-learn checks parameters when fitting; a fit on a few rows is that check, with
    public API only. Its parameter errors are both ValueError and TypeError; a fit that
    fails otherwise (these rows are not the user's data) says nothing about them. The
    answer is kept (core/cache.py) per estimator class, parameters and library versions:
    every config load checks the same parameters, the commit hook's many times.
    """
    kind = type(estimator)
    key = cache.key_of(
        CHECK_VERSION, class_path(estimator), _sklearn_version(), estimator.get_params(deep=False)
    )
    found = cache.read(CHECK_KIND, key)
    if isinstance(found, dict) and set(found) == {"invalid"}:
        return found["invalid"]
    invalid = _fit_check(estimator)
    if kind.__module__.startswith("sklearn."):  # a class of the project's may change
        cache.write(CHECK_KIND, key, {"invalid": invalid})
    return invalid


def _fit_check(estimator: BaseEstimator) -> str | None:
    """What fitting the estimator on a few rows says of its parameters (invalid_params)."""
    rows = np.random.default_rng(0).normal(size=(CHECK_ROWS, 3))
    target = (rows[:, 0] > 0).astype(int) if is_classifier(estimator) else rows[:, 0]
    try:
        estimator.fit(pd.DataFrame(rows, columns=["a", "b", "c"]), target)
    except Exception as error:
        if isinstance(error, ValueError) and isinstance(error, TypeError):
            return " ".join(str(error).split())
    return None


def registry_problems(config: Config) -> Iterator[Problem]:
    """The config's keys that name registry models: each name known to the task's
    registry, each hyper-parameter one the estimator takes, with a value it accepts."""
    project, task = config.project, config.task
    known_models = model_names(project, task)
    expected = f"for task {task} (expected one of: {', '.join(known_models)})"
    for key, names in (
        ("train.models", config.train.models),
        ("compare.models", config.compare.models),
    ):
        for name in names:
            if name not in known_models:
                yield problem(config, key, f"names unknown model {name!r} {expected}")
    for name, params in config.train.params.items():
        key = f"train.params.{name}"
        if name not in known_models:
            yield problem(config, "train.params", f"names unknown model {name!r} {expected}", key)
            continue
        estimator = make_estimator(project, task, name)
        found = unknown_params(config, "train.params", key, name, params)
        if found:
            yield found
        # Checked by the estimator itself, before any data is read.
        elif invalid := invalid_params(estimator.set_params(**params)):
            file = config.file_of("train.params")
            yield Problem(file, "train.params", f"{file}: key '{key}': {invalid}")


def unknown_params(
    config: Config, key: str, named: str, name: str, params: dict[str, Any]
) -> Problem | None:
    """The problem of the hyper-parameters among params that the named registry model's
    estimator does not take (None: it takes them all); key is the config key, named the
    one the message names (train.params.<model>)."""
    known = sorted(make_estimator(config.project, config.task, name).get_params(deep=False))
    unknown = [param for param in params if param not in known]
    if not unknown:
        return None
    return problem(
        config,
        key,
        f"sets unknown hyper-parameter(s) {', '.join(map(repr, unknown))} "
        f"(the estimator takes: {', '.join(known)})",
        named,
    )


def feature_schema(config: Config, x: pd.DataFrame) -> FeatureSchema:
    """The feature schema of these rows (features, the target left out) as the pipeline
    sees them: the project's derived columns added, the config's column roles applied."""
    frame = feature_frame(config.project, x.drop(columns=[config.data.target], errors="ignore"))
    return infer_schema(frame, config.data.target, config.columns)


def as_preprocessed(model: Pipeline, split: Split) -> tuple[Pipeline, Split]:
    """The model from its preprocessing on, and the rows as that step sees them: with the
    columns its first step (features.py's add_features) derives, by that very step. What
    inspects errors by feature (the report, notebook 3) works on these. A Decided model
    keeps deciding on its threshold."""
    if isinstance(model, Decided):
        inner, seen = as_preprocessed(model.model, split)
        return Decided(inner, model.threshold), seen  # type: ignore[return-value]
    if model.steps[0][0] != ADD_FEATURES_STEP:
        return model, split
    derive = model[:1]
    return model[1:], Split(
        derive.transform(split.x_train.copy()),
        derive.transform(split.x_test.copy()),
        split.y_train,
        split.y_test,
    )


def _sklearn_version() -> str:
    """scikit-learn's version: its parameter checks change with it."""
    from importlib import metadata

    return metadata.version("scikit-learn")
