"""Which types a saved model may hold: derived in code, never read from a file beside it.

A skops file says which types it holds; loading refuses any that the model it claims to
be could not hold. What that model holds is found by building it and fitting it on 500
rows of the built-in data set (a date and a text column added; three classes when the
artifact has three or more, a multinomial loss holding types two classes do not): its
estimator is the class and hyper-parameters its manifest records (only a scikit-learn or
trimode class, one of the project's own, or another library's that the registry's entry
of the same name makes), so a model trained before models.py changed still loads;
failing that, the registry entry of the same name. The preprocessing is built by the function the
manifest records (trimode's or the project's own; the registry entry's when that one is
gone; features.py's build_preprocessor for a manifest that records none), with the
project's add_features when it has one.

A derived list is cached on disk per (runtime and library versions, estimator and
parameters, preprocessing, class count, the features module's source), so a repeated `predict` fits
nothing. The cache lives in the user's cache folder (TRIMODE_CACHE_DIR overrides it),
not beside any artifact.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from trimode.artifacts.skops_io import skops_io, types_in
from trimode.config.model import ColumnsConfig
from trimode.core import cache
from trimode.core.errors import ArtifactError, ProjectError
from trimode.core.io import json_safe
from trimode.core.layout import VERSION
from trimode.core.project import Project
from trimode.core.specs import FeatureSchema
from trimode.core.tasks import Task, task_named
from trimode.data.schema import infer_schema
from trimode.data.synthetic import TARGETS, make_dataset, with_date_and_text
from trimode.modelling.features import native_categories, ordinal_categories
from trimode.modelling.registry import (
    ADD_FEATURES_STEP,
    RUNTIME_PARAMS,
    chosen_params,
    class_path,
    make_estimator,
    preprocessing_of,
    qualified_name,
)

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
# Rows of the built-in data set a model is fitted on to learn its types.
FIT_ROWS = 500
CACHE_KIND = "trusted-types"


class CannotBuild(Exception):
    """A way of building an artifact's estimator failed (its factory raised)."""


# A way to build the artifact's estimator: what it is (for the cache and messages), and
# a function returning it unfitted.
Candidate = tuple[str, Callable[[], BaseEstimator]]
# The function building the artifact's preprocessing from a schema, and its name.
Preprocessing = tuple[str, Callable[[FeatureSchema], Any]]


def trusted_types(
    project: Project, manifest: dict[str, Any], held: set[str], where: str
) -> frozenset[str]:
    """The types an artifact described by manifest may hold. The first way of building its
    estimator whose types cover what the file holds wins; when none does, the first
    one's types (the caller refuses what lies outside). `where` names the manifest."""
    task, name = manifest.get("task"), manifest.get("model")
    try:
        rules = task_named(task if isinstance(task, str) else "")
    except ProjectError:
        raise ArtifactError(f"{where} names task {task!r}; refusing to load it") from None
    kind = rules.class_kind(len(manifest.get("classes") or ()))
    preprocessing = _preprocessing(project, manifest, rules, where)
    candidates = _candidates(project, manifest, rules, where)
    if not candidates:
        raise ArtifactError(
            f"{where}: model {name!r} records no estimator class and is not in this project's "
            f"registry ({project.modules['models']}) for task {rules.name}: refusing to load it "
            "(put the entry back, or train again)"
        )
    found: list[frozenset[str]] = []
    for described, build in candidates:
        try:
            types = BASIC_TYPES | _types_of(project, rules, kind, preprocessing, described, build)
        except (CannotBuild, TypeError, ValueError, ProjectError):
            # Parameters the class no longer takes, a registry factory that fails: this
            # way cannot rebuild the model; the next one may, else the refusal below.
            continue
        if held <= types:
            return types
        found.append(types)
    if not found:
        raise ArtifactError(
            f"{where}: model {name!r} cannot be rebuilt from its record or this project's "
            f"registry ({project.modules['models']}) to check its types: refusing to load it "
            "(train again)"
        )
    return found[0]


def _candidates(
    project: Project, manifest: dict[str, Any], task: Task, where: str
) -> list[Candidate]:
    """The ways to build the artifact's estimator: the class and hyper-parameters its
    manifest records, then the registry's entry of its name with the hyper-parameters
    that differ from that entry's defaults."""
    found: list[Candidate] = []
    recorded = manifest.get("estimator")
    recorded_params = manifest.get("params")
    params: dict[str, Any] = recorded_params if isinstance(recorded_params, dict) else {}
    if isinstance(recorded, str):
        kind = _trusted_class(project, recorded, task, manifest.get("model"), where)
        if kind is not None:
            changed = _changed(kind, params)
            found.append(
                (f"{recorded} {_canonical(changed)}", lambda: kind().set_params(**changed))
            )
    name = manifest.get("model")
    if isinstance(name, str) and name in project.registry().get(task.name, {}):

        def from_registry() -> BaseEstimator:
            chosen = chosen_params(project, task.name, name, params)
            return make_estimator(project, task.name, name, params=chosen)

        # Built when needed (the registry's factory is the project's code: it may fail).
        found.append((f"registry {name} {_canonical(params)}", from_registry))
    return found


