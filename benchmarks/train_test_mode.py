"""Time `train --mode test` in a generated project next to the import floor.

The import floor is `python -c "import pandas, sklearn.ensemble"` in the same
environment: no pipeline can start faster than its libraries import. Both are
measured interleaved, in one run, on the same machine, and the script prints
the medians and their ratio. Run it with: uv run python benchmarks/train_test_mode.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]


def wall_time(command: list[str], cwd: Path) -> float:
    """Seconds one run of the command takes; fails loudly if the command fails."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def make_project(workdir: Path) -> tuple[Path, Path]:
    """Generate the default project with copier and install it; return it and its python."""
    import copier

    project = workdir / "ml-project"
    # No environment or hooks from the post-generation step: this script makes its own.
    answers = {"install_hooks": False}
    # HEAD with any uncommitted changes: the code being measured, not the newest tag.
    copier.run_copy(
        str(TEMPLATE), project, data=answers, defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD"
    )
    venv = workdir / "venv"
    subprocess.run(["uv", "venv", "--quiet", str(venv)], check=True)
    python = venv / "bin" / "python"
    # Compiled bytecode, as pip leaves it: the import floor must not include compiling.
    install = ["uv", "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python)]
    subprocess.run([*install, "-e", str(project)], check=True)
    return project, python


def main() -> None:
    """Measure and print the medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as folder:
        project, python = make_project(Path(folder))
        floor_command = [str(python), "-c", "import pandas, sklearn.ensemble"]
        train_command = [str(python), "-m", "ml_project", "train", "--mode", "test"]
        wall_time(train_command, project)  # warm the file cache and write .pyc files
        floors, trains = [], []
        for _ in range(repeats):
            floors.append(wall_time(floor_command, project))
            trains.append(wall_time(train_command, project))
    floor, train = statistics.median(floors), statistics.median(trains)
    print(f"python {sys.version.split()[0]}, {repeats} interleaved runs each (median)")
    print(f"import floor (import pandas, sklearn.ensemble): {floor:.2f} s")
    print(f"train --mode test:                              {train:.2f} s")
    print(f"ratio train / import floor:                     {train / floor:.2f}")


if __name__ == "__main__":
    main()
