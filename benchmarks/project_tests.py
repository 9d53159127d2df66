"""Time a generated project's whole test suite, `uv run pytest`, next to the import floor.

In 5.0 a project's suite is its pipeline's checks (tests/test_pipeline.py, the runtime's
plugin) and its own tests (tests/test_features.py): about 22 tests, the slow ones (the
notebooks run in test mode, the report) included; 4.1.0's ran about 345, 330 of them
the machinery's. Both commands are measured interleaved in one run, in the project's own
environment (`uv sync --compile-bytecode`), and the script prints the medians and their
ratio. Run it with: uv run python benchmarks/project_tests.py (at smoke size,
TRIMODE_BENCHMARK_SMOKE=1: one repeat, no compiled bytecode; see common.py).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from common import SMOKE, compile_bytecode, render_project, say_if_smoke
from test_mode_hook import repeats_asked, run, shell_environment, wall_time


def main() -> None:
    """Measure and print the medians and the ratio."""
    repeats = repeats_asked(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        env = shell_environment(Path(folder))
        project = render_project(Path(folder) / "ml-project")
        run(["uv", "sync", "--quiet", *compile_bytecode()], project, env)
        python = str(project / ".venv" / "bin" / "python")
        floor_command = [python, "-c", "import pandas, sklearn.ensemble"]
        suite_command = ["uv", "run", "--quiet", "pytest", "-q", "-p", "no:cacheprovider"]
        if not SMOKE:  # the first run fetches the test sample: a warm-up, not measured
            wall_time(suite_command, project, env)
        floors, suites = [], []
        for _ in range(repeats):
            floors.append(wall_time(floor_command, project, env))
            suites.append(wall_time(suite_command, project, env))
    floor, suite = statistics.median(floors), statistics.median(suites)
    say_if_smoke()
    print(f"python {sys.version.split()[0]}, {repeats} interleaved runs each (median)")
    print(f"import floor (import pandas, sklearn.ensemble): {floor:6.2f} s")
    print(f"uv run pytest (the whole suite, slow included): {suite:6.2f} s")
    print(f"ratio suite / import floor:                     {suite / floor:6.2f}")


if __name__ == "__main__":
    main()
