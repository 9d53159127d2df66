"""Generated projects install into a fresh environment and work: tests, CLI, lint.

One classification project (copier, all defaults) and one regression project
(cookiecutter, another name) share ONE environment made with uv, once per session
(see generated.py).
"""

import json
import shutil
import subprocess
import time

import pytest
from generated import PROJECTS, XDIST_GROUP, ok, projects

# One worker owns the shared environment when the suite runs under pytest-xdist (-n).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(XDIST_GROUP)]

METRICS_KEYS = {"mode", "model", "task", "metrics", "baseline", "primary_metric", "duration_s"}
MODEL_SUFFIXES = {".skops", ".joblib", ".pkl", ".pickle", ".onnx"}


def timed(record_property, label: str, run) -> subprocess.CompletedProcess:
    """Run a command, record its wall time for the session summary, and return its result."""
    start = time.perf_counter()
    result = run()
    record_property("wall_time", f"{time.perf_counter() - start:6.2f} s  python {label}")
    return result


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
    manifest = json.loads((folder / "outputs" / "test" / "manifest.json").read_text("utf-8"))
    assert set(metrics) >= METRICS_KEYS
    assert metrics == {key: manifest[key] for key in metrics}  # a subset, same names
    assert (metrics["mode"], metrics["task"]) == ("test", generated.task)
    assert manifest["data"]["rows"] > 0
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
