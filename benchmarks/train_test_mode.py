"""Time `train --mode test` in a generated project next to the import floor.

The import floor is `python -c "import pandas, sklearn.ensemble"` in the same
environment: no pipeline can start faster than its libraries import. Both are
measured interleaved, in one run, on the same machine, and the script prints
the medians and their ratio. Run it with: uv run python benchmarks/train_test_mode.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: one repeat; see common.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from common import make_project, say_if_smoke, sized, wall_time


def main() -> None:
    """Measure and print the medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=sized(7, 1))
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as folder:
        project, python = make_project(Path(folder))
        floor_command = [str(python), "-c", "import pandas, sklearn.ensemble"]
        train_command = [str(python), "-m", "trimode", "train", "--mode", "test"]
        wall_time(train_command, project)  # warm the file cache and write .pyc files
        floors, trains = [], []
        for _ in range(repeats):
            floors.append(wall_time(floor_command, project))
            trains.append(wall_time(train_command, project))
    floor, train = statistics.median(floors), statistics.median(trains)
    say_if_smoke()
    print(f"python {sys.version.split()[0]}, {repeats} interleaved runs each (median)")
    print(f"import floor (import pandas, sklearn.ensemble): {floor:.2f} s")
    print(f"train --mode test:                              {train:.2f} s")
    print(f"ratio train / import floor:                     {train / floor:.2f}")


if __name__ == "__main__":
    main()
