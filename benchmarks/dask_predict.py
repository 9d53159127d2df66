"""Measure `predict` on a Dask cluster beside `predict` in one process, on a Parquet
folder of N rows.

In a generated project (the default one, installed with its `dask` extra and compiled
bytecode): a production model is trained on the embedded data, then a folder of N
unseen rows (make_dataset's rows of another seed, perturbed copies, an ID column, in 8
files of row groups of 50,000 rows) is scored, each run in its own process:

- one process: `python -m trimode predict --output scored.parquet` (compute.engine
  "local", the project's production settings);
- on a cluster: the same command with compute.engine = "dask" and dask.scheduler_address
  of a local cluster of two single-threaded worker processes, started beforehand in a
  process of its own (so that the driver's peak memory is the driver's alone), writing a
  folder of Parquet parts.

Peak memory is the process's own maximum resident set size, read from its rusage when it
is reaped (`os.wait4`). It prints the data's in-memory size (the whole folder as one
pandas frame, memory_usage deep), each run's wall time, rows per second and peak memory,
the driver's import floor (its imports alone), and the ratios: driver peak / data in
memory (goal <= 0.25), driver peak above its floor / data in memory, rows per second
cluster / one process. On a machine of two cores the two workers share the cores with the
driver and the scheduler: the speed ratio says what the overhead costs there, not what
more machines give.
Run it with: uv run python benchmarks/dask_predict.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: N = 20,000 rows; see common.py).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import tempfile
import time
from pathlib import Path

import tomlkit
from common import make_project, say_if_smoke, sized
from production import production_configs, run_measured

# The folder to score, and the bytes it takes as one pandas frame. Prints that as JSON.
WRITE_FOLDER = """
import json, sys
import numpy as np, pandas as pd
from trimode.data.synthetic import TARGETS, make_dataset

folder, rows, files = sys.argv[1], int(sys.argv[2]), 8
base = make_dataset("classification", min(rows, 50_000), seed=1)
base = base.drop(columns=TARGETS["classification"])
base.insert(0, "customer_id", np.arange(len(base)))
numeric = [name for name in base.columns[1:] if pd.api.types.is_float_dtype(base[name])]
random = np.random.default_rng(7)
size, written = 0, 0
for index in range(files):
    count = rows // files + (1 if index < rows % files else 0)
    pieces = []
    while count > 0:
        piece = base.iloc[:count].copy()
        piece["customer_id"] += written
        piece[numeric] = piece[numeric] * random.uniform(0.9, 1.1, (len(piece), len(numeric)))
        pieces.append(piece)
        count -= len(piece)
        written += len(piece)
    frame = pd.concat(pieces, ignore_index=True)
    size += int(frame.memory_usage(deep=True, index=False).sum())
    frame.to_parquet(f"{folder}/rows-{index}.parquet", index=False, row_group_size=50_000)
print(json.dumps({"rows": written, "bytes": size}))
"""

# A local cluster of two single-threaded worker processes on 127.0.0.1; prints its
# scheduler's address, and stops when its standard input closes.
CLUSTER = """
import sys
from dask.distributed import LocalCluster

with LocalCluster(
    n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
) as cluster:
    print(cluster.scheduler_address, flush=True)
    sys.stdin.read()
"""

# What the driver imports before it reads a row: its floor.
DRIVER_IMPORTS = "import dask.distributed, trimode.cli.main, trimode.workflows.predict_on_cluster"
# A cluster that has not started within this many seconds is broken.
START = 120


def on_cluster_configs(configs: Path, address: str) -> Path:
    """A copy of the config folder whose production mode predicts on the cluster."""
    folder = configs.with_name(configs.name + "-on-cluster")
    folder.mkdir()
    for path in configs.iterdir():
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / "production.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    document["compute"] = {"engine": "dask"}
    document["dask"] = {"scheduler_address": address}
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return folder


def started_cluster(python: Path, cwd: Path) -> tuple[subprocess.Popen, str]:
    """The cluster's process and its scheduler's address, once it prints it."""
    process = subprocess.Popen(
        [str(python), "-c", CLUSTER],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START)
    if not ready:
        process.kill()
        raise SystemExit(f"the Dask cluster did not start within {START} s")
    return process, process.stdout.readline().strip()


def scored(command: list[str], cwd: Path, rows: int) -> dict:
    """One predict run; check it scored every row."""
    run = run_measured(command, cwd)
    if f"predicted {rows:,} rows" not in run.stdout:
        raise SystemExit(f"predict did not report {rows:,} rows: {run.stdout.strip()}")
    return {"seconds": run.seconds, "peak_mib": run.peak_mib}


def main() -> None:
    """Generate the project, train, measure both predict runs, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=sized(2_000_000, 20_000))
    parser.add_argument("--train-rows", type=int, default=sized(100_000, 20_000))
    arguments = parser.parse_args()
    say_if_smoke()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        project, python = make_project(workdir, extras=("dask",))
        configs = production_configs(project, arguments.train_rows)
        cli = [str(python), "-m", "trimode"]
        train = [*cli, "train", "--mode", "production", "--config-dir", str(configs)]
        run_measured([*train, "--set", "tracking.enabled=false"], project)
        source = workdir / "rows"
        source.mkdir()
        write = [str(python), "-c", WRITE_FOLDER, str(source), str(arguments.rows)]
        data = json.loads(run_measured(write, workdir).stdout)
        floor = run_measured([str(python), "-c", DRIVER_IMPORTS], project).peak_mib
        predict = [*cli, "predict", "--input", str(source), "--keep", "customer_id"]
        predict += ["--model", str(project / "outputs" / "production")]
        one = scored(
            [*predict, "--config-dir", str(configs), "--output", str(workdir / "one.parquet")],
            project,
            data["rows"],
        )
        cluster, address = started_cluster(python, workdir)
        try:
            clustered = on_cluster_configs(configs, address)
            command = [*predict, "--config-dir", str(clustered)]
            many = scored([*command, "--output", str(workdir / "scored")], project, data["rows"])
        finally:
            assert cluster.stdin is not None
            cluster.stdin.close()
            try:
                cluster.wait(timeout=START)
            except subprocess.TimeoutExpired:
                cluster.kill()
                cluster.wait()
        load = os.getloadavg()[0]
    say_if_smoke()
    rows, data_mib = data["rows"], data["bytes"] / 2**20
    print(
        f"{rows:,} rows in 8 Parquet files; in memory as one pandas frame: {data_mib:,.0f} MiB; "
        f"load average (1 min) after the runs: {load:.2f}; {time.strftime('%Y-%m-%d')}"
    )
    print(f"{'predict (whole process)':44}{'wall':>10}{'peak RSS':>12}{'rows/s':>12}")
    for label, run in (("one process", one), ("Dask cluster, 2 workers: the driver", many)):
        print(
            f"{label:44}{run['seconds']:9.2f}s{run['peak_mib']:8.0f} MiB"
            f"{rows / run['seconds']:12,.0f}"
        )
    print(f"{'the driver imports alone':44}{'':10}{floor:8.0f} MiB")
    print(f"ratio driver peak / data in memory: {many['peak_mib'] / data_mib:.3f}   (goal <= 0.25)")
    above = (many["peak_mib"] - floor) / data_mib
    print(f"ratio driver peak above its imports / data in memory: {above:.3f}")
    speed = one["seconds"] / many["seconds"]
    print(f"ratio rows per second, cluster / one process: {speed:.3f}")


if __name__ == "__main__":
    main()
