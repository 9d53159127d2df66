"""Every notebook runs top to bottom in test mode, and is committed without outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

# The slow tests import nbformat and nbclient themselves: the commit hook collects
# this module too, and should not pay for imports it does not use.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Whatever notebooks the project has: the template ships three, a team may add or remove.
NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs(path: Path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    assert "parameters" in code[0]["metadata"].get("tags", [])


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_in_test_mode(path: Path, tmp_path: Path):
    import nbformat
    from nbclient import NotebookClient

    # A copy of the project's notebooks and configs, so that what a notebook writes
    # (outputs/test/) lands in the temporary folder, not in the project.
    shutil.copytree(PROJECT_ROOT / "configs", tmp_path / "configs")
    shutil.copytree(PROJECT_ROOT / "notebooks", tmp_path / "notebooks")
    notebook = nbformat.read(tmp_path / "notebooks" / path.name, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(tmp_path / "notebooks")}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on an error
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert errors == []
