"""Time and measure `fetch-sample` of 10,000 rows next to reading the whole source.

In a generated project (the default one, installed with compiled bytecode), a Parquet
source of at least 5,000,000 rows is written with the project's synthetic generator,
one row group per block. Then, interleaved and repeated, each in its own process:

- A: the runtime's `data.sampling.fetch_sample` keeps 10,000 rows of it (human-mode
  config, with data.source, data.max_rows and data.sample_dir overridden as `--set` does);
- B: `pyarrow.parquet.read_table(path)` reads all of it.

Each process reports its own wall time for the work (imports excluded), its whole run
and its peak resident memory (`getrusage(RUSAGE_SELF).ru_maxrss`), so memory is per
run. It prints the medians and the ratios A/B (the issue's targets: time at most 1.5,
peak memory at most 0.25). Run it with: uv run python benchmarks/fetch_sample.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: 1,000 of 5,000 rows, one repeat; see common.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import make_project, say_if_smoke, sized

WRITE_SOURCE = """
import sys
import pyarrow as pa
import pyarrow.parquet as pq
from trimode.data.synthetic import iter_blocks

path, rows = sys.argv[1], int(sys.argv[2])
writer = None
for block in iter_blocks("classification", rows):
    table = pa.Table.from_pandas(block, preserve_index=False)
    writer = writer or pq.ParquetWriter(path, table.schema)
    writer.write_table(table)  # one row group per block
writer.close()
meta = pq.ParquetFile(path).metadata
print(meta.num_rows, meta.num_row_groups)
"""

# Each run prints one JSON line: seconds of work, peak memory in MiB.
RUN_FETCH = """
import json, resource, sys, time
from trimode import load_config
from trimode.data.sampling import fetch_sample

project, source, rows, workdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
overrides = {"data.source": source, "data.max_rows": rows, "data.sample_dir": workdir}
overrides["outputs.allow_outside_project"] = True  # the samples go beside the project
# As the fetch-sample command loads it: without the model registries' checks.
config = load_config("human", f"{project}/configs", overrides, registry=False)
start = time.perf_counter()
result = fetch_sample(config)
seconds = time.perf_counter() - start
assert result.meta["rows_kept"] == rows, result.meta
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mib": peak, "rows_seen": result.meta["rows_seen"]}))
"""

RUN_READ = """
import json, resource, sys, time
import pyarrow.parquet as pq

start = time.perf_counter()
table = pq.read_table(sys.argv[1])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mib": peak, "rows_seen": table.num_rows}))
"""


def measure(command: list[str], cwd: Path) -> dict[str, float]:
    """Run one measured process; return its report plus the wall time of the whole process."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["process_seconds"] = time.perf_counter() - start
    return report


def main() -> None:
    """Make the source, measure both runs interleaved, print the medians and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    rows = sized(5_000_000, 5_000)
    parser.add_argument("--rows", type=int, default=rows, help="rows in the source")
    parser.add_argument("--sample", type=int, default=sized(10_000, 1_000), help="rows to fetch")
    parser.add_argument("--repeats", type=int, default=sized(3, 1))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        project, python = make_project(workdir)
        source = workdir / "source.parquet"
        written = subprocess.run(
            [str(python), "-c", WRITE_SOURCE, str(source), str(arguments.rows)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        size_mib = source.stat().st_size / 2**20
        fetch = [str(python), "-c", RUN_FETCH, str(project), str(source), str(arguments.sample)]
        read = [str(python), "-c", RUN_READ, str(source)]
        measure(read, workdir)  # warm the file cache and the imports
        runs: dict[str, list[dict[str, float]]] = {"fetch": [], "read": []}
        for repeat in range(arguments.repeats):
            runs["fetch"].append(measure([*fetch, str(workdir / f"sample-{repeat}")], workdir))
            runs["read"].append(measure(read, workdir))

    def median(name: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[name])

    say_if_smoke()
    print(
        f"python {sys.version.split()[0]}; source: {int(written[0]):,} rows in "
        f"{written[1]} row groups, {size_mib:,.0f} MiB of Parquet; "
        f"{arguments.repeats} interleaved runs each, one process per run (medians)"
    )
    print(f"{'':44}{'work':>9}{'process':>10}{'peak RSS':>12}")
    labels = {
        "fetch": f"A fetch_sample, {arguments.sample:,} rows",
        "read": "B pyarrow.parquet.read_table, all rows",
    }
    for name, label in labels.items():
        print(
            f"{label:44}{median(name, 'seconds'):8.2f}s{median(name, 'process_seconds'):9.2f}s"
            f"{median(name, 'peak_mib'):8.0f} MiB"
        )
    time_ratio = median("fetch", "seconds") / median("read", "seconds")
    process_ratio = median("fetch", "process_seconds") / median("read", "process_seconds")
    memory_ratio = median("fetch", "peak_mib") / median("read", "peak_mib")
    print(f"time ratio A/B (work):          {time_ratio:.2f}   (target <= 1.5)")
    print(f"time ratio A/B (whole process): {process_ratio:.2f}")
    print(f"peak-memory ratio A/B:          {memory_ratio:.2f}   (target <= 0.25)")


if __name__ == "__main__":
    main()
