"""The commands users type scaffold a project, from a local path or a git URL.

The template is a git repository in a temporary folder: no network.
"""

import subprocess

import pytest
import yaml
from rendering import (
    ANSWERS_FILE,
    EXPECTED_DIRS,
    EXPECTED_FILES,
    TEMPLATE_TAG,
    runtime_pin,
    tool,
)


@pytest.fixture(autouse=True)
def no_uv(no_uv_path, monkeypatch):
    """Scaffold with the defaults (install_hooks=true) but no uv on PATH: git init only."""
    monkeypatch.setenv("PATH", no_uv_path)


def run(*command, cwd) -> subprocess.CompletedProcess:
    """Run a command line, failing the test with its output when it fails."""
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def assert_scaffolded(project, package="ml_project"):
    for name in EXPECTED_FILES:
        assert (project / name.format(package=package)).is_file(), name
    for name in EXPECTED_DIRS:
        assert (project / name).is_dir(), name


def git_url(repo) -> str:
    """Spell a local repository as a git URL both engines accept."""
    return f"git+file://{repo}"


@pytest.mark.parametrize("form", ["path", "git-url"])
def test_copier_copy_with_defaults(form, template_repo, tmp_path):
    source = template_repo if form == "path" else git_url(template_repo)
    run(tool("copier"), "copy", "--trust", "--defaults", source, "ml-project", cwd=tmp_path)
    project = tmp_path / "ml-project"
    assert_scaffolded(project)
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    assert answers["_commit"] == TEMPLATE_TAG
    assert answers["task"] == "classification"
    # The runtime from the same repository, at the same tag, as a URL uv reads.
    assert runtime_pin(project) == {"git": f"file://{template_repo}", "tag": TEMPLATE_TAG}


def test_copier_copy_with_an_answer(template_repo, tmp_path):
    run(
        tool("copier"),
        "copy",
        "--trust",
        "--defaults",
        "-d",
        "task=regression",
        "-d",
        "project_name=Demand Forecast",
        template_repo,
        tmp_path / "forecast",
        cwd=tmp_path,
    )
    project = tmp_path / "forecast"
    assert_scaffolded(project, package="demand_forecast")
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    assert (answers["task"], answers["project_slug"]) == ("regression", "demand-forecast")


@pytest.mark.parametrize("form", ["path", "git-url"])
def test_cookiecutter_no_input(form, template_repo, tmp_path):
    source = template_repo if form == "path" else git_url(template_repo)
    run(tool("cookiecutter"), "--no-input", source, cwd=tmp_path)
    project = tmp_path / "ml-project"
    assert_scaffolded(project)
    # Written by the post-generation step, for `copier update`: the source and its version.
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    assert answers["_commit"] == TEMPLATE_TAG
    assert answers["_src_path"] == str(source)
    assert runtime_pin(project) == {"git": f"file://{template_repo}", "tag": TEMPLATE_TAG}


def test_cookiecutter_with_an_answer(template_repo, tmp_path):
    run(
        tool("cookiecutter"),
        "--no-input",
        "--output-dir",
        tmp_path / "out",
        template_repo,
        "task=regression",
        "project_name=Demand Forecast",
        cwd=tmp_path,
    )
    assert_scaffolded(tmp_path / "out" / "demand-forecast", package="demand_forecast")


@pytest.mark.parametrize("engine", ["copier", "cookiecutter"])
def test_a_bad_answer_fails_the_command_with_the_reason(engine, template_repo, tmp_path):
    if engine == "copier":
        command = [tool("copier"), "copy", "--trust", "--defaults", "-d", "package_name=class"]
        command += [template_repo, tmp_path / "project"]
    else:
        command = [tool("cookiecutter"), "--no-input", template_repo, "package_name=class"]
    result = subprocess.run(
        [str(part) for part in command], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "The package name 'class' is a Python keyword." in result.stdout + result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == []
