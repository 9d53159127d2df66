"""The fitted model on disk: saved with skops (not raw pickle), loaded only when it can
be trusted.

skops rebuilds objects from a description of their types instead of running pickle's
arbitrary code. Loading trusts exactly the types that the model its manifest records
and the project's preprocessing produce once fitted (trust.py derives them in code,
never from a file beside the artifact); any other type in the file (even one skops
itself would trust) is refused, by name. Loading also checks the file's sha256 against
the run's manifest.json, so an artifact altered or half-copied after training is refused;
reading the manifest checks its own digest, so an edited record is refused too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sklearn.pipeline import Pipeline

from trimode.artifacts.manifest import DIGEST_FIELD, manifest_digest
from trimode.artifacts.skops_io import skops_io, types_in
from trimode.artifacts.trust import trusted_types
from trimode.core.errors import ArtifactError
from trimode.core.io import read_json, write_atomically
from trimode.core.layout import MANIFEST_FILE, MODEL_FILE
from trimode.core.project import Project
from trimode.modelling.evaluation import decided


def save_model(output_dir: Path, model: Pipeline) -> dict[str, Any]:
    """Write the fitted pipeline with skops, whole or not at all; return its file, size and
    sha256 for the manifest."""
    path = output_dir / MODEL_FILE
    content = skops_io().dumps(model)
    write_atomically(path, lambda temporary: temporary.write_bytes(content))
    return {
        "file": MODEL_FILE,
        "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest.json of a run's output folder."""
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise ArtifactError(
            f"no {MANIFEST_FILE} beside the model in {folder}: the artifact cannot be "
            "verified (train again to write one)"
        )
    manifest = read_json(path, ArtifactError, advice=": train again to write a new one")
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{path}: expected a JSON object, the run's record")
    # A record trimode 5.0 wrote (version 4) has no digest yet: it is read as it is (the
    # model file's own hash still checked), until the next train seals a new one.
    version = manifest.get("manifest_version")
    unsealed = DIGEST_FIELD not in manifest and isinstance(version, int) and version < 5
    if not unsealed and manifest.get(DIGEST_FIELD) != manifest_digest(manifest):
        raise ArtifactError(
            f"{path}: its content does not match the digest it was written with "
            f"({DIGEST_FIELD}): it was edited after training; the manifest is part of "
            "the model's integrity check: restore it, or train again"
        )
    return manifest


def load_model(path: Path, manifest: dict[str, Any], project: Project) -> Pipeline:
    """Load a model file after checking its sha256 against the manifest and every type it
    holds against those trusted for it (trust.py); refuse it otherwise, naming what is
    wrong.

    The file is read once: the bytes checked are the bytes loaded.
    """
    if not path.is_file():
        raise ArtifactError(f"no trained model at {path}")
    content = path.read_bytes()
    artifact = manifest.get("artifact")
    expected = str(artifact.get("sha256") if isinstance(artifact, dict) else None)
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise ArtifactError(
            f"{path}: its sha256 {actual[:12]}... differs from {expected[:12]}... in "
            f"{MANIFEST_FILE}: the file changed after training; refusing to load it"
        )
    trusted = trusted_in(content, manifest, project, path)
    # The model as it decides: with the decision threshold its sealed manifest records.
    return decided(skops_io().loads(content, trusted=trusted), manifest.get("decision_threshold"))


def trusted_in(content: bytes, manifest: dict[str, Any], project: Project, path: Path) -> list[str]:
    """The types of the skops file (content, read from path) that skops does not trust by
    itself and loading it trusts: those its model and the project's preprocessing
    produce (trust.py). A type outside them refuses the file (ArtifactError)."""
    try:
        held = types_in(content)
    except ArtifactError as error:
        raise ArtifactError(f"{path}: {error}") from None
    allowed = trusted_types(project, manifest, held, f"{MANIFEST_FILE} beside {path}")
    refused = sorted(held - allowed)
    if refused:
        raise ArtifactError(
            f"{path} holds types that its model {manifest.get('model')!r} and this project's "
            f"preprocessing do not produce: {', '.join(refused)}; refusing to load it "
            "(train again if you changed features.py since)"
        )
    return [kind for kind in skops_io().get_untrusted_types(data=content) if kind in allowed]
