"""The fitted model on disk: saved with skops (not raw pickle), loaded only when it can
be trusted.

skops rebuilds objects from a description of their types instead of running pickle's
arbitrary code. Loading trusts exactly the types the project's own registry and
preprocessing produce: the types of the artifact's registry model, fitted on a few
hundred rows of the built-in data set (with a date and a text column added, and
with as many classes as the artifact has: a three-class model holds types a
two-class one does not), are the allow-list; any other type in the file (even one
skops itself would trust) is refused, by name. Loading also checks
the file's sha256 against the run's manifest.json, so an artifact altered or
half-copied after training is refused.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from ..modelling.tasks import task_named
from ..run.errors import ArtifactError, ProjectError
from .files import read_json, write_atomically

MODEL_FILE = "model.skops"
# The run's record, and the subset of it that tools tracking metrics read (manifest.py).
MANIFEST_FILE = "manifest.json"
METRICS_FILE = "metrics.json"


def skops_io() -> ModuleType:
    """skops.io, imported without building its default allow-lists of types.

    When it is imported, skops lists every scikit-learn estimator (sklearn.utils.
    all_estimators imports every scikit-learn module, and pytest: about a second) and
    the module of every scipy.special ufunc (each one searched for in every loaded
    module: about a third of a second), on each command that saves or loads a model.
    This project never relies on those lists: load_model trusts exactly the types
    allowed_types names, whether skops would trust them or not, so both are skipped,
    and put back once skops is imported. Imported on first use only.
    """
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    import scipy
    import scipy.special
    import sklearn.utils

    discover, special = sklearn.utils.all_estimators, scipy.special
    sklearn.utils.all_estimators = lambda *args, **kwargs: []
    scipy.special = ModuleType("scipy.special")
    try:
        import skops.io
    finally:
        sklearn.utils.all_estimators, scipy.special = discover, special
    return skops.io


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


def types_in(content: bytes) -> set[str]:
    """Every type a skops file describes (module.name), read from its schema."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ArtifactError(f"not a readable skops file: {error}") from None
    found, nodes = set(), [schema]
    while nodes:
        node = nodes.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            nodes.extend(node.values())
        elif isinstance(node, list):
            nodes.extend(node)
    return found


# Plain data, whatever the user's columns hold: Python and numpy scalars and arrays.
BASIC_TYPES = frozenset(
    [
        f"builtins.{kind.__name__}"
        for kind in (bool, int, float, complex, str, bytes, list, tuple, dict, set, slice)
    ]
    + [
        f"numpy.{kind.__name__}"
        for kind in (
            np.ndarray,
            np.dtype,
            np.bool_,
            np.str_,
            np.int8,
            np.int16,
            np.int32,
            np.int64,
            np.uint8,
            np.uint16,
            np.uint32,
            np.uint64,
            np.float16,
            np.float32,
            np.float64,
        )
    ]
)


def allowed_types(
    task: str, name: str, n_classes: int = 2, params: dict[str, Any] | None = None
) -> frozenset[str]:
    """What an artifact of the registry model `name`, built with params over its registry
    defaults and fitted on n_classes classes (0 for regression), may hold: plain data,
    and the types the model and the shared preprocessing produce once fitted. Two
    classes and three or more differ (a multinomial loss); three and more do not; a
    hyper-parameter can change them too (a Poisson loss is another type)."""
    kind = task_named(task).class_kind(n_classes)
    return BASIC_TYPES | registry_types(task, name, kind, json.dumps(params or {}, sort_keys=True))


@functools.cache
def registry_types(task: str, name: str, n_classes: int, params: str = "{}") -> frozenset[str]:
    """The types the registry model `name` (with params, as JSON, over its defaults) and
    the shared preprocessing produce once fitted with n_classes classes (0: regression):
    the model fitted on 500 rows of the built-in data set, with a date column and a text
    column added, as saved by skops."""
    from ..ingest.synthetic import TARGETS, make_dataset, with_date_and_text
    from ..run.config import ColumnsConfig
    from ..yours.features import infer_schema
    from ..yours.models import build_model

    frame = with_date_and_text(make_dataset(task, 500))
    target = TARGETS[task]
    if n_classes > 2:  # the plan a customer holds: three classes, as text
        frame, target = frame.drop(columns=[target]), "plan"
    columns = ColumnsConfig(dates=["signup_date"], text=["feedback"])
    schema = infer_schema(frame, target, columns)
    model = build_model(task, name, schema, seed=0, n_jobs=1, params=json.loads(params))
    fitted = model.fit(frame.drop(columns=[target]), frame[target])
    return frozenset(types_in(skops_io().dumps(fitted)))


def built_with(manifest: dict[str, Any]) -> dict[str, Any]:
    """The hyper-parameters a run's model was built with over its registry defaults, read
    from its manifest: its config's train.params for the model, then the search's pick."""
    config, search = manifest.get("config"), manifest.get("search")
    train = config.get("train") if isinstance(config, dict) else None
    given = train.get("params") if isinstance(train, dict) else None
    chosen = given.get(manifest.get("model")) if isinstance(given, dict) else None
    params = dict(chosen) if isinstance(chosen, dict) else {}
    picked = search.get("best_params") if isinstance(search, dict) else None
    if isinstance(picked, dict):
        params.update({key.removeprefix("model__"): value for key, value in picked.items()})
    return params


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
    return manifest


def load_model(path: Path, manifest: dict[str, Any]) -> Pipeline:
    """Load a model file after checking its sha256 against the manifest and every type it
    holds against the trusted ones; refuse it otherwise, naming what is wrong.

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
    task, name = manifest.get("task"), manifest.get("model")
    classes = manifest.get("classes")
    from ..yours.models import model_names

    if not isinstance(task, str) or name not in model_names(task):
        raise ArtifactError(
            f"{MANIFEST_FILE} beside {path} names model {name!r} for task {task!r}, which is "
            "not in this project's registry; refusing to load it"
        )
    params = built_with(manifest)
    try:
        allowed = allowed_types(task, name, len(classes or ()), params)
    except (TypeError, ValueError, ProjectError):
        raise ArtifactError(
            f"{MANIFEST_FILE} beside {path} says model {name!r} was built with "
            f"{json.dumps(params)}, which this project's registry model no longer accepts; "
            "refusing to load it"
        ) from None
    try:
        held = types_in(content)
    except ArtifactError as error:
        raise ArtifactError(f"{path}: {error}") from None
    refused = sorted(held - allowed)
    if refused:
        raise ArtifactError(
            f"{path} holds types that this project's registry model {name!r} does not "
            f"produce: {', '.join(refused)}; refusing to load it"
        )
    sio = skops_io()
    trusted = [kind for kind in sio.get_untrusted_types(data=content) if kind in allowed]
    return sio.loads(content, trusted=trusted)
