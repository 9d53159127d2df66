"""What both kinds of tests share.

- tests/machinery/: the package's machinery, on data and configs each test builds
  itself (the built-in data set, in temporary folders). They never read or edit
  configs/, so they pass whatever data the project is pointed at.
- tests/your_pipeline/: your configured pipeline on your configured data (configs/,
  test mode): it runs, beats the dummy baseline, gives sane outputs, and no feature
  leaks the target unless you accepted it. These are yours: add your own checks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.modelling.compute import limit_threads

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "configs"


def outputs_in(folder: Path) -> dict[str, object]:
    """Config overrides that send a run's outputs to a temporary folder (outside the
    project, hence allowed explicitly) instead of the project's outputs/<mode>/."""
    return {"outputs.root": str(folder), "outputs.allow_outside_project": True}


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """Run every test on one thread: on a few thousand rows it is the fastest, and a
    commit should not compete with the rest of the machine (see compute.py)."""
    with limit_threads(1):
        yield
