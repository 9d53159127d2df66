"""The template repository's own GitHub Actions workflows: CI (valid, and running what
exists) and the release (valid, publishing from a tag that matches the version only).

Validated against GitHub's workflow schema as vendored in check-jsonschema (offline).
"""

import ast
import re
import shlex
import tomllib
from importlib.metadata import distributions

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from rendering import ROOT, TEMPLATE_TAG
from workflows import (
    RELEASE_FILE,
    TAG_CHECK,
    run_commands,
    schema_problems,
    step_named,
    tag_check_problem,
)

WORKFLOW_FILE = ROOT / ".github" / "workflows" / "ci.yml"
WORKFLOW = yaml.safe_load(WORKFLOW_FILE.read_text(encoding="utf-8"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
COPIER = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
RELEASE = yaml.safe_load(RELEASE_FILE.read_text(encoding="utf-8"))


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
    expected = ["ruff check .", "ruff format --check .", "lint-imports"]
    assert lint[1:] == nox_session_commands("lint") == expected
    # import-linter's contract: the runtime's layers, top to bottom.
    [contract] = PYPROJECT["tool"]["importlinter"]["contracts"]
    assert contract["type"] == "layers"
    assert contract["layers"][-1] == "trimode.core"


def distribution_of(command: str) -> str:
    """The distribution that installs a command: a console script (lint-imports is
    import-linter's) or a file in bin/ (ruff's binary)."""
    [name] = {
        canonicalize_name(dist.metadata["Name"])
        for dist in distributions()
        if any(script.name == command for script in dist.entry_points)
        or any(file.name == command and file.parent.name == "bin" for file in dist.files or [])
    }
    return name


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
    dev = {
        canonicalize_name(Requirement(line).name) for line in PYPROJECT["dependency-groups"]["dev"]
    }
    for command in run_commands(WORKFLOW):
        words = shlex.split(command)
        if words[:2] == ["uv", "run"]:
            assert distribution_of(words[2]) in dev, command
            if words[2] == "pytest" and "-n" in words:
                assert "pytest-xdist" in dev, command
        elif words[0] == "bash":
            assert (ROOT / words[1]).is_file(), command
        else:
            assert words == ["uv", "sync", "--locked"], command


def test_ci_run_hands_its_arguments_to_pytest():
    # The slow job relies on it to run the slow tests only.
    assert 'uvx nox -s tests -- "$@"' in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def release_trigger() -> dict:
    """The release workflow's `on:` (YAML 1.1 reads the bare key `on` as true)."""
    return RELEASE.get("on", RELEASE.get(True))


def test_release_workflow_is_valid():
    assert schema_problems(RELEASE_FILE) == ""


def test_release_runs_on_a_pushed_version_tag_only():
    assert release_trigger() == {"push": {"tags": ["v*"]}}
    assert RELEASE["permissions"] == {"contents": "read"}


def test_release_checks_the_tag_then_builds_the_wheel_and_the_sdist():
    build = RELEASE["jobs"]["build"]
    actions = [step["uses"].split("@")[0] for step in build["steps"] if "uses" in step]
    assert actions == ["actions/checkout", "astral-sh/setup-uv", "actions/upload-artifact"]
    names = [step.get("name") for step in build["steps"]]
    commands = [step.get("run") for step in build["steps"]]
    # The tag is checked before anything is built; `uv build` makes both (dist/).
    assert names.index(TAG_CHECK) < commands.index("uv build")
    assert step_named(RELEASE, TAG_CHECK)["env"] == {"TAG": "${{ github.ref_name }}"}
    [upload] = [step for step in build["steps"] if "upload-artifact" in step.get("uses", "")]
    assert upload["with"]["path"] == "dist/"


def test_release_publishes_with_trusted_publishing_from_an_environment():
    publish = RELEASE["jobs"]["publish"]
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    # The OpenID Connect token is the only credential, and only this job gets it.
    assert publish["permissions"] == {"id-token": "write"}
    assert [name for name, job in RELEASE["jobs"].items() if "permissions" in job] == ["publish"]
    download, upload = publish["steps"]
    assert download["uses"].startswith("actions/download-artifact@")
    assert upload["uses"] == "pypa/gh-action-pypi-publish@release/v1"
    assert "with" not in upload, "no password or token: PyPI trusts the workflow"
    [built] = [step for step in RELEASE["jobs"]["build"]["steps"] if "upload-artifact" in str(step)]
    assert download["with"] == {"name": built["with"]["name"], "path": "dist/"}


def test_release_tag_check_passes_the_version_tag():
    assert tag_check_problem(TEMPLATE_TAG, ROOT) == ""


@pytest.mark.parametrize(
    "tag",
    [
        PYPROJECT["project"]["version"],  # no v
        f"{TEMPLATE_TAG}.1",
        f"{TEMPLATE_TAG}rc1",
        "v0.0.1",
        "vlatest",
        "",
    ],
)
def test_release_tag_check_refuses_a_tag_that_is_not_v_and_the_version(tag):
    problem = tag_check_problem(tag, ROOT)
    version = PYPROJECT["project"]["version"]
    assert problem == (
        f"The tag {tag} is not v{version} (the version in pyproject.toml): nothing is published."
    )


def test_release_tag_check_reads_the_version_of_the_checkout(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "7.1.0"\n')
    assert tag_check_problem("v7.1.0", tmp_path) == ""
    assert "is not v7.1.0" in tag_check_problem(TEMPLATE_TAG, tmp_path)
