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


def save_outputs(output_dir: Path, model: Pipeline, metrics: dict[str, Any]) -> None:
    """Write the model and metrics.json; each file appears whole or not at all."""
    model_bytes = sio.dumps(model)
    write_atomically(output_dir / MODEL_FILE, lambda path: path.write_bytes(model_bytes))
    text = json.dumps(metrics, indent=2) + "\n"
    write_atomically(output_dir / METRICS_FILE, lambda path: path.write_text(text))
