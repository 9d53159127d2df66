"""Every module of the runtime imports where POSIX-only modules do not exist (Windows),
and where the optional extras are not installed (a base install); none of the extras,
nor pytest, is imported by merely importing a module that does not need it.

Each check runs in a fresh process: the modules this one has imported already would
hide an import that fails or happens."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Imported at module level, any of these would stop the runtime on Windows.
POSIX_ONLY = ("fcntl", "termios", "pwd", "grp", "resource")
# The runtime's extras (mlflow, dask, excel, postgres): a base install has none of them.
OPTIONAL = ("mlflow", "dask", "distributed", "xlsxwriter", "psycopg")
# Imported by the pytest plugin (trimode.testing) only, which only pytest loads.
PLUGIN_ONLY = ("pytest",)

# Make the named modules unimportable, import every module of the runtime (the pytest
# plugin's last), and print which failed and which of the watched modules got imported
# before the plugin's.
IMPORT_EVERY_MODULE = """
import importlib, json, pkgutil, sys

blocked, watched = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for name in blocked:
    sys.modules[name] = None  # `import name` raises ImportError, as when it is absent
import trimode

names = sorted(
    (info.name for info in pkgutil.walk_packages(trimode.__path__, "trimode.")),
    key=lambda name: (name.startswith("trimode.testing"), name),
)
failed, loaded = {}, None
for name in names:
    if loaded is None and name.startswith("trimode.testing"):
        loaded = sorted(module for module in watched if sys.modules.get(module) is not None)
    try:
        importlib.import_module(name)
    except Exception as error:
        failed[name] = f"{type(error).__name__}: {error}"
print(json.dumps({"modules": names, "failed": failed, "loaded": loaded}))
"""


def import_every_module(blocked: tuple[str, ...]) -> dict:
    """What importing every runtime module does in a fresh process without `blocked`."""
    watched = [*OPTIONAL, *PLUGIN_ONLY]
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_MODULE, json.dumps(blocked), json.dumps(watched)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.slow
def test_every_module_imports_without_fcntl_and_imports_no_extra():
    result = import_every_module(POSIX_ONLY)
    assert len(result["modules"]) > 50  # every module, found by walking the package
    assert "trimode.artifacts.publish" in result["modules"]
    assert result["failed"] == {}
    # The extras are installed here: an import at module level would have loaded them.
    assert result["loaded"] == []


@pytest.mark.slow
def test_every_module_imports_in_a_base_install():
    result = import_every_module(OPTIONAL)
    assert result["failed"] == {}
