"""Production mode in generated projects, through the real command line.

For both generated projects (the shared environment of generated.py, installed with
the `dask` extra): a production run on the embedded data set at its default size
(200,000 rows) publishes a model whose manifest has every field, and `predict`
scores a file larger than one batch with it; a run whose threshold cannot be met
exits 3 and leaves the previous artifact untouched; and a run on a Dask cluster the
test starts (a scheduler and two worker processes, as on a real cluster) gives a
model of the same quality as the local run, reading a partitioned Parquet source.
"""

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from generated import PROJECTS, XDIST_GROUP, Environment, Generated, ok, projects

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(XDIST_GROUP)]

EMBEDDED_ROWS = 200_000  # data.synthetic_rows in configs/base.toml
PREDICT_ROWS = 250_000  # more than predict's default batch of 100,000 rows

# Run by the environment's python: write `rows` unseen synthetic rows (an ID column in
# front, the target dropped) to a Parquet file, or to a folder of `parts` Parquet files.
MAKE_ROWS = """
import sys
from pathlib import Path
import numpy as np
from {package}.ingest.synthetic import TARGETS, make_dataset

task, rows, where, parts, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), 9
frame = make_dataset(task, rows, seed=seed)
if parts == 1:
    frame = frame.drop(columns=TARGETS[task])
    frame.insert(0, "customer_id", np.arange(rows))
    frame.to_parquet(where, index=False)
else:
    Path(where).mkdir()
    step = -(-rows // parts)
    for part in range(parts):
        chunk = frame.iloc[part * step : (part + 1) * step]
        chunk.to_parquet(f"{{where}}/part-{{part}}.parquet", index=False)
"""
# Run by the environment's python: print a Parquet file's row count and column names.
DESCRIBE = """
import json, sys
import pyarrow.parquet as pq
metadata = pq.read_metadata(sys.argv[1])
print(json.dumps({"rows": metadata.num_rows, "columns": metadata.schema.names}))
"""
# Run by the environment's python: what a Dask scheduler has done so far (its count of
# task transitions, and the prefixes of the tasks it ran: read_parquet, joblib's batches).
SCHEDULER_STATE = """
import json, sys
from distributed import Client

def state(dask_scheduler):
    return dask_scheduler.transition_counter, sorted(dask_scheduler.task_prefixes)

with Client(sys.argv[1], timeout=30) as client:
    print(json.dumps(client.run_on_scheduler(state)))
"""
# Run by the environment's python: the sha256 of a file.
SHA256 = "import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())"


def run_cli(environment: Environment, generated: Generated, *arguments: str):
    """Run the generated project's command line in its folder; return the result."""
    folder = environment.folders[generated.slug]
    python = environment.command("python")
    return environment.run(python, "-m", generated.package, *arguments, cwd=folder)


def make_rows(environment: Environment, generated: Generated, rows: int, where: Path, parts=1):
    script = MAKE_ROWS.format(package=generated.package)
    folder = environment.folders[generated.slug]
    arguments = [generated.task, str(rows), str(where), str(parts)]
    ok(environment.run(environment.command("python"), "-c", script, *arguments, cwd=folder))


def outputs_in(folder: Path) -> tuple[str, str]:
    """The edit that sends production's outputs to folder (its default is outputs/production)."""
    return (r"\Z", f'\n[outputs]\nroot = "{folder.as_posix()}"\n')


