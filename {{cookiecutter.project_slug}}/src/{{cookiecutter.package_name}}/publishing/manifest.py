"""What a run records about itself, so that its model can be trusted and reproduced:
the code (git commit, dirty tree), the data (fingerprint), the settings (the merged
config), the libraries, and the results (metrics, gate, timings, artifact hash)."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Bumped when the manifest's fields change meaning.
MANIFEST_VERSION = 2
# Every field of manifest.json, in the order written: what was trained; from what
# (settings, code, data, libraries, compute); how well it did (per class too, and what
# the run warned about); when, how long, and the artifact's file and hash.
FIELDS = (
    "manifest_version",
    "mode",
    "task",
    "model",
    "target",
    "params",
    "features",
    "classes",
    "config",
    "config_files",
    "git",
    "data",
    "contract",
    "split",
    "libraries",
    "compute",
    "primary_metric",
    "metrics",
    "baseline",
    "lift_over_baseline",
    "per_class",
    "warnings",
    "notes",
    "gate",
    "search",
    "refit_on_all_rows",
    "timings_s",
    "duration_s",
    "started_at",
    "finished_at",
    "artifact",
)
# The distributions whose versions decide what a saved model computes.
LIBRARIES = (
    "ml-project",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "scipy",
    "skops",
    "joblib",
    "threadpoolctl",
    "dask",
    "distributed",
)


def library_versions() -> dict[str, str]:
    """Python's version and those of the installed LIBRARIES (absent ones are left out)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _git(workdir: Path, *arguments: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *arguments], cwd=workdir, capture_output=True, text=True, check=False
        )
    except OSError:  # git is not installed
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def git_state(workdir: Path | str = ".") -> dict[str, Any]:
    """The commit checked out in workdir and whether files differ from it (None, None
    outside a git repository). Untracked files count as dirty: they may be code."""
    commit = _git(Path(workdir), "rev-parse", "HEAD")
    status = _git(Path(workdir), "status", "--porcelain") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def data_fingerprint(frame: pd.DataFrame, source: str, content_hash: str) -> dict[str, Any]:
    """Where the rows came from, how many, their columns and types, and their content hash."""
    return {
        "source": source,
        "rows": len(frame),
        "schema": {str(column): str(dtype) for column, dtype in frame.dtypes.items()},
        "content_hash": content_hash,
    }


def plain(value: Any) -> Any:
    """A value as JSON data: numpy scalars and arrays become numbers and lists, containers
    are converted item by item, and any other object becomes its repr."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray | list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def build_manifest(record: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The manifest in FIELDS order: each field from the keyword arguments, else from the
    run's metrics record. A field found in neither is a bug, and fails the run at once."""
    values = {**{key: value for key, value in record.items() if key in FIELDS}, **fields}
    values.setdefault("manifest_version", MANIFEST_VERSION)
    missing = [field for field in FIELDS if field not in values]
    if missing:
        raise ValueError(f"manifest fields without a value: {', '.join(missing)}")
    return {field: values[field] for field in FIELDS}
