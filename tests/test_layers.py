"""The runtime's code holds together: its layers point one way (import-linter's contract,
[tool.importlinter] in pyproject.toml: core <- config <- data <- modelling <- artifacts |
reporting <- workflows <- cli | testing), and it type-checks as a project checks it."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contract_is_kept():
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command is not None, "import-linter is in the dev group: uv sync"
    result = subprocess.run([command], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_runtime_type_checks_as_an_ejected_project_checks_it():
    """mypy with [tool.mypy] of pyproject.toml: the settings of a generated project's mypy
    hook, which checks the runtime's code too once `trimode eject` copied it."""
    command = shutil.which("mypy", path=str(Path(sys.executable).parent))
    assert command is not None, "mypy is in the dev group: uv sync"
    result = subprocess.run([command], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
