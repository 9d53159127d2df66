"""What the runtime works out once and keeps between runs, in the user's cache folder:
the types a saved model may hold (artifacts/trust.py), the hyper-parameters an estimator
accepts (modelling/registry.py). Never beside an artifact, never in the project.

TRIMODE_CACHE_DIR moves it (tests give each session its own). An entry is a JSON file
named by the sha256 of the facts it was worked out from; one that cannot be read is
worked out again, and one that cannot be written is no error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from trimode.core.io import write_json

CACHE_VARIABLE = "TRIMODE_CACHE_DIR"


def cache_root() -> Path:
    """TRIMODE_CACHE_DIR, else the user's cache folder (XDG on Linux, Library/Caches on
    macOS, LOCALAPPDATA on Windows) / trimode."""
    given = os.environ.get(CACHE_VARIABLE)
    if given:
        return Path(given)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "trimode"


def key_of(*facts: Any) -> str:
    """The name of the entry worked out from these facts (JSON data)."""
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


def read(kind: str, key: str) -> Any | None:
    """The value kept under kind/key, or None when there is none (or none readable)."""
    try:
        entry = json.loads((cache_root() / kind / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return entry.get("value") if isinstance(entry, dict) else None


def write(kind: str, key: str, value: Any) -> None:
    """Keep value under kind/key for the next run."""
    with contextlib.suppress(OSError):
        write_json(cache_root() / kind / f"{key}.json", {"value": value})