def _trusted_class(
    project: Project, path: str, task: Task, name: Any, where: str
) -> type[BaseEstimator] | None:
    """The estimator class a manifest names, when it is one the project may load: a
    scikit-learn or trimode class, one of the project's own package, or the class the
    registry's entry of the model's name makes (another library's, chosen in the
    project's code). None when it cannot be built without arguments (the registry's entry
    is tried instead)."""
    module_name, _, qualname = path.rpartition(".")
    own = project.modules["models"].partition(".")[0]
    if module_name.split(".")[0] not in ("sklearn", "trimode", own) and not _registry_makes(
        project, task, name, path
    ):
        raise ArtifactError(
            f"{where} names estimator {path!r}, which is neither a scikit-learn or trimode "
            f"class, one of this project's ({own}), nor the class its registry entry {name!r} "
            "makes: refusing to load it"
        )
    kind: Any  # whatever the name holds, checked below
    try:
        kind = functools.reduce(getattr, qualname.split("."), importlib.import_module(module_name))
    except (ImportError, AttributeError):
        return None
    if not (isinstance(kind, type) and issubclass(kind, BaseEstimator)):
        raise ArtifactError(
            f"{where} names {path!r}, which is not an estimator: refusing to load it"
        )
    try:
        kind()
    except TypeError:
        return None
    return kind


def _preprocessing(
    project: Project, manifest: dict[str, Any], task: Task, where: str
) -> Preprocessing:
    """The function that built the artifact's preprocessing: the one its manifest names
    when it is one a model of the project may be built with (trimode's, the project's
    build_preprocessor, a registry entry's); the registry entry's of the model's name
    when the named one, trimode's or the project's, is gone; the project's
    build_preprocessor when the manifest names none (older manifests). Never a function
    found by the name a file gives: calling it could do anything."""
    default = project.module("features").build_preprocessor
    recorded = manifest.get("preprocessing", qualified_name(default))
    entries = project.registry().get(task.name, {})
    known = {
        qualified_name(build): build
        for build in (
            default,
            native_categories,
            ordinal_categories,
            *(preprocessing_of(project, task.name, entry) for entry in entries),
        )
    }
    if isinstance(recorded, str) and recorded in known:
        return recorded, known[recorded]
    name = manifest.get("model")
    own = project.modules["models"].partition(".")[0]
    if not (isinstance(recorded, str) and recorded.split(".")[0] in ("trimode", own)):
        raise ArtifactError(
            f"{where} names preprocessing {recorded!r}, which is neither trimode's nor this "
            f"project's ({own}): refusing to load it"
        )
    if not isinstance(name, str) or name not in entries:
        raise ArtifactError(
            f"{where}: its preprocessing {recorded!r} is gone and model {name!r} is not in "
            f"this project's registry ({project.modules['models']}): refusing to load it "
            "(train again)"
        )
    entry = preprocessing_of(project, task.name, name)
    return qualified_name(entry), entry


def _registry_makes(project: Project, task: Task, name: Any, path: str) -> bool:
    """Whether the registry's entry `name` makes an estimator of the class at path."""
    if not isinstance(name, str) or name not in project.registry().get(task.name, {}):
        return False
    return class_path(make_estimator(project, task.name, name)) == path


def _changed(kind: type[BaseEstimator], params: dict[str, Any]) -> dict[str, Any]:
    """The recorded hyper-parameters that differ from the class's defaults (how to run,
    n_jobs and seeds, left out: they change no type)."""
    defaults = json_safe(kind().get_params(deep=False))
    return {
        key: value
        for key, value in params.items()
        if key in defaults and key not in RUNTIME_PARAMS and value != defaults[key]
    }


def _canonical(params: dict[str, Any]) -> str:
    return json.dumps(json_safe(params), sort_keys=True)


def _types_of(
    project: Project,
    task: Task,
    kind: int,
    preprocessing: Preprocessing,
    described: str,
    build: Callable[[], BaseEstimator],
) -> frozenset[str]:
    """The types of the estimator built by `build` behind the preprocessing, fitted
    with `kind` classes (0: regression): from the cache, else derived and cached."""
    # The project's code the types depend on: its preprocessing, and its registry (which
    # may define the estimator classes and the preprocessing functions themselves).
    sources = [project.source_hash(key) for key in ("features", "models")]
    key = cache.key_of(VERSION, _versions(), described, preprocessing[0], task.name, kind, *sources)
    cached = cache.read(CACHE_KIND, key)
    if isinstance(cached, list) and all(isinstance(item, str) for item in cached):
        return frozenset(cached)
    try:
        estimator = build()
    except Exception as error:  # the project's registry code: whatever it raises
        raise CannotBuild(str(error)) from error
    types = _derive(project, task, kind, preprocessing[1], estimator)
    cache.write(CACHE_KIND, key, sorted(types))
    return types


def _derive(
    project: Project,
    task: Task,
    kind: int,
    preprocessing: Callable[[FeatureSchema], Any],
    estimator: BaseEstimator,
) -> frozenset[str]:
    """Fit the estimator behind the preprocessing on FIT_ROWS built-in rows (with a date
    and a text column), and list the types skops saves of the result."""
    frame = with_date_and_text(make_dataset(task.name, FIT_ROWS))
    target = TARGETS[task.name]
    if kind > 2:  # the plan a customer holds: three classes, as text
        frame, target = frame.drop(columns=[target]), "plan"
    x, y = frame.drop(columns=[target]), frame[target]
    columns = ColumnsConfig.model_validate({"dates": ["signup_date"], "text": ["feedback"]})
    schema = infer_schema(x, target, columns)
    features = project.module("features")
    fitted = Pipeline([("preprocess", preprocessing(schema)), ("model", estimator)]).fit(x, y)
    add_features = getattr(features, "add_features", None)
    if add_features is not None:
        # Fitted alone: FunctionTransformer.fit never calls the function, which may need
        # the user's columns; its types are the same whatever rows it saw.
        step = FunctionTransformer(add_features).fit(x)
        fitted = Pipeline([(ADD_FEATURES_STEP, step), *fitted.steps])
    return frozenset(types_in(skops_io().dumps(fitted)))


@functools.cache
def _versions() -> list[str]:
    """The versions of the libraries whose classes a model holds."""
    from importlib import metadata

    return [metadata.version(name) for name in ("scikit-learn", "skops", "numpy")]
