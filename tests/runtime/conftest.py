"""The runtime's own tests: projects, configs and data they build themselves, in
temporary folders.

A test project is a folder with a pyproject.toml whose [tool.trimode] names the
template's own files (the registry, the preprocessing and the expectations a new project
starts with), copied once per session into the importable package `starter`:
the runtime is tested with exactly what a fresh project holds. `make_configs` writes such
a project with a config folder for the built-in data set; `machine_config` loads one
mode of it, checked as the command line checks it (registry included).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import tomlkit

from trimode.core.layout import MODES
from trimode.core.secrets import Secret
from trimode.data.synthetic import TARGETS
from trimode.modelling.compute import limit_threads
from trimode.workflows.session import load_config

ROOT = Path(__file__).resolve().parents[2]
# The project's own files in the template: what `starter` is made of.
STARTER_FILES = ROOT / "{{cookiecutter.project_slug}}" / "src" / "{{cookiecutter.package_name}}"
STARTER = "starter"
# The task tests use unless they say otherwise.
TASK = "classification"
# A small built-in data set, read whole (no sample): fast, and the same everywhere.
BASE: dict[str, Any] = {
    "data": {"source": "synthetic", "synthetic_rows": 3_000, "max_rows": 0},
    "compute": {"n_jobs": 1},
    "compare": {"cv_folds": 3},
}


@pytest.fixture(scope="session", autouse=True)
def starter_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's models.py, features.py and expectations.py as the package `starter`,
    importable for the whole session; trusted-type lists cached in a folder of the
    session's, not the user's cache."""
    folder = tmp_path_factory.mktemp("starter-package")
    package = folder / STARTER
    package.mkdir()
    (package / "__init__.py").write_text('"""The template\'s own project files."""\n')
    for name in ("models.py", "features.py", "expectations.py", "metrics.py"):
        shutil.copy(STARTER_FILES / name, package / name)
    sys.path.insert(0, str(folder))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRIMODE_CACHE_DIR", str(tmp_path_factory.mktemp("trusted-types")))
        yield package
    sys.path.remove(str(folder))


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """Run every test on one thread: on a few thousand rows it is the fastest."""
    with limit_threads(1):
        yield


def write_pyproject(root: Path, configs: str = "configs", package: str = STARTER) -> Path:
    """Make root a trimode project: a pyproject.toml whose [tool.trimode] names the
    package's models, features and expectations, and the config folder."""
    root.mkdir(parents=True, exist_ok=True)
    table = {
        "models": f"{package}.models",
        "features": f"{package}.features",
        "expectations": f"{package}.expectations",
        "metrics": f"{package}.metrics",
        "configs": configs,
    }
    path = root / "pyproject.toml"
    path.write_text(tomlkit.dumps({"project": {"name": root.name}, "tool": {"trimode": table}}))
    return path


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
    """Make folder a test project: its pyproject.toml, and folder/<name>/ holding base.toml
    for the built-in data set of the task (BASE with `base` applied) and one file per mode
    (`modes[mode]`, or empty). Return that config folder."""
    write_pyproject(folder, configs=name)
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
):
    """One mode of a config folder made by make_configs (settings: that mode's file)."""
    return load_config(mode, make_configs(folder, task, base, name, **{mode: settings}))


def with_data(config, **changes):
    """The config with data settings changed, as loading would hold them: a key that may
    hold a credential (source, query) as a Secret (model_copy does not validate)."""
    held = {
        key: Secret(str(value)) if isinstance(getattr(config.data, key), Secret) else value
        for key, value in changes.items()
    }
    return config.model_copy(update={"data": config.data.model_copy(update=held)})


# What a run writes in its project: its outputs and its samples.
RUN_OWNED = ("outputs", "data")


def user_files(root: Path) -> dict[str, str]:
    """Every file and folder of the project a run does not own, with its content's hash."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in RUN_OWNED or "__pycache__" in relative.parts:
            continue
        found[str(relative)] = (
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        )
    return found


def assert_user_files_kept(root: Path, before: dict[str, str], failed: bool) -> None:
    """No file a run did not make changed or went; a failed run made none either."""
    after = user_files(root)
    assert {path: after.get(path) for path in before} == before, "a file it did not make changed"
    if failed:
        assert after == before, "a failed run wrote files"


@pytest.fixture(scope="session")
def machine_run(tmp_path_factory: pytest.TempPathFactory):
    """The pipeline, once, in test mode on 3,000 built-in rows, in a temporary project."""
    from trimode.workflows.train import train

    return train(machine_config(tmp_path_factory.mktemp("machine-run")))
