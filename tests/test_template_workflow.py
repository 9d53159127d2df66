"""The template repository's own GitHub Actions workflow: valid, and running what exists.

Validated against GitHub's workflow schema as vendored in check-jsonschema (offline).
"""

import ast
import re
import shlex
import tomllib

import yaml
from packaging.requirements import Requirement
from rendering import ROOT
from workflows import run_commands, schema_problems

WORKFLOW_FILE = ROOT / ".github" / "workflows" / "ci.yml"
WORKFLOW = yaml.safe_load(WORKFLOW_FILE.read_text(encoding="utf-8"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
COPIER = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))


def job_commands(name: str) -> list[str]:
    """The `run:` commands of one job, in order."""
    return run_commands({"jobs": {name: WORKFLOW["jobs"][name]}})


def marker_expressions(command: str) -> list[str]:
    """The pytest marker expressions (`-m EXPR`) a command line gives."""
    words = shlex.split(command)
    return [words[index + 1] for index, word in enumerate(words[:-1]) if word == "-m"]


def nox_session_commands(name: str) -> list[str]:
    """The commands a session of noxfile.py runs with session.run, as command lines."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    [session] = [node for node in tree.body if getattr(node, "name", None) == name]
    return [
        " ".join(argument.value for argument in call.args)
        for call in ast.walk(session)
        if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "run"
    ]


def test_workflow_is_valid():
    assert schema_problems(WORKFLOW_FILE) == ""


def test_superseded_runs_are_cancelled_and_the_token_only_reads():
    assert WORKFLOW["concurrency"]["cancel-in-progress"] is True
    assert "github.ref" in WORKFLOW["concurrency"]["group"]
    assert WORKFLOW["permissions"] == {"contents": "read"}


def test_every_job_checks_out_and_sets_up_uv():
    for name, job in WORKFLOW["jobs"].items():
        actions = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
        assert actions[:2] == ["actions/checkout", "astral-sh/setup-uv"], name


def test_lint_runs_the_noxfile_lint_session_commands():
    lint = [command.removeprefix("uv run ") for command in job_commands("lint")]
    assert lint[1:] == nox_session_commands("lint") == ["ruff check .", "ruff format --check ."]


def test_fast_suite_runs_on_the_lowest_and_the_newest_python_a_project_can_ask_for():
    choices = COPIER["python_version"]["choices"]
    versions = WORKFLOW["jobs"]["fast-tests"]["strategy"]["matrix"]["python-version"]
    assert versions == [choices[0], choices[-1]] == ["3.11", "3.13"]
    assert PYPROJECT["project"]["requires-python"] == f">={choices[0]}"


def test_fast_and_slow_jobs_select_the_tests_by_declared_markers():
    assert marker_expressions(job_commands("fast-tests")[-1]) == ["not slow"]
    assert marker_expressions(job_commands("slow-tests")[-1]) == ["slow"]
    markers = PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]
    declared = {line.split(":")[0] for line in markers}
    for command in run_commands(WORKFLOW):
        for expression in marker_expressions(command):
            used = set(re.findall(r"[A-Za-z_]\w*", expression)) - {"and", "or", "not"}
            assert used <= declared, command


def test_commands_name_tools_of_the_dev_group_and_scripts_of_the_repository():
    dev = {Requirement(line).name for line in PYPROJECT["dependency-groups"]["dev"]}
    for command in run_commands(WORKFLOW):
        words = shlex.split(command)
        if words[:2] == ["uv", "run"]:
            assert words[2] in dev, command
            if words[2] == "pytest" and "-n" in words:
                assert "pytest-xdist" in dev, command
        elif words[0] == "bash":
            assert (ROOT / words[1]).is_file(), command
        else:
            assert words == ["uv", "sync", "--locked"], command


def test_ci_run_hands_its_arguments_to_pytest():
    # The slow job relies on it to run the slow tests only.
    assert 'uvx nox -s tests -- "$@"' in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
