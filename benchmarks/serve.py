"""Measure `serve` on loopback beside the same work in process, in one run.

In a generated project (the default one, installed with its `serve` extra), trained in
production mode on N rows of the embedded data:

- in process (a script in the project's environment): the published model loaded as
  `serve` and `predict` load it, then the median time of `model.predict` on one row, and
  of batch `predict`'s scoring of a 1,000-row batch (ScoringModel.score: the schema
  check, the contract, predict and predict_proba); the process's memory before and after
  loading the model (its loaded size);
- `python -m trimode serve` on a free port of 127.0.0.1: one-row requests from 1 client
  and from CLIENTS concurrent clients (threads, each with its own keep-alive connection,
  REQUESTS requests each): throughput and p50/p99 latency; 1,000-row requests from one
  client: rows per second; the server process's resident memory afterwards.

It prints the ratios: one-row p50 latency / in-process model.predict on one row (goal at
most 3), 1,000-row rows/s served / in-process (goal at least 0.7), and the server's memory
/ the model's loaded size. Memory is read from /proc (Linux).
Run it with: uv run python benchmarks/serve.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: N = 20,000 rows, few requests; see common.py).
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import make_project, say_if_smoke, sized

CLIENTS = 4
BATCH_ROWS = 1_000
START_TIMEOUT_S = 300
REQUEST_TIMEOUT_S = 120

# In the project's environment: load the model as serve does, time it in process, write
# the request rows. Prints one JSON line.
IN_PROCESS = """
import json, statistics, sys, time
from pathlib import Path

import pyarrow as pa
from trimode.core.project import project_at
from trimode.data.synthetic import make_dataset
from trimode.workflows.predict import Seen, load_scoring_model, model_record

root, repeats, out, rows = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])

def resident_kib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

before = resident_kib()
path, manifest = model_record(root / "outputs" / "production")
scoring = load_scoring_model(project_at(root), path, manifest, "rows")
loaded = resident_kib() - before
frame = make_dataset(manifest["task"], rows, seed=11).drop(columns=[manifest["target"]])
frame = frame[scoring.columns]

def median_s(work, count):
    times = []
    for _ in range(count):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)

one = frame.iloc[:1]
scoring.model.predict(one)
one_row = median_s(lambda: scoring.model.predict(one), repeats * 20)
table = pa.Table.from_pandas(frame, preserve_index=False)
batch = median_s(lambda: scoring.score(table, Seen()), repeats)
out.write_text(frame.to_json(orient="records"))
print(json.dumps({"one_row_s": one_row, "batch_s": batch, "loaded_kib": loaded,
                  "model_bytes": manifest["artifact"]["bytes"], "model": manifest["model"]}))
