"""Write a run's outputs: the fitted model (skops, not raw pickle) and its metrics."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import skops.io as sio
from sklearn.pipeline import Pipeline

from .files import write_atomically

MODEL_FILE = "model.skops"
METRICS_FILE = "metrics.json"


def git_commit(workdir: Path | str = ".") -> str | None:
    """The commit checked out in workdir, or None outside a git repository."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=workdir,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:  # git is not installed
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def save_model(output_dir: Path, model: Pipeline) -> Path:
    """Write the fitted pipeline with skops; the file appears whole or not at all."""
    path = output_dir / MODEL_FILE
    content = sio.dumps(model)
    write_atomically(path, lambda temporary: temporary.write_bytes(content))
    return path


def save_metrics(output_dir: Path, record: dict[str, Any]) -> Path:
    """Write metrics.json; the file appears whole or not at all."""
    path = output_dir / METRICS_FILE
    text = json.dumps(record, indent=2) + "\n"
    write_atomically(path, lambda temporary: temporary.write_text(text))
    return path
