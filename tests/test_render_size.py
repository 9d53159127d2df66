"""A generated project holds what its user owns, and stays small: a default render,
uv.lock and docs/ aside, is at most 1,500 lines. Its docs/configuration.md is the
runtime's configuration reference, as its answers call for."""

import pytest
from rendering import MATRIX, ROOT

from trimode.config.reference import render_reference

ENGINES = ["copier", "cookiecutter"]
DEFAULTS = next(case for case in MATRIX if case.id == "defaults")
WITHOUT_MLFLOW = next(case for case in MATRIX if not case.answers["mlflow"])
# The bound on what a user reads and owns (part 3 of issue 20).
MAX_LINES = 1_500
# Not counted: the lock file (written by uv, not read), the documentation, git's own.
NOT_COUNTED = ("uv.lock", "docs/", ".git/")


def lines_per_file(project) -> dict[str, int]:
    """Every counted file of the project with its number of lines."""
    counts = {}
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project).as_posix()
        if path.is_file() and not relative.startswith(NOT_COUNTED):
            counts[relative] = len(path.read_bytes().splitlines())
    return counts


@pytest.mark.parametrize("engine", ENGINES)
def test_a_default_render_is_at_most_1500_lines(engine, renders):
    counts = lines_per_file(renders.get(DEFAULTS, engine))
    assert "README.md" in counts and "configs/base.toml" in counts, counts
    largest = ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda i: -i[1]))
    total = sum(counts.values())
    assert total <= MAX_LINES, f"{total} lines in {len(counts)} files: {largest}"


@pytest.mark.parametrize("engine", ENGINES)
def test_the_readmes_are_at_most_150_lines(engine, renders):
    """Depth lives in docs/ pages: the project's README and the template's own."""
    for readme in (renders.get(DEFAULTS, engine) / "README.md", ROOT / "README.md"):
        assert len(readme.read_text(encoding="utf-8").splitlines()) <= 150, readme


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", [DEFAULTS, WITHOUT_MLFLOW], ids=lambda case: case.id)
def test_the_project_gets_the_configuration_reference(case, engine, renders):
    page = renders.get(case, engine) / "docs" / "configuration.md"
    leave_out = [] if case.answers["mlflow"] else ["tracking"]
    assert page.read_text(encoding="utf-8") == render_reference(leave_out=leave_out)