def configs_with(generated: Generated, environment: Environment, folder: Path, edits) -> Path:
    """A copy of the project's configs/ in folder, production.toml edited by regex."""
    configs = Path(shutil.copytree(environment.folders[generated.slug] / "configs", folder))
    path = configs / "production.toml"
    text = path.read_text(encoding="utf-8")
    for pattern, replacement in edits:
        text, count = re.subn(pattern, replacement, text)
        assert count == 1, f"{pattern!r} not found in {path}"
    path.write_text(text, encoding="utf-8")
    return configs


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@projects
def test_production_run_on_the_embedded_data_then_predict(generated, environment, tmp_path):
    folder = environment.folders[generated.slug]
    outputs = folder / "outputs" / "production"
    shutil.rmtree(outputs, ignore_errors=True)
    trained = ok(run_cli(environment, generated, "train", "--mode", "production"))
    assert "quality gate passed" in trained.stdout

    manifest = read_json(outputs / "manifest.json")
    python = environment.command("python")
    fields = (
        f"import json; from {generated.package}.publishing.manifest import FIELDS; "
        "print(json.dumps(FIELDS))"
    )
    assert list(manifest) == json.loads(
        ok(environment.run(python, "-c", fields, cwd=folder)).stdout
    )
    assert (manifest["mode"], manifest["task"]) == ("production", generated.task)
    assert manifest["data"]["rows"] == EMBEDDED_ROWS
    assert manifest["data"]["source"] == "synthetic"
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["data"]["content_hash"])
    assert manifest["config"]["data"]["max_rows"] == 0  # every row
    assert manifest["git"]["commit"] is None or re.fullmatch(
        r"[0-9a-f]{40}", manifest["git"]["commit"]
    )
    assert {"python", "scikit-learn", "skops", "numpy", "pandas"} <= manifest["libraries"].keys()
    assert manifest["gate"]["enforced"] and manifest["gate"]["passed"]
    assert set(manifest["metrics"]) == set(manifest["baseline"])
    assert manifest["started_at"] <= manifest["finished_at"]
    assert {"load", "fit", "evaluate", "save"} <= manifest["timings_s"].keys()
    digest = ok(environment.run(python, "-c", SHA256, str(outputs / "model.skops"), cwd=folder))
    assert manifest["artifact"]["sha256"] == digest.stdout.strip()

    rows, predictions = tmp_path / "rows.parquet", tmp_path / "predictions.parquet"
    make_rows(environment, generated, PREDICT_ROWS, rows)
    arguments = ["--input", str(rows), "--output", str(predictions), "--keep", "customer_id"]
    predicted = ok(run_cli(environment, generated, "predict", *arguments))
    assert f"predicted {PREDICT_ROWS:,} rows" in predicted.stdout
    described = json.loads(
        ok(environment.run(python, "-c", DESCRIBE, str(predictions), cwd=folder)).stdout
    )
    assert described["rows"] == PREDICT_ROWS
    expected = ["customer_id", "prediction"]
    if generated.task == "classification":
        expected += [f"probability_{label}" for label in manifest["classes"]]
    assert described["columns"] == expected


@projects
def test_a_threshold_that_cannot_be_met_publishes_nothing(generated, environment, tmp_path):
    outputs = tmp_path / "outputs"
    primary = "roc_auc" if generated.task == "classification" else "r2"
    small = [
        (r"\[data\]\n", "[data]\nsynthetic_rows = 20_000\n"),
        outputs_in(outputs),
    ]
    good = configs_with(generated, environment, tmp_path / "good", small)
    ok(run_cli(environment, generated, "train", "--mode", "production", "--config-dir", str(good)))
    before = {path.name: path.read_bytes() for path in outputs.iterdir()}
    assert {"model.skops", "manifest.json", "metrics.json"} <= before.keys()

    # "primary" is the primary metric, whichever it is.
    impossible = (r"\nprimary = [\d.]+\n", "\nprimary = 0.9999\n")
    failing = configs_with(generated, environment, tmp_path / "failing", [*small, impossible])
    result = run_cli(
        environment, generated, "train", "--mode", "production", "--config-dir", str(failing)
    )
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "quality gate failed" in lines[0], result.stderr
    assert f"{primary} is" in lines[0] and "required >= 0.9999" in lines[0]
    assert {path.name: path.read_bytes() for path in outputs.iterdir()} == before
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []
    # Beside the outputs: the two config folders, the data contract production recorded
    # at its first load (data/production/contract.json), and the MLflow store the good
    # run was tracked in ([tracking] in configs/base.toml, on with the `mlflow` answer).
    assert sorted(path.name for path in outputs.parent.iterdir()) == [
        "data",
        "failing",
        "good",
        "mlruns",
        "mlruns.db",
        "outputs",
    ]
    assert (tmp_path / "data" / "production" / "contract.json").is_file()


