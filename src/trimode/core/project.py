"""The user's project: where it is, and where its own code is.

A project is the folder whose pyproject.toml has a [tool.trimode] table naming the
modules the runtime takes the user's code from:

    [tool.trimode]
    models = "ml_project.models"              # MODELS: {task: {name: ModelSpec}}
    features = "ml_project.features"          # build_preprocessor(schema), add_features(frame)
    expectations = "ml_project.expectations"  # EXPECTATIONS: {task: [Expectation, ...]}
    metrics = "ml_project.metrics"            # optional: METRICS: {name: scorer}
    configs = "configs"                       # the config folder (the default)

The runtime reaches the user's code only through here, never by a fixed import path.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from trimode.core.errors import ConfigError
from trimode.core.tomlfile import read_toml

PYPROJECT = "pyproject.toml"
TABLE = "tool.trimode"
# What each module of the user's must define, by its key in [tool.trimode].
REQUIRED = {
    "models": ("MODELS",),
    "features": ("build_preprocessor",),
    "expectations": ("EXPECTATIONS",),
}
# What an optional module of the user's must define: metrics = "<package>.metrics" (the
# user's own metrics, by name: see core/metrics.py).
OPTIONAL = {"metrics": ("METRICS",)}


@dataclass(frozen=True)
class Project:
    """A project's root folder and the modules holding its own code."""

    root: Path
    # The module named by each key of REQUIRED: {"models": "ml_project.models", ...}.
    modules: Mapping[str, str]
    configs: str = "configs"

    @property
    def pyproject(self) -> Path:
        """The project's pyproject.toml."""
        return self.root / PYPROJECT

    @property
    def config_dir(self) -> Path:
        """The folder of base.toml and the mode files."""
        return self.root / self.configs

    @property
    def package_dir(self) -> Path | None:
        """The folder of the project's own package (the top package of [tool.trimode]
        models), in src/ or at the root; None when neither holds it."""
        top = self.modules.get("models", "").partition(".")[0]
        found = [self.root / "src" / top, self.root / top] if top else []
        return next((folder for folder in found if folder.is_dir()), None)

    def module(self, key: str) -> ModuleType:
        """The user's module named by [tool.trimode] `key` ("models", "features",
        "expectations"), imported once; an error names the key and the module."""
        return _import(self.root, key, self.modules[key])

    def source_hash(self, key: str) -> str:
        """The sha256 of the source file of the user's module named by `key` (what a
        result derived from that code depends on; empty for a module without a file)."""
        path = getattr(self.module(key), "__file__", None)
        return hashlib.sha256(Path(path).read_bytes() if path else b"").hexdigest()

    def user_metrics(self) -> Mapping[str, Any]:
        """The user's own metrics, {name: scikit-learn scorer}; empty without a module."""
        return self.module("metrics").METRICS if "metrics" in self.modules else {}

    def registry(self) -> Mapping[str, Mapping[str, Any]]:
        """The model registry: {task: {model name: ModelSpec}}."""
        return self.module("models").MODELS

    def expectations(self, task: str) -> list[Any]:
        """The user's expectations of a task's model, in the order written."""
        return list(self.module("expectations").EXPECTATIONS.get(task, []))


def find_project(start: Path | str = ".") -> Project | None:
    """The project holding `start` (this folder or the nearest parent with a pyproject.toml
    that has a [tool.trimode] table), or None."""
    folder = Path(start).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / PYPROJECT).is_file() and _table(candidate) is not None:
            return project_at(candidate)
    return None


@functools.cache
def project_at(root: Path) -> Project:
    """The project at root, as its pyproject.toml's [tool.trimode] describes it."""
    root = Path(root).resolve()
    if not (root / PYPROJECT).is_file():
        raise ConfigError(
            f"{root} holds no {PYPROJECT}: a trimode project's root holds one with a "
            f"[{TABLE}] table (the folder above its configs; pass the project's --config-dir)"
        )
    table = _table(root)
    if table is None:
        raise ConfigError(
            f"{root / PYPROJECT}: no [{TABLE}] table: it names the modules of your models, "
            'features and expectations (models = "<package>.models", ...)'
        )
    keys = {*REQUIRED, *OPTIONAL, "configs"}
    unknown = sorted(set(table) - keys)
    if unknown:
        raise ConfigError(
            f"{root / PYPROJECT}: unknown key '{TABLE}.{unknown[0]}' (expected one of: "
            f"{', '.join(sorted(keys))})"
        )
    values: dict[str, str] = {}
    for key in (*REQUIRED, "configs"):
        value = table.get(key, "configs" if key == "configs" else None)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"{root / PYPROJECT}: key '{TABLE}.{key}' must be "
                f"{'a folder' if key == 'configs' else 'a module name'} (a string), got {value!r}"
            )
        values[key] = value.strip()
    for key in OPTIONAL:
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(
                f"{root / PYPROJECT}: key '{TABLE}.{key}' must be a module name (a string), "
                f"got {value!r}"
            )
        if value is not None:
            values[key] = value.strip()
    configs = values.pop("configs")
    return Project(root=root, modules=values, configs=configs)


def _table(root: Path) -> dict[str, Any] | None:
    """The [tool.trimode] table of root/pyproject.toml, or None."""
    path = root / PYPROJECT
    if not path.exists():
        return None
    content = read_toml(path)
    table = content.get("tool", {}).get("trimode")
    return table if isinstance(table, dict) else None


@functools.cache
def _import(root: Path, key: str, name: str) -> ModuleType:
    """Import the user's module; a project not installed in the environment is found in
    its src/ folder (or its root) too."""
    module = _attempt(root, key, name)
    for folder in (root / "src", root):
        if module is not None:
            break
        if folder.is_dir() and str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
            module = _attempt(root, key, name)
            if module is None:
                sys.path.remove(str(folder))
    if module is None:
        raise ConfigError(
            f"{root / PYPROJECT}: key '{TABLE}.{key}' names module {name!r}, which "
            "cannot be imported (is the project installed? run `uv sync`)"
        )
    missing = [
        attribute for attribute in {**REQUIRED, **OPTIONAL}[key] if not hasattr(module, attribute)
    ]
    if missing:
        raise ConfigError(
            f"{module.__file__}: defines no {missing[0]} (the runtime reads it: "
            f"[{TABLE}] {key} = {name!r} in {root / PYPROJECT})"
        )
    return module


def _attempt(root: Path, key: str, name: str) -> ModuleType | None:
    """The user's module, or None when it is not found; what the module itself gets wrong
    (a syntax error, a package it imports that is not installed) is one line."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if _is_missing(error, name):
            return None
        raise ConfigError(
            f"{root / PYPROJECT}: key '{TABLE}.{key}': module {name!r} imports "
            f"{error.name or error}, which is not installed (add it to the project's "
            "dependencies, then run `uv sync`)"
        ) from None
    except SyntaxError as error:
        raise ConfigError(
            f"{error.filename}:{error.lineno}: {error.msg} (the module {name!r} that "
            f"[{TABLE}] {key} names in {root / PYPROJECT})"
        ) from None


def _is_missing(error: ModuleNotFoundError, name: str) -> bool:
    """Whether the error says module `name` itself (or a package holding it) is missing,
    not a module it imports (whose name may begin with the same letters)."""
    missing = error.name
    return missing is not None and (name == missing or name.startswith(f"{missing}."))
