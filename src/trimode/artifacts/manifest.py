"""The one record of a run, so that its model can be trusted and reproduced: the code
(git commit, dirty tree), the data (fingerprint), the settings (the merged config), the
libraries, and the results (metrics, gate, timings, artifact hash).

It is written as manifest.json; metrics.json is a documented subset of it (METRICS_FIELDS),
with the same names."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from dataclasses import dataclass, fields
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from trimode.core.io import json_safe

# Bumped when the record's fields change meaning (3: metrics.json became a subset of it;
# 4: the model's class, and the feature schema whole; 5: the digest of its own content).
MANIFEST_VERSION = 5
# The last field of manifest.json: the sha256 of the others (see manifest_digest), so an
# edit of the record (class labels, features, the model's hash) is seen when it is read.
DIGEST_FIELD = "manifest_sha256"


@dataclass(frozen=True)
class RunRecord:
    """Everything one training run records about itself, one name per fact, written as
    manifest.json; metrics.json holds the METRICS_FIELDS of it, under the same names.

    In the order written: what was trained; from what (settings, code, data, libraries,
    compute); how well it did (against the baseline, per class, the candidates it beat,
    what it warned about); the gate; when, how long, and the artifact's file and hash.
    Every field is required: a run that forgets one fails at once, before publishing.
    """

    mode: str
    task: str
    model: str
    target: str
    # The model's class (module.name), and its own hyper-parameters (the registry's, the
    # config's, the search's).
    estimator: str
    params: dict[str, Any]
    # The function that built its preprocessing (module.name; an older manifest has
    # none: the project's features.build_preprocessor built it).
    preprocessing: str
    # The feature columns by kind, their types and each column's role.
    features: dict[str, Any]
    # The class labels the model predicts (None for regression).
    classes: list[Any] | None
    # The merged settings as the files wrote them, and which files those were.
    config: dict[str, Any]
    config_files: list[str]
    # {"commit", "dirty"}: the code.
    git: dict[str, Any]
    # {"source", "rows", "schema", "content_hash", "dropped_missing_target"}: the data.
    data: dict[str, Any]
    # The data contract the rows were checked against (see data/contract.py).
    contract: dict[str, Any] | None
    # {"n_train", "n_test", "test_fraction", "seed"}: the held-out rows; and how they were
    # held out (see modelling/splitting.py): "kind" (random, group, time), "column", "key",
    # the groups on each side or the times, "held_out_sha256" (equal for the same rows).
    split: dict[str, Any]
    libraries: dict[str, str]
    compute: dict[str, Any]
    primary_metric: str
    # On the held-out rows, for the model and for the dummy baseline (NaN, written as
    # null: undefined on these rows).
    metrics: dict[str, float]
    baseline: dict[str, float]
    lift_over_baseline: float
    min_lift_over_baseline: float
    beats_baseline: bool
    # Classification: rows, predictions, precision, recall, F1 per class.
    per_class: list[dict[str, Any]] | None
    # Permutation importance of each input column on the held-out rows, with the rows it
    # used (see modelling/importance.py); older records lack it.
    importance: dict[str, Any] | None
    # Cross-validated scores of every model the run chose among (empty with one model).
    candidates: dict[str, dict[str, float | None]]
    warnings: list[str]
    notes: list[str]
    # What the warnings name, as data: {"weak_classes": the classes the model hardly tells
    # apart, "near_leaks": the features suspiciously strong alone (not accepted), with
    # their scores, "single_feature_scores": every feature's score alone}.
    findings: dict[str, Any]
    # {"enforced", "passed", "checks"}: the quality gate.
    gate: dict[str, Any]
    # The hyper-parameter search's record, when search.enabled.
    search: dict[str, Any] | None
    # Binary classification's decision threshold, when evaluation.threshold sets one:
    # {"value", "tuned_for", "positive_class", ...} (modelling/threshold.py); what
    # predict and the report apply to the model's probabilities.
    decision_threshold: dict[str, Any] | None
    refit_on_all_rows: bool
    timings_s: dict[str, float]
    duration_s: float
    started_at: str
    finished_at: str
    # {"file", "bytes", "sha256"}: the model file.
    artifact: dict[str, Any]
    manifest_version: int = MANIFEST_VERSION

    def to_json(self) -> dict[str, Any]:
        """The record as JSON data, manifest_version first, its digest last."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        return sealed(json_safe({field: values[field] for field in FIELDS[:-1]}))

    def metrics_json(self) -> dict[str, Any]:
        """The subset written as metrics.json (see METRICS_FIELDS)."""
        record = self.to_json()
        return {field: record[field] for field in METRICS_FIELDS}


# Every field of manifest.json, in the order written.
FIELDS = (
    "manifest_version",
    *(item.name for item in fields(RunRecord) if item.name != "manifest_version"),
    DIGEST_FIELD,
)


def manifest_digest(manifest: dict[str, Any]) -> str:
    """The sha256 of a manifest's content but its digest, as canonical JSON (sorted keys),
    the same for the record written and the record read back."""
    content = {key: value for key, value in manifest.items() if key != DIGEST_FIELD}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sealed(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with its digest as its last field."""
    content = {key: value for key, value in manifest.items() if key != DIGEST_FIELD}
    return {**content, DIGEST_FIELD: manifest_digest(content)}


# metrics.json: the results, for tools that track a run's numbers (a CI comment, DVC's
# `metrics`, a dashboard); the same names and values as in manifest.json.
METRICS_FIELDS = (
    "mode",
    "task",
    "model",
    "primary_metric",
    "metrics",
    "baseline",
    "lift_over_baseline",
    "min_lift_over_baseline",
    "beats_baseline",
    "per_class",
    "importance",
    "candidates",
    "gate",
    "timings_s",
    "duration_s",
    "finished_at",
    "artifact",
)
# The distributions whose versions decide what a saved model computes.
LIBRARIES = (
    "trimode",
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
