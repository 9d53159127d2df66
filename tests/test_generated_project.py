"""Generated projects install into a fresh environment and work: tests, CLI, lint.

One classification project (copier, all defaults) and one regression project
(cookiecutter, another name) share ONE environment made with uv, once per session.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from rendering import render_with_cookiecutter, render_with_copier

# One worker owns the shared environment when the suite runs under pytest-xdist (-n).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("generated-environment")]

METRICS_KEYS = {
    "mode",
    "model",
    "task",
    "n_rows",
    "metrics",
    "baseline",
    "primary_metric",
    "git_commit",
    "duration_s",
}
MODEL_SUFFIXES = {".skops", ".joblib", ".pkl", ".pickle", ".onnx"}


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

    def run(self, *command: str, cwd: Path) -> subprocess.CompletedProcess:
        """Run a command with the environment activated (and nothing from the outer one)."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTEST_", "PYTHON", "VIRTUAL_ENV", "UV_PROJECT"))
        }
        env["VIRTUAL_ENV"] = str(self.venv)
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            list(command), cwd=cwd, env=env, capture_output=True, text=True, check=False
        )


def uv() -> str:
    """Find uv: on PATH, or the one the `uv` Python package ships."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
    except ImportError:
        pytest.fail("uv is needed: python3 -m pip install uv")
    return find_uv_bin()


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """Assert a command succeeded, showing its output when it did not."""
    output = f"{result.args}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, output
    return result


def timed(record_property, label: str, run) -> subprocess.CompletedProcess:
    """Run a command, record its wall time for the session summary, and return its result."""
    start = time.perf_counter()
    result = run()
    record_property("wall_time", f"{time.perf_counter() - start:6.2f} s  python {label}")
    return result


@pytest.fixture(scope="session")
def environment(template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Environment:
    """Generate both projects, then install them and their dev groups into one venv."""
    root = tmp_path_factory.mktemp("generated")
    folders = {}
    for item in PROJECTS:
        # This fixture makes the environment itself: one for both projects.
        answers = {"project_name": item.project_name, "task": item.task, "install_hooks": False}
        if item.engine == "copier":
            folders[item.slug] = render_with_copier(template_repo, root / item.slug, answers)
        else:
            folders[item.slug] = render_with_cookiecutter(template_repo, root, answers)
    venv = root / "venv"
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, venv], check=True)
    install = [uv(), "pip", "install", "--quiet", "--python", venv / "bin" / "python"]
    for folder in folders.values():
        install += ["--editable", folder, "--group", f"{folder / 'pyproject.toml'}:dev"]
    subprocess.run([str(part) for part in install], check=True)
    return Environment(venv, folders)


@projects
def test_its_own_test_suite_passes(generated, environment):
    folder = environment.folders[generated.slug]
    ok(environment.run(environment.command("python"), "-m", "pytest", "-q", cwd=folder))


@projects
def test_train_in_test_mode_writes_metrics_and_a_model(generated, environment, record_property):
    folder = environment.folders[generated.slug]
    shutil.rmtree(folder / "outputs" / "test", ignore_errors=True)
    python = environment.command("python")
    # The yardstick first, side by side with the train run: printed, never asserted.
    imports = [python, "-c", "import pandas, sklearn.ensemble"]
    ok(timed(record_property, " ".join(imports[1:]), lambda: environment.run(*imports, cwd=folder)))
    train = [python, "-m", generated.package, "train", "--mode", "test"]
    ok(timed(record_property, " ".join(train[1:]), lambda: environment.run(*train, cwd=folder)))
    metrics = json.loads((folder / "outputs" / "test" / "metrics.json").read_text("utf-8"))
    assert set(metrics) >= METRICS_KEYS
    assert (metrics["mode"], metrics["task"]) == ("test", generated.task)
    assert metrics["n_rows"] > 0
    assert metrics["primary_metric"] in metrics["metrics"]
    assert metrics["primary_metric"] in metrics["baseline"]
    saved = [path for path in (folder / "outputs" / "test").rglob("*") if path.is_file()]
    assert any(path.suffix in MODEL_SUFFIXES for path in saved), saved


@projects
def test_console_script(generated, environment):
    folder = environment.folders[generated.slug]
    script = environment.command(generated.slug)
    assert "train" in ok(environment.run(script, "--help", cwd=folder)).stdout
    shutil.rmtree(folder / "outputs" / "test", ignore_errors=True)
    ok(environment.run(script, "train", "--mode", "test", cwd=folder))
    assert (folder / "outputs" / "test" / "metrics.json").is_file()


@projects
def test_ruff_check_and_format_are_clean(generated, environment):
    folder = environment.folders[generated.slug]
    ruff = environment.command("ruff")
    ok(environment.run(ruff, "check", ".", cwd=folder))
    ok(environment.run(ruff, "format", "--check", ".", cwd=folder))


@pytest.mark.parametrize(
    "arguments",
    [["train", "--mode", "nope"], ["train", "--mode", "test", "--model", "nope"]],
    ids=["unknown-mode", "unknown-model"],
)
def test_bad_input_gets_a_one_line_reason(arguments, environment):
    generated = PROJECTS[0]
    folder = environment.folders[generated.slug]
    python = environment.command("python")
    result = environment.run(python, "-m", generated.package, *arguments, cwd=folder)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "nope" in lines[0]
