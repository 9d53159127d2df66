"""What the data contract costs, and what pandera would have cost the commit hook.

In one run, in one environment (the default generated project, installed with
pandera beside it for the comparison):
- import time, interleaved, median of --repeats: pandas, pyarrow and the project's
  preprocessing (what every run imports anyway, scikit-learn included), the same plus
  the runtime's contract module, and the same plus `pandera.pandas`;
- the contract on the built-in data (50,000 rows, human mode's sample, and 1,000,000
  rows, production's size): recording it and checking rows against it, next to reading
  the same rows from Parquet.

Run it with: uv run python benchmarks/data_contract.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: 2,000 and 5,000 rows, one repeat; see common.py).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import compile_bytecode, make_project, say_if_smoke, sized, wall_time

MEASURE = """
import sys, time, tempfile, pathlib
import pandas as pd
from trimode import load_config
from trimode.data.contract import check_loaded, record_contract
from trimode.data.synthetic import make_dataset

config = load_config("human", "configs")
for rows in map(int, sys.argv[1:]):
    frame = make_dataset("classification", rows)
    path = pathlib.Path(tempfile.mkdtemp()) / "rows.parquet"
    frame.to_parquet(path, index=False)
    best = {"read": 1e9, "record": 1e9, "check": 1e9}
    for _ in range(3):
        start = time.perf_counter(); loaded = pd.read_parquet(path)
        best["read"] = min(best["read"], time.perf_counter() - start)
        start = time.perf_counter(); contract = record_contract(loaded)
        best["record"] = min(best["record"], time.perf_counter() - start)
        start = time.perf_counter(); check_loaded(loaded, config, "rows", contract)
        best["check"] = min(best["check"], time.perf_counter() - start)
    print(rows, best["read"], best["record"], best["check"])
"""


def main() -> None:
    """Measure and print the medians and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=sized(7, 1))
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as folder:
        project, python = make_project(Path(folder))
        install = ["uv", "pip", "install", "--quiet", *compile_bytecode(), "--python"]
        subprocess.run([*install, str(python), "pandera"], check=True)
        # What every run imports anyway (the preprocessing brings scikit-learn), then the
        # contract module on top of it, or pandera on top of it.
        floor = "import pandas, pyarrow, ml_project.features"
        imports = {
            "the pipeline's floor": floor,
            "+ the contract module": f"{floor}, trimode.data.contract",
            "+ pandera.pandas": f"{floor}, pandera.pandas",
        }
        times: dict[str, list[float]] = {name: [] for name in imports}
        for code in imports.values():  # warm the file cache
            wall_time([str(python), "-c", code], project)
        for _ in range(repeats):
            for name, code in imports.items():
                times[name].append(wall_time([str(python), "-c", code], project))
        sizes = [str(rows) for rows in sized((50_000, 1_000_000), (2_000, 5_000))]
        measured = subprocess.run(
            [str(python), "-c", MEASURE, *sizes],
            cwd=project,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians["the pipeline's floor"]
    say_if_smoke()
    print(f"python {sys.version.split()[0]}, {repeats} interleaved runs each (median)")
    for name, value in medians.items():
        print(f"import {name:<24} {value:.3f} s   ratio {value / floor:.2f}")
    print("rows        read parquet   record contract   check against it (best of 3)")
    for line in measured.split("\n"):
        if line.strip():
            rows, read, record, check = line.split()
            read, record, check = float(read), float(record), float(check)
            print(
                f"{int(rows):>9,}   {read:8.3f} s     {record:6.3f} s ({record / read:.2f})"
                f"    {check:6.3f} s ({check / read:.2f} of the read)"
            )


if __name__ == "__main__":
    main()