@pytest.fixture(scope="module")
def dask_cluster(environment: Environment, tmp_path_factory) -> Iterator[str]:
    """A Dask scheduler and two single-threaded worker processes, started as separate
    commands as on a real cluster; yield the scheduler's address."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    dask = environment.command("dask")
    common = {"cwd": folder, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [
            dask,
            "scheduler",
            "--no-dashboard",
            "--port",
            "0",
            "--scheduler-file",
            str(scheduler_file),
        ],
        **common,
    )
    workers = subprocess.Popen(
        [
            dask,
            "worker",
            "--nworkers",
            "2",
            "--nthreads",
            "1",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
        ],
        **common,
    )
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scheduler_file.exists(), "the Dask scheduler did not start within 60 s"
        yield read_json(scheduler_file)["address"]
    finally:
        for process in (workers, scheduler):
            process.terminate()
        for process in (workers, scheduler):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@projects
def test_a_dask_cluster_gives_a_model_of_the_same_quality(
    generated, environment, dask_cluster, tmp_path
):
    source = tmp_path / "parquet-source"
    make_rows(environment, generated, 40_000, source, parts=4)
    manifests = {}
    python = environment.command("python")
    folder = environment.folders[generated.slug]

    def scheduler_state() -> tuple[int, set[str]]:
        result = ok(environment.run(python, "-c", SCHEDULER_STATE, dask_cluster, cwd=folder))
        transitions, prefixes = json.loads(result.stdout)
        return transitions, set(prefixes)

    transitions_before, _ = scheduler_state()
    for engine in ("local", "dask"):
        outputs = tmp_path / engine / "outputs"
        edits = [
            (r"\[data\]\n", f'[data]\nsource = "{source.as_posix()}"\n'),
            (r"enabled = false\niterations = 8", "enabled = true\niterations = 3"),
            outputs_in(outputs),
        ]
        if engine == "dask":
            cluster = (
                f'[compute]\nengine = "dask"\n\n[dask]\nscheduler_address = "{dask_cluster}"\n\n'
            )
            edits.append((r"\[outputs\]\n", cluster + "[outputs]\n"))
        configs = configs_with(generated, environment, tmp_path / engine / "configs", edits)
        ok(
            run_cli(
                environment,
                generated,
                "train",
                "--mode",
                "production",
                "--config-dir",
                str(configs),
            )
        )
        manifests[engine] = read_json(outputs / "manifest.json")
    local, dask = manifests["local"], manifests["dask"]
    # The cluster did the work: it read the Parquet source, and ran joblib's batches.
    transitions_after, prefixes = scheduler_state()
    assert transitions_after > transitions_before
    assert "read_parquet" in prefixes
    assert prefixes - {"read_parquet"}, prefixes
    assert dask["compute"]["engine"] == "dask"
    assert dask["compute"]["scheduler"] == dask_cluster
    assert dask["compute"]["workers"] == 2
    assert "dask" in dask["libraries"] and "distributed" in dask["libraries"]
    # The same rows, read by Dask in partitions.
    assert dask["data"]["content_hash"] == local["data"]["content_hash"]
    assert dask["data"]["rows"] == 40_000
    # The same search over the same candidates: the same choice and the same quality.
    assert dask["search"]["candidates"] == local["search"]["candidates"] == 3
    assert dask["search"]["best_params"] == local["search"]["best_params"]
    primary = local["primary_metric"]
    assert dask["metrics"][primary] == pytest.approx(local["metrics"][primary], abs=0.005)
    assert dask["gate"]["passed"] and local["gate"]["passed"]


def test_dask_without_a_scheduler_starts_and_stops_a_local_cluster(environment, tmp_path):
    generated = PROJECTS[0]
    outputs = tmp_path / "outputs"
    edits = [
        (r"\[data\]\n", "[data]\nsynthetic_rows = 20_000\n"),
        outputs_in(outputs),
        (r"\[outputs\]\n", '[compute]\nengine = "dask"\n\n[dask]\nn_workers = 2\n\n[outputs]\n'),
    ]
    configs = configs_with(generated, environment, tmp_path / "configs", edits)
    before = worker_processes(environment)
    ok(
        run_cli(
            environment, generated, "train", "--mode", "production", "--config-dir", str(configs)
        )
    )
    manifest = read_json(outputs / "manifest.json")
    assert manifest["compute"]["engine"] == "dask"
    assert manifest["compute"]["scheduler"].startswith(("tcp://127.0.0.1:", "inproc://"))
    assert manifest["compute"]["workers"] == 2
    assert manifest["gate"]["passed"]
    # The run stopped its cluster: no worker process of the environment outlives it.
    assert worker_processes(environment) <= before


def worker_processes(environment: Environment) -> set[int]:
    """Running processes of the environment's python started by multiprocessing (the
    workers of a local Dask cluster are), read from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if command.startswith(str(environment.venv)) and "multiprocessing" in command:
            found.add(int(entry.name))
    return found