"""


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def resident_mib(pid: int) -> float:
    """A process's resident memory (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def post(connection: http.client.HTTPConnection, body: bytes) -> float:
    """Seconds one /predict request takes on a keep-alive connection; fails loudly."""
    start = time.perf_counter()
    connection.request("POST", "/predict", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200:
        raise RuntimeError(f"/predict answered {response.status}: {payload[:300]!r}")
    return elapsed


def load(port: int, body: bytes, clients: int, requests: int) -> tuple[float, list[float]]:
    """clients threads, each sending requests requests: wall seconds, every latency."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []

    def client(record: list[float]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        try:
            for _ in range(requests):
                record.append(post(connection, body))
        except BaseException as error:  # said after the run, which it ends
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(record,)) for record in latencies]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_S * requests)
    wall = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"a client failed: {errors[0]!r}")
    return wall, [value for record in latencies for value in record]


def percentile(values: list[float], share: float) -> float:
    """The value below which share of values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def wait_for_health(port: int, process: subprocess.Popen, log: Path) -> None:
    """Return once the server answers /health; fail if it ends or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve ended ({process.returncode}): {log.read_text()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"serve did not answer within {START_TIMEOUT_S}s: {log.read_text()}")


def in_process(python: Path, project: Path, rows_file: Path) -> dict:
    """One run of IN_PROCESS in the project's environment: its JSON line."""
    measured = subprocess.run(
        [
            python,
            "-c",
            IN_PROCESS,
            str(project),
            str(sized(20, 2)),
            str(rows_file),
            str(BATCH_ROWS),
        ],
        cwd=project,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(measured.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=sized(100_000, 20_000))
    parser.add_argument("--rounds", type=int, default=sized(3, 1))
    parser.add_argument("--requests", type=int, default=sized(200, 25), help="per client, round")
    parser.add_argument("--batches", type=int, default=sized(20, 3), help="per round")
    arguments = parser.parse_args()
    say_if_smoke()
    local: list[dict] = []
    single: list[float] = []
    concurrent: list[float] = []
    batches: list[float] = []
    walls = {"single": 0.0, "concurrent": 0.0, "batch": 0.0}
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        project, python = make_project(workdir, extras=("serve",))
        train = ["train", "--mode", "production", "--set", f"data.synthetic_rows={arguments.rows}"]
        subprocess.run(
            [python, "-m", "trimode", *train, "--set", "tracking.enabled=false"],
            cwd=project,
            check=True,
            capture_output=True,
        )
        rows_file = workdir / "rows.json"
        port = free_port()
        log = workdir / "serve.log"
        with log.open("wb") as output:
            server = subprocess.Popen(
                [python, "-m", "trimode", "serve", "--port", str(port)],
                cwd=project,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_health(port, server, log)
            # Rounds interleave the two sides (the server idles while the script runs), so
            # a busy spell of the machine weighs on both.
            for _ in range(arguments.rounds):
                local.append(in_process(python, project, rows_file))
                rows = json.loads(rows_file.read_text())
                one_row, batch = json.dumps(rows[:1]).encode(), json.dumps(rows).encode()
                load(port, one_row, 1, 10)  # warm-up
                for key, body, clients, count, record in (
                    ("single", one_row, 1, arguments.requests, single),
                    ("concurrent", one_row, CLIENTS, arguments.requests, concurrent),
                    ("batch", batch, 1, arguments.batches, batches),
                ):
                    wall, latencies = load(port, body, clients, count)
                    walls[key] += wall
                    record.extend(latencies)
            memory = resident_mib(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)

    in_process_ms = statistics.median(run["one_row_s"] for run in local) * 1000
    batch_s = statistics.median(run["batch_s"] for run in local)
    served_rows_s = BATCH_ROWS * len(batches) / walls["batch"]
    local_rows_s = BATCH_ROWS / batch_s
    loaded_mib = statistics.median(run["loaded_kib"] for run in local) / 1024
    first = local[0]
    print(
        f"python {sys.version.split()[0]}; model {first['model']} trained on "
        f"{arguments.rows:,} rows; file {first['model_bytes'] / 2**20:.2f} MiB; "
        f"{arguments.rounds} round(s)"
    )
    print(
        f"in process: model.predict on one row {in_process_ms:.2f} ms (median); "
        f"batch predict's scoring of {BATCH_ROWS:,} rows {batch_s * 1000:.1f} ms "
        f"({local_rows_s:,.0f} rows/s)"
    )
    for label, wall, latencies in (
        ("1 client", walls["single"], single),
        (f"{CLIENTS} clients", walls["concurrent"], concurrent),
    ):
        print(
            f"one-row requests, {label}: {len(latencies) / wall:,.0f} requests/s, "
            f"p50 {statistics.median(latencies) * 1000:.2f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.2f} ms"
        )
    print(
        f"{BATCH_ROWS:,}-row requests, 1 client: {served_rows_s:,.0f} rows/s, "
        f"p50 {statistics.median(batches) * 1000:.1f} ms"
    )
    print(
        f"memory: server process {memory:.0f} MiB resident; the model loaded in process "
        f"{loaded_mib:.1f} MiB (resident growth while loading)"
    )
    print(
        f"ratio one-row p50 / in-process predict, 1 client: "
        f"{statistics.median(single) * 1000 / in_process_ms:.2f} (goal <= 3)"
    )
    print(
        f"ratio one-row p50 / in-process predict, {CLIENTS} clients: "
        f"{statistics.median(concurrent) * 1000 / in_process_ms:.2f}"
    )
    print(
        f"ratio rows/s served / in-process, {BATCH_ROWS}-row requests: "
        f"{served_rows_s / local_rows_s:.2f} (goal >= 0.7)"
    )
    print(f"ratio server memory / model loaded size: {memory / max(loaded_mib, 0.1):.1f}")


if __name__ == "__main__":
    main()
