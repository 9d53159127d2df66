"""The fitted model on disk: saved with skops (not raw pickle), loaded only when it can
be trusted.

skops rebuilds objects from a description of their types instead of running pickle's
arbitrary code, and refuses types nobody trusted. It trusts common scikit-learn and
numpy types itself; TRUSTED_TYPES adds the few others the registry's models hold.
Loading also checks the file's sha256 against the run's manifest.json, so an artifact
altered or half-copied after training is refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import skops.io as sio
from sklearn.pipeline import Pipeline

from .errors import ArtifactError
from .files import write_atomically

MODEL_FILE = "model.skops"
METRICS_FILE = "metrics.json"
MANIFEST_FILE = "manifest.json"

# Types the registry's fitted models hold beyond those skops trusts by default. When a
# new registry model adds others, tests/test_models.py names them: add them here only
# if they come from a library you trust.
TRUSTED_TYPES = (
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)


def save_model(output_dir: Path, model: Pipeline) -> dict[str, Any]:
    """Write the fitted pipeline with skops, whole or not at all; return its file, size and
    sha256 for the manifest."""
    path = output_dir / MODEL_FILE
    content = sio.dumps(model)
    write_atomically(path, lambda temporary: temporary.write_bytes(content))
    return {
        "file": MODEL_FILE,
        "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }


def untrusted_types(content: bytes) -> list[str]:
    """The types in skops content that neither skops nor TRUSTED_TYPES trusts."""
    return [name for name in sio.get_untrusted_types(data=content) if name not in TRUSTED_TYPES]


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest.json of a run's output folder."""
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise ArtifactError(
            f"no {MANIFEST_FILE} beside the model in {folder}: the artifact cannot be "
            "verified (train again to write one)"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ArtifactError(f"{path}: not valid JSON: {error}") from None


def load_model(path: Path, manifest: dict[str, Any]) -> Pipeline:
    """Load a model file after checking its sha256 against the manifest and every type it
    holds against the trusted ones; refuse it otherwise, naming what is wrong.

    The file is read once: the bytes checked are the bytes loaded.
    """
    if not path.is_file():
        raise ArtifactError(f"no trained model at {path}")
    content = path.read_bytes()
    expected = str(manifest.get("artifact", {}).get("sha256"))
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise ArtifactError(
            f"{path}: its sha256 {actual[:12]}... differs from {expected[:12]}... in "
            f"{MANIFEST_FILE}: the file changed after training; refusing to load it"
        )
    try:
        refused = untrusted_types(content)
    except Exception as error:  # not a skops file at all
        raise ArtifactError(f"{path}: not a readable skops file: {error}") from None
    if refused:
        raise ArtifactError(
            f"{path} holds types this project does not trust: {', '.join(refused)}; "
            "refusing to load it (see TRUSTED_TYPES in artifacts.py)"
        )
    return sio.loads(content, trusted=list(TRUSTED_TYPES))


def save_metrics(output_dir: Path, record: dict[str, Any], name: str = METRICS_FILE) -> Path:
    """Write a JSON record (metrics.json, manifest.json); the file appears whole or not at all."""
    path = output_dir / name
    text = json.dumps(record, indent=2) + "\n"
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
    return path
