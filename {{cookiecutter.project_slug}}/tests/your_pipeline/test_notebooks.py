"""Every notebook runs top to bottom in test mode on your data, reads the published
outputs without changing them, and is committed without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.modelling.pipeline import TrainingResult

from ..conftest import PROJECT_ROOT, outputs_in

# The slow tests import nbformat and nbclient themselves: the commit hook collects
# this module too, and should not pay for imports it does not use.
# Whatever notebooks the project has: the template ships three, a team may add or remove.
NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs(path: Path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    assert "parameters" in code[0]["metadata"].get("tags", [])


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file under folder, by its relative path, with its content."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_in_test_mode(path: Path, test_run: TrainingResult):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    # Its parameters cell, as papermill would set it: test mode, reading the outputs
    # test_run published into a temporary folder instead of the project's outputs/test/.
    parameters = next(cell for cell in notebook.cells if cell.cell_type == "code")
    outputs = test_run.output_dir
    before = files_in(outputs)
    overrides = outputs_in(outputs)
    parameters.source = f'MODE = "test"\nCONFIG_OVERRIDES = {overrides!r}\n'
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        # Run from notebooks/, as Jupyter does: the configs' paths must still hold.
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on an error
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert errors == []
    assert files_in(outputs) == before  # read, never written
