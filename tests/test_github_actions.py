"""The generated GitHub Actions workflow: there when asked, valid, and running the checks.

Validated against GitHub's workflow schema as vendored in check-jsonschema (offline).
"""

import pytest
import yaml
from rendering import MATRIX
from workflows import run_commands, schema_problems

WORKFLOW = ".github/workflows/ci.yml"
DEPENDABOT = ".github/dependabot.yml"
ENGINES = ["copier", "cookiecutter"]
cases = pytest.mark.parametrize("case", MATRIX, ids=[case.id for case in MATRIX])
WITH_WORKFLOW = [case for case in MATRIX if case.answers["github_actions"]]


def test_the_matrix_has_projects_with_and_without_a_workflow():
    assert {case.answers["github_actions"] for case in MATRIX} == {True, False}


@cases
def test_workflow_follows_the_answer_and_is_valid(case, renders):
    projects = [renders.get(case, engine) for engine in ENGINES]
    if not case.answers["github_actions"]:
        for project in projects:
            assert not (project / WORKFLOW).exists()
            assert not (project / ".github").exists(), "an empty .github folder is left"
        return
    assert schema_problems(*(project / WORKFLOW for project in projects)) == ""
    dependabot = [project / DEPENDABOT for project in projects]
    assert schema_problems(*dependabot, schema="vendor.dependabot") == ""
    updates = yaml.safe_load(dependabot[0].read_text("utf-8"))["updates"]
    assert {update["package-ecosystem"] for update in updates} == {"github-actions", "uv"}


@pytest.mark.parametrize("case", WITH_WORKFLOW, ids=[case.id for case in WITH_WORKFLOW])
def test_workflow_runs_lint_test_mode_and_the_full_test_suite(case, renders):
    workflow = yaml.safe_load((renders.get(case, "copier") / WORKFLOW).read_text("utf-8"))
    commands = run_commands(workflow)
    # The checks are defined once, in .pre-commit-config.yaml: CI runs them from there.
    assert any("pre-commit run --all-files" in command for command in commands), commands
    assert not any("ruff" in command for command in commands), commands
    # A newer push cancels the run it supersedes.
    assert workflow["concurrency"]["cancel-in-progress"] is True
    assert any("train --mode test" in command for command in commands), commands
    # The full suite: pytest with no marker selection, so the slow tests run too.
    assert any("pytest" in command and " -m " not in f"{command} " for command in commands), (
        commands
    )
    assert any("uv sync --locked" in command for command in commands), commands


@pytest.mark.parametrize("case", WITH_WORKFLOW, ids=[case.id for case in WITH_WORKFLOW])
def test_the_users_tests_run_on_linux_macos_and_windows(case, renders):
    workflow = yaml.safe_load((renders.get(case, "copier") / WORKFLOW).read_text("utf-8"))
    tests = workflow["jobs"]["tests"]
    matrix = tests["strategy"]["matrix"]
    assert tests["runs-on"] == "${{ matrix.os }}"
    assert matrix["os"] == ["ubuntu-latest", "macos-latest", "windows-latest"]
    # The lowest Python the project supports and the newest, each once.
    lowest = case.answers["python_version"]
    assert matrix["python-version"] == list(dict.fromkeys([lowest, "3.13"]))
    # One system failing does not cancel the others' runs.
    assert tests["strategy"]["fail-fast"] is False
    setup = next(step for step in tests["steps"] if "setup-uv" in step.get("uses", ""))
    assert setup["with"]["python-version"] == "${{ matrix.python-version }}"
    assert tests["steps"][-1]["run"] == "uv run pytest"
    # Windows runs `run:` with PowerShell unless told: shell syntax needs bash there.
    for step in tests["steps"]:
        if any(word in step.get("run", "") for word in ("if [", "; then", "&&")):
            assert step.get("shell") == "bash", step
