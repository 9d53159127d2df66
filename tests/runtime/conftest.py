"""Configs and data the machinery tests build for themselves, in temporary folders.

`make_configs` writes a config folder (base.toml and a file per mode) for the
built-in data set; `machine_config` loads one mode of it. Nothing here reads the
project's own configs/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomlkit

from {{ cookiecutter.package_name }}.ingest.synthetic import TARGETS
from {{ cookiecutter.package_name }}.modelling.pipeline import TrainingResult, train
from {{ cookiecutter.package_name }}.run.config import MODES, Config, load_config

# The task the project was generated for; tests of both tasks say so.
TASK = "classification"
# A small built-in data set, read whole (no sample): fast, and the same everywhere.
BASE: dict[str, Any] = {
    "data": {"source": "synthetic", "synthetic_rows": 3_000, "max_rows": 0},
    "compute": {"n_jobs": 1},
    "compare": {"cv_folds": 3},
}


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """base with changes applied, table by table."""
    result = {**base}
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def make_configs(
    folder: Path, task: str = TASK, base: dict | None = None, name: str = "configs", **modes: dict
) -> Path:
    """Write folder/<name>/: base.toml for the built-in data set of the task (BASE with
    `base` applied) and one file per mode (`modes[mode]`, or empty). Return that config
    folder; its parent, folder, is the project root its paths are relative to."""
    configs = folder / name
    configs.mkdir(parents=True, exist_ok=True)
    content = merged({"task": task, **BASE}, {"data": {"target": TARGETS[task]}})
    (configs / "base.toml").write_text(tomlkit.dumps(merged(content, base or {})))
    for mode in MODES:
        (configs / f"{mode}.toml").write_text(tomlkit.dumps(modes.get(mode, {})))
    return configs


def machine_config(
    folder: Path,
    mode: str = "test",
    task: str = TASK,
    base: dict | None = None,
    name: str = "configs",
    **settings,
) -> Config:
    """One mode of a config folder made by make_configs (settings: that mode's file)."""
    return load_config(mode, make_configs(folder, task, base, name, **{mode: settings}))


@pytest.fixture(scope="session")
def machine_run(tmp_path_factory: pytest.TempPathFactory) -> TrainingResult:
    """The pipeline, once, in test mode on 3,000 built-in rows, in a temporary project."""
    return train(machine_config(tmp_path_factory.mktemp("machine-run")))
