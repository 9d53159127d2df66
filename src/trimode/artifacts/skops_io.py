"""skops, imported cheaply, and what a skops file holds, read without loading it."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from types import ModuleType

from trimode.core.errors import ArtifactError


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
