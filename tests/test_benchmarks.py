"""Every benchmark still runs: each script of benchmarks/, at smoke size, as a user runs it.

A benchmark is a script of benchmarks/ with a main block (common.py, the helper they
share, has none). Each runs as `python benchmarks/<name>.py` from the repository root,
with the Python running the tests (uv run's environment or nox's: copier is in it) and
TRIMODE_BENCHMARK_SMOKE=1 (a few thousand rows, one repeat: see benchmarks/common.py).
It renders the working tree of the template, pinned to the runtime of that working tree
(src/trimode), and installs both with uv, from uv's cache.
A test asserts only that the script exits 0 and prints a number for each of its
ratios; never a time, never a target (figures at smoke size measure nothing).
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
SMOKE = {"TRIMODE_BENCHMARK_SMOKE": "1"}
# Guards against a hung benchmark; not a time the test expects.
HANG = 30 * 60
# The start of each line that gives a ratio, per benchmark: the ratio is the line's last
# number outside parentheses (a target is written in them).
RATIOS = {
    "train_test_mode": ["ratio train / import floor:"],
    "test_mode_hook": [
        "git commit, test-mode hook running:",
        "pre-commit run test-mode --files configs/test.toml:",
        "the hook's pytest alone",
        "without the lever: every plugin autoloaded:",
        "without the lever: unraisable-exception hunt on:",
        "a lever not taken: tests/test_pipeline.py only:",
    ],
    "project_tests": ["ratio suite / import floor:"],
    "fetch_sample": [
        "time ratio A/B (work):",
        "time ratio A/B (whole process):",
        "peak-memory ratio A/B:",
    ],
    "compare_models": ["ratio compare / plain:"],
    "compare_variants": [
        "ratio compare grid / GridSearchCV:",
        "ratio compare halving / HalvingGridSearchCV:",
        "ratio best halving / best full grid:",
    ],
    "mlp_fit": [
        "ratio mlp / hist_gradient_boosting fit time, classification:",
        "ratio mlp / hist_gradient_boosting fit time, regression:",
    ],
    "compare_tracking": ["ratio on / off:"],
    "production": [
        "time ratio A/B:",
        "peak-memory ratio A/B:",
        "peak-memory ratio predict N / N/10:",
    ],
    "dask_predict": [
        "ratio driver peak / data in memory:",
        "ratio driver peak above its imports / data in memory:",
        "ratio rows per second, cluster / one process:",
    ],
    "production_memory": [
        "n_jobs 1: peak memory / frame A:",
        "n_jobs 1: peak memory above the import floor / frame A:",
        "n_jobs 1: time ratio A/B:",
    ],
    "real_data": [
        "breast cancer",
        "wine",
        "penguins",
        "diabetes (+ID, date)",
        "lowest ratio compare / plain:",
    ],
    "data_contract": ["import + the contract module", "import + pandera.pandas"],
    "report_page": [
        "size ratio page / 5 MB, human-mode sample:",
        "size ratio page / 5 MB, as many held-out rows:",
        "time ratio page.js / time to interactive, human-mode sample:",
        "time ratio page.js / time to interactive, as many held-out rows:",
    ],
    "expectations_hook": ["ratio git commit on / off:", "ratio the hook's pytest on / off:"],
    "split_overhead": [
        "ratio compare / plain, group split:",
        "ratio compare / plain, time split:",
    ],
    "serve": [
        "ratio one-row p50 / in-process predict, 1 client:",
        "ratio one-row p50 / in-process predict, 4 clients:",
        "ratio rows/s served / in-process, 1000-row requests:",
        "ratio server memory / model loaded size:",
    ],
    "report_importance": [
        "ratio extra / report without:",
        "ratio extra / report without, CPU time:",
    ],
}
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
PARENTHESES = re.compile(r"\([^()]*\)")


def benchmark_scripts() -> list[str]:
    """The names of the scripts of benchmarks/ that run as programs."""
    return sorted(
        path.stem
        for path in BENCHMARKS.glob("*.py")
        if 'if __name__ == "__main__":' in path.read_text(encoding="utf-8")
    )


def shell_environment() -> dict[str, str]:
    """This process's environment without what pytest and Python set for themselves."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "PYTHON"))
    }


def ratio_after(label: str, output: str) -> float | None:
    """The ratio on the first printed line that starts with label, if there is one."""
    for line in output.splitlines():
        if line.strip().startswith(label):
            rest = PARENTHESES.sub(" ", line.strip().removeprefix(label))
            numbers = NUMBER.findall(rest.replace(",", ""))
            return float(numbers[-1]) if numbers else None
    return None


def test_every_benchmark_says_which_ratios_it_prints():
    assert benchmark_scripts() == sorted(RATIOS)


@pytest.mark.slow
# One worker runs them one after another: each would take both cores.
@pytest.mark.xdist_group("benchmarks")
@pytest.mark.parametrize("name", sorted(RATIOS))
def test_the_benchmark_runs_at_smoke_size_and_prints_its_ratios(name, record_property):
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py")],
        cwd=ROOT,
        env={**shell_environment(), **SMOKE},
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    record_property("wall_time", f"{time.perf_counter() - start:6.2f} s  benchmarks/{name}.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke size" in result.stdout, result.stdout
    ratios = {label: ratio_after(label, result.stdout) for label in RATIOS[name]}
    missing = [label for label, value in ratios.items() if value is None]
    assert not missing, f"no ratio after {missing} in:\n{result.stdout}"
