"""Yours: edit freely. The model registry, the common interface through which every mode
trains models.

Each entry maps a name to a factory of an unfitted scikit-learn estimator (with
its default hyper-parameters) and a search space for tuning. Every model is
wrapped with the same preprocessing step. To add a model, add one entry to
MODELS under its task; the tests fit and check every entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from ..run.errors import ConfigError
from .features import FeatureSchema, build_preprocessor


@dataclass(frozen=True)
class ModelSpec:
    """How to make one model: a factory taking the seed and the number of cores
    (n_jobs, -1 for all), and a search space over the parameters of that
    estimator (tuning prefixes them with `model__`)."""

    make: Callable[[int, int], BaseEstimator]
    search_space: dict[str, list[Any]] = field(default_factory=dict)


MODELS: dict[str, dict[str, ModelSpec]] = {
    "classification": {
        "logistic_regression": ModelSpec(
            make=lambda seed, n_jobs: LogisticRegression(max_iter=2_000, random_state=seed),
            search_space={"C": [0.01, 0.1, 1.0, 10.0]},
        ),
        "random_forest": ModelSpec(
            make=lambda seed, n_jobs: RandomForestClassifier(
                n_estimators=200, min_samples_leaf=5, n_jobs=n_jobs, random_state=seed
            ),
            search_space={"max_depth": [None, 8, 16], "min_samples_leaf": [1, 5, 20]},
        ),
        "hist_gradient_boosting": ModelSpec(
            make=lambda seed, n_jobs: HistGradientBoostingClassifier(random_state=seed),
            search_space={"learning_rate": [0.03, 0.1, 0.3], "max_leaf_nodes": [15, 31, 63]},
        ),
    },
    "regression": {
        "ridge": ModelSpec(
            make=lambda seed, n_jobs: Ridge(alpha=1.0, random_state=seed),
            search_space={"alpha": [0.1, 1.0, 10.0, 100.0]},
        ),
        "random_forest": ModelSpec(
            make=lambda seed, n_jobs: RandomForestRegressor(
                n_estimators=200, min_samples_leaf=5, n_jobs=n_jobs, random_state=seed
            ),
            search_space={"max_depth": [None, 8, 16], "min_samples_leaf": [1, 5, 20]},
        ),
        "hist_gradient_boosting": ModelSpec(
            make=lambda seed, n_jobs: HistGradientBoostingRegressor(random_state=seed),
            search_space={"learning_rate": [0.03, 0.1, 0.3], "max_leaf_nodes": [15, 31, 63]},
        ),
    },
}


def model_names(task: str) -> list[str]:
    """Names of the registered models for a task, in registry order."""
    return list(MODELS.get(task, {}))


def unknown_params(task: str, name: str, params: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The parameters the named model does not take, and the ones it does."""
    known = sorted(MODELS[task][name].make(0, 1).get_params(deep=False))
    return [key for key in params if key not in known], known


def invalid_params(task: str, name: str, params: dict[str, Any]) -> str | None:
    """Why the named model refuses these hyper-parameter values (scikit-learn's own check
    of each value's type and range), or None when it takes them."""
    estimator = MODELS[task][name].make(0, 1).set_params(**params)
    try:
        # scikit-learn checks parameters at fit; this is that check, without data.
        estimator._validate_params()
    except (TypeError, ValueError) as error:  # sklearn's InvalidParameterError is both
        return " ".join(str(error).split())
    return None


def build_model(
    task: str,
    name: str,
    schema: FeatureSchema,
    seed: int,
    n_jobs: int = -1,
    params: dict[str, Any] | None = None,
) -> Pipeline:
    """Return the unfitted pipeline: the shared preprocessing, then the named model with
    its registry defaults, overridden by params (e.g. from train.params in configs/)."""
    try:
        spec = MODELS[task][name]
    except KeyError:
        raise ConfigError(
            f"unknown model {name!r} for task {task} (expected one of: "
            f"{', '.join(model_names(task))})"
        ) from None
    estimator = spec.make(seed, n_jobs).set_params(**(params or {}))
    return Pipeline([("preprocess", build_preprocessor(schema)), ("model", estimator)])


def search_space(task: str, name: str) -> dict[str, list[Any]]:
    """The named model's search space, keyed as the pipeline's parameters (`model__...`)."""
    return {f"model__{key}": values for key, values in MODELS[task][name].search_space.items()}
