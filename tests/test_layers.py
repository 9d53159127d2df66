"""The runtime's layers point one way: import-linter's contract ([tool.importlinter] in
pyproject.toml: core <- config <- data <- modelling <- artifacts | reporting <- workflows
<- cli | testing) holds, so a lower layer never imports a higher one."""

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
