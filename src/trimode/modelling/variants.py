"""The variants `compare` ranks: each registry model as the run configures it, or, for a
model compare.variants names, one candidate per combination of the values it lists.

A variant is the model with train.params's hyper-parameters (and class_weight), the
variant's own values over them. Its name in the leaderboard is the model's followed by
its place in the list, `mlp#2`, short enough to type (`promote --variant mlp#2`); its
parameters stand beside it. scikit-learn's ParameterGrid expands the lists, as
GridSearchCV does, so a grid here tries exactly what a grid search would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sklearn.model_selection import ParameterGrid
from sklearn.pipeline import Pipeline

from trimode.config.checks import problem
from trimode.config.model import Config
from trimode.config.wording import Problem
from trimode.core.io import json_safe
from trimode.core.specs import FeatureSchema
from trimode.modelling.registry import (
    build_model,
    invalid_params,
    make_estimator,
    model_names,
    model_params,
    unknown_params,
)

# Between a model's name and its variant's place: `mlp#2`.
SEPARATOR = "#"


@dataclass(frozen=True)
class Candidate:
    """One row of a leaderboard to be: a registry model, and the values its variant sets."""

    name: str  # the row's name: the model's, or `model#k` for its k-th variant
    model: str  # the registry entry
    params: dict[str, Any]  # the variant's own values ({} for the model as configured)

    def label(self) -> str:
        """The variant's values as one short line, e.g. "hidden_layer_sizes=[64, 64]"."""
        return ", ".join(f"{key}={value!r}" for key, value in json_safe(self.params).items())

    def build(self, config: Config, schema: FeatureSchema, n_jobs: int = 1) -> Pipeline:
        """The unfitted pipeline of this candidate (one core by default: the folds share them)."""
        params = {**model_params(config, self.model), **self.params}
        return build_model(
            config.project, config.task, self.model, schema, config.train.seed, n_jobs, params
        )


def candidates(config: Config, models: list[str]) -> list[Candidate]:
    """The candidates of the named models in order: each model as configured, or its
    variants when compare.variants lists some for it."""
    found: list[Candidate] = []
    for model in models:
        grid = variant_grid(config, model)
        if grid is None:
            found.append(Candidate(model, model, {}))
            continue
        found += [
            Candidate(f"{model}{SEPARATOR}{place}", model, params)
            for place, params in enumerate(grid, start=1)
        ]
    return found


def variant_grid(config: Config, model: str) -> list[dict[str, Any]] | None:
    """The variants compare.variants lists for a model, each a dict of its values; None when
    it lists none."""
    listed = config.compare.variants.get(model)
    if not listed:
        return None
    return list(ParameterGrid(_as_grid(listed)))


def split_name(name: str) -> tuple[str, int | None]:
    """A leaderboard row's registry model and variant place: "mlp#2" -> ("mlp", 2)."""
    model, separator, place = name.rpartition(SEPARATOR)
    if separator and place.isdigit():
        return model, int(place)
    return name, None


def _as_grid(listed: dict[str, list[Any]] | list[dict[str, Any]]) -> Any:
    """What ParameterGrid takes: a table of lists as it is; a list of tables (one variant
    each) as a list of one-value grids."""
    if isinstance(listed, dict):
        return listed
    return [{key: [value] for key, value in variant.items()} for variant in listed]


def variant_problems(config: Config) -> Iterator[Problem]:
    """compare.variants's mistakes: a model the registry lacks, a hyper-parameter its
    estimator does not take, an empty list, a value the estimator refuses."""
    project, task = config.project, config.task
    known_models = model_names(project, task)
    for model, listed in config.compare.variants.items():
        key = f"compare.variants.{model}"
        if model not in known_models:
            yield problem(
                config,
                "compare.variants",
                f"names unknown model {model!r} for task {task} (expected one of: "
                f"{', '.join(known_models)})",
                key,
            )
            continue
        tables = [listed] if isinstance(listed, dict) else listed
        if not tables or any(not table for table in tables):
            yield problem(config, "compare.variants", "lists no variant (an empty table)", key)
            continue
        for table in tables:
            found = unknown_params(config, "compare.variants", key, model, table)
            if found:
                yield found
                break
            empty = [param for param, values in table.items() if values == []]
            if isinstance(listed, dict) and empty:
                yield problem(config, "compare.variants", f"lists no value for {empty[0]!r}", key)
                break
        else:
            yield from _refused(config, model, key)


def _refused(config: Config, model: str, key: str) -> Iterator[Problem]:
    """The first value of a model's variants its estimator refuses (checked one value at a
    time, each over the configured hyper-parameters: a grid's size is not fitted)."""
    project, task = config.project, config.task
    tables = config.compare.variants[model]
    grids = _as_grid(tables)
    for grid in grids if isinstance(grids, list) else [grids]:
        for param, values in grid.items():
            for value in values:
                estimator = make_estimator(project, task, model, params=model_params(config, model))
                invalid = invalid_params(estimator.set_params(**{param: value}))
                if invalid:
                    yield problem(
                        config, "compare.variants", f"refuses {param} = {value!r}: {invalid}", key
                    )
                    return
