"""What every command and notebook starts from: a mode's config (checked against the
project's model registry too), its rows, and the project's expectations of its model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from trimode.config import loading
from trimode.config.model import Config
from trimode.core.errors import ConfigError
from trimode.core.project import find_project

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from trimode.core.specs import FeatureSchema
    from trimode.data.loading import LoadedData
    from trimode.modelling.behaviour import Outcome

__all__ = ["check_expectations", "config_dir_of", "feature_schema", "load_config", "load_data"]


def config_dir_of(start: Path | str = ".") -> Path:
    """The config folder of the project holding `start` (its [tool.trimode] configs)."""
    project = find_project(start)
    if project is None:
        nearest = next(
            (
                folder / "pyproject.toml"
                for folder in (Path(start).resolve(), *Path(start).resolve().parents)
                if (folder / "pyproject.toml").is_file()
            ),
            None,
        )
        found = f"the nearest, {nearest}, has none" if nearest else "there is none"
        raise ConfigError(
            f"{Path(start).resolve()} is not inside a trimode project (a pyproject.toml with "
            f"a [tool.trimode] table, here or above: {found}): run from the project, or pass "
            "--config-dir"
        )
    if not project.config_dir.is_dir():
        raise ConfigError(
            f"{project.pyproject}: key 'tool.trimode.configs' names {project.configs!r}, which "
            f"is not a folder of the project (expected base.toml and the mode files there)"
        )
    return project.config_dir


def load_config(
    mode: str,
    config_dir: Path | str | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    options: dict[str, dict[str, Any]] | None = None,
    registry: bool = True,
) -> Config:
    """The checked config of a mode: configs/base.toml and configs/<mode>.toml merged, then
    overrides ({"data.max_rows": 1000}, named --set) and the settings of command-line
    options. config_dir defaults to the config folder of the project around the current
    folder. registry=False leaves out the checks against the model registry (they import
    scikit-learn): for commands that fit no model, such as fetch-sample."""
    checks: list[loading.Check] = []
    if registry:
        from trimode.modelling.registry import registry_problems
        from trimode.modelling.variants import variant_problems

        checks += [registry_problems, variant_problems]
    folder = config_dir_of() if config_dir is None else Path(config_dir)
    return loading.load_config(mode, folder, overrides, options=options, checks=checks)


def load_data(config: Config) -> LoadedData:
    """The rows the mode uses (its local sample, or every row of the source), checked
    against the mode's data contract; the rows whose target is missing left out."""
    from trimode.data.loading import load_dataset

    return load_dataset(config)


def feature_schema(config: Config, x: pd.DataFrame) -> FeatureSchema:
    """The feature schema of these rows as the pipeline sees them (derived columns added,
    [columns] roles applied)."""
    from trimode.modelling import registry

    return registry.feature_schema(config, x)


def check_expectations(
    config: Config, model: Pipeline, rows: pd.DataFrame, schema: FeatureSchema
) -> list[Outcome]:
    """The project's expectations of the mode's task, each checked on the rows (held-out
    rows, at most behaviour.MAX_ROWS of them) of a model built for the schema."""
    from trimode.core.tasks import task_named
    from trimode.modelling.behaviour import check_all

    expectations = config.project.expectations(config.task)
    return check_all(expectations, model, rows, task_named(config.task), schema)
