"""Generated projects installed into one shared environment, for the slow tests.

One classification project (copier, all defaults) and one regression project
(cookiecutter, another name) share ONE environment made with uv, once per session
(the `environment` fixture in conftest.py). Tests that use it carry the
XDIST_GROUP mark, so that one pytest-xdist worker owns it.
"""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from rendering import find_uv, render_with_cookiecutter, render_with_copier

XDIST_GROUP = "generated-environment"
# Extras of the generated projects the environment installs: http(s) sources, PostgreSQL, Dask.
EXTRAS = "http,postgres,dask"


@dataclass(frozen=True)
class Generated:
    """A generated project and the answers that matter to run it."""

    task: str
    engine: str
    slug: str
    package: str
    project_name: str


PROJECTS = [
    Generated("classification", "copier", "ml-project", "ml_project", "ML Project"),
    Generated("regression", "cookiecutter", "sales-forecast", "sales_forecast", "Sales Forecast"),
]
projects = pytest.mark.parametrize(
    "generated", PROJECTS, ids=[f"{item.task}-{item.engine}" for item in PROJECTS]
)


@dataclass(frozen=True)
class Environment:
    """The shared virtual environment and the generated projects installed in it."""

    venv: Path
    folders: dict[str, Path]

    def command(self, name: str) -> str:
        """Return the path of a command installed in the environment."""
        return str(self.venv / "bin" / name)

    def variables(self) -> dict[str, str]:
        """The environment variables of a process in it (and nothing from the outer one)."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTEST_", "PYTHON", "VIRTUAL_ENV", "UV_PROJECT"))
        }
        env["VIRTUAL_ENV"] = str(self.venv)
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, *command: str, cwd: Path) -> subprocess.CompletedProcess:
        """Run a command with the environment activated."""
        return subprocess.run(
            list(command),
            cwd=cwd,
            env=self.variables(),
            capture_output=True,
            text=True,
            check=False,
        )


def uv() -> str:
    """Find uv (on PATH, or the one the `uv` Python package ships); fail the test if absent."""
    found = find_uv()
    if found is None:
        pytest.fail("uv is needed: python3 -m pip install uv")
    return found


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """Assert a command succeeded, showing its output when it did not."""
    output = f"{result.args}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, output
    return result


def make_environment(template: Path, root: Path) -> Environment:
    """Generate both projects under root, then install them, their extras and dev groups."""
    folders = {}
    for item in PROJECTS:
        answers = {"project_name": item.project_name, "task": item.task, "install_hooks": False}
        if item.engine == "copier":
            folders[item.slug] = render_with_copier(template, root / item.slug, answers)
        else:
            folders[item.slug] = render_with_cookiecutter(template, root, answers)
    venv = root / "venv"
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, venv], check=True)
    install = [uv(), "pip", "install", "--quiet", "--python", venv / "bin" / "python"]
    for folder in folders.values():
        install += ["--editable", f"{folder}[{EXTRAS}]"]
        install += ["--group", f"{folder / 'pyproject.toml'}:dev"]
    subprocess.run([str(part) for part in install], check=True)
    return Environment(venv, folders)
