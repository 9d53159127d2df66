"""Production mode in generated projects, through the real command line.

For both generated projects (each in its own environment, installed with the `dask` and
`serve` extras: generated.py): the walkthrough's production run, after promote, on every
row of the built-in data set (the default project at its default size, 200,000 rows; the
other on 20,000) publishes a model whose manifest has every field, `predict` scores a
file larger than one batch with it, and the project's `serve` answers rows of that file
over HTTP as `predict` scored them. Then, once each (not per project, on the regression
project): a run whose threshold cannot be met exits 3 and leaves the previous artifact
untouched; a run on a Dask cluster the test starts (a scheduler and two worker
processes, as on a real cluster) gives a model of the same quality as the local run,
reading a partitioned Parquet source; and a Dask run without a scheduler starts and
stops a local cluster.
"""

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from generated import (
    PRODUCTION,
    REGRESSION,
    Environment,
    Installed,
    make_rows,
    ok,
    projects,
    read_json,
)
from rendering import VERSION
from serving import serving

pytestmark = pytest.mark.slow

EMBEDDED_ROWS = 200_000  # data.synthetic_rows in configs/base.toml

# Run by the project's python: what a Dask scheduler has done so far (its count of task
# transitions, and the prefixes of the tasks it ran: read_parquet, joblib's batches).
SCHEDULER_STATE = """
import json, sys
from distributed import Client

def state(dask_scheduler):
    return dask_scheduler.transition_counter, sorted(dask_scheduler.task_prefixes)

with Client(sys.argv[1], timeout=30) as client:
    print(json.dumps(client.run_on_scheduler(state)))
"""

# Run by the project's python: the native thread pools (OpenMP, BLAS) each Dask worker
# has loaded, by their thread counts. A worker's nanny starts it with one thread each
# (Dask's distributed.nanny.pre-spawn-environ): a model fitted there on two threads per
# worker thread would oversubscribe the cores.
WORKER_THREADS = """
import json, sys
from distributed import Client

def threads():
    from threadpoolctl import threadpool_info
    return sorted({pool["internal_api"]: pool["num_threads"] for pool in threadpool_info()}.items())

with Client(sys.argv[1], timeout=30) as client:
    print(json.dumps(list(client.run(threads).values())))
"""


def outputs_in(folder: Path) -> tuple[str, str]:
    """The edit that sends production's outputs to folder (its default is outputs/production)."""
    return (r"\Z", f'\n[outputs]\nroot = "{folder.as_posix()}"\n')


def configs_with(installed: Installed, folder: Path, edits) -> Path:
    """A copy of the project's configs/ in folder, production.toml edited by regex, and of
    its pyproject.toml beside it (the root of configs is a project: its [tool.trimode]
    names the project's code, installed in its environment)."""
    configs = Path(shutil.copytree(installed.folder / "configs", folder))
    shutil.copy2(installed.folder / "pyproject.toml", folder.parent)
    path = configs / "production.toml"
    text = path.read_text(encoding="utf-8")
    for pattern, replacement in edits:
        text, count = re.subn(pattern, replacement, text)
        assert count == 1, f"{pattern!r} not found in {path}"
    path.write_text(text, encoding="utf-8")
    return configs


def train_production(installed: Installed, configs: Path) -> subprocess.CompletedProcess:
    """`uv run <slug> train --mode production` on the configs of a folder."""
    return installed.script("train", "--mode", "production", "--config-dir", str(configs))


@projects
def test_production_run_on_the_embedded_data_then_predict(
    generated, environment, walkthroughs, record_property
):
    walkthrough = walkthroughs.of(generated)
    size = PRODUCTION[generated.slug]
    for name in ("train production", "predict"):
        record_property("wall_time", walkthrough.steps[name].wall_time(generated.slug))
    assert "quality gate passed" in walkthrough.steps["train production"].result.stdout
    record = walkthrough.records["production"]
    manifest = record["manifest"]
    fields = "import json; from trimode.artifacts.manifest import FIELDS; print(json.dumps(FIELDS))"
    assert list(manifest) == json.loads(ok(environment[generated.slug].python(fields)).stdout)
    assert (manifest["mode"], manifest["task"]) == ("production", generated.task)
    assert manifest["data"]["rows"] == (size.rows or EMBEDDED_ROWS)
    assert manifest["data"]["source"] == "synthetic"
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["data"]["content_hash"])
    assert manifest["config"]["data"]["max_rows"] == 0  # every row
    assert manifest["git"]["commit"] is None or re.fullmatch(
        r"[0-9a-f]{40}", manifest["git"]["commit"]
    )
    assert {"trimode", "python", "scikit-learn", "skops", "numpy", "pandas"} <= manifest[
        "libraries"
    ].keys()
    assert manifest["libraries"]["trimode"] == VERSION
    assert manifest["gate"]["enforced"] and manifest["gate"]["passed"]
    assert set(manifest["metrics"]) == set(manifest["baseline"])
    assert manifest["started_at"] <= manifest["finished_at"]
    assert {"load", "fit", "evaluate", "save"} <= manifest["timings_s"].keys()
    assert manifest["artifact"]["sha256"] == record["model_sha256"]

    predicted = walkthrough.steps["predict"].result.stdout
    assert size.predict_rows > size.batch_rows
    assert f"predicted {size.predict_rows:,} rows" in predicted, predicted
    metadata = pq.read_metadata(walkthrough.predictions)
    assert metadata.num_rows == size.predict_rows
    expected = ["customer_id", "prediction"]
    if generated.task == "classification":
        expected += [f"probability_{label}" for label in manifest["classes"]]
    assert metadata.schema.names == expected

    # The published model served by the project's own command line (the environment has
    # the serve extra): rows predict scored get the same answers over HTTP. customer_id
    # is no column of the model's (predict --keep copied it): the server would refuse it.
    installed = environment[generated.slug]
    rows = pq.read_table(walkthrough.workspace / "rows.parquet").slice(0, 50).to_pandas()
    body = json.loads(rows.drop(columns="customer_id").to_json(orient="records"))
    written = pq.read_table(walkthrough.predictions).slice(0, 50).to_pylist()
    command = [installed.command(generated.slug), "serve"]
    with serving(command, installed.folder, installed.variables()) as server:
        status, answer = server.ask("POST", "/predict", body)
    assert status == 200, answer
    assert len(answer["rows"]) == len(written) == 50
    for served, expected in zip(answer["rows"], written, strict=True):
        assert served["prediction"] == pytest.approx(expected["prediction"], rel=1e-12)
        for name in expected.keys() - {"customer_id", "prediction"}:
            assert served[name] == pytest.approx(expected[name], rel=1e-12), name


@pytest.mark.xdist_group(REGRESSION.group)
def test_a_threshold_that_cannot_be_met_publishes_nothing(environment, tmp_path):
    installed = environment[REGRESSION.slug]
    outputs = tmp_path / "outputs"
    small = [
        (r"\[data\]\n", "[data]\nsynthetic_rows = 20_000\n"),
        outputs_in(outputs),
    ]
    ok(train_production(installed, configs_with(installed, tmp_path / "good", small)))
    before = {path.name: path.read_bytes() for path in outputs.iterdir()}
    assert {"model.skops", "manifest.json", "metrics.json"} <= before.keys()

    # "primary" is the primary metric, whichever it is (r2 for regression).
    impossible = (r"\nprimary = [\d.]+\n", "\nprimary = 0.9999\n")
    failing = configs_with(installed, tmp_path / "failing", [*small, impossible])
    result = train_production(installed, failing)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "quality gate failed" in lines[0], result.stderr
    assert "r2 is" in lines[0] and "required >= 0.9999" in lines[0]
    assert {path.name: path.read_bytes() for path in outputs.iterdir()} == before
    # Nothing hidden beside them either (a staging folder, a journal), but the lock's file,
    # which stays on purpose (artifacts/publish.py), and the ownership ledger (.trimode/,
    # core/writes.py) where the good run recorded the tracking store it made.
    hidden = [path.name for path in tmp_path.iterdir() if path.name.startswith(".")]
    assert set(hidden) <= {f".{outputs.name}.lock", ".trimode"}, hidden
    # Beside the outputs: the project's files (pyproject.toml, two config folders), the
    # data contract production recorded at its first load (data/production/contract.json),
    # and the MLflow store the good run was tracked in ([tracking] in configs/base.toml,
    # on with the `mlflow` answer).
    assert sorted(path.name for path in tmp_path.iterdir() if path.name not in hidden) == [
        "data",
        "failing",
        "good",
        "mlruns",
        "mlruns.db",
        "outputs",
        "pyproject.toml",
    ]
    assert (tmp_path / "data" / "production" / "contract.json").is_file()


@pytest.fixture(scope="module")
def dask_cluster(environment: Environment, tmp_path_factory) -> Iterator[str]:
    """A Dask scheduler and two single-threaded worker processes of the regression
    project's environment, started as separate commands as on a real cluster; yield the
    scheduler's address."""
    installed = environment[REGRESSION.slug]
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    dask = installed.command("dask")
    common = {
        "cwd": folder,
        "env": installed.variables(),
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
    }
    scheduler_options = ["--no-dashboard", "--port", "0", "--scheduler-file", scheduler_file]
    scheduler = subprocess.Popen([dask, "scheduler", *scheduler_options], **common)
    worker_options = ["--nworkers", "2", "--nthreads", "1", "--no-dashboard"]
    worker_options += ["--scheduler-file", str(scheduler_file)]
    workers = subprocess.Popen([dask, "worker", *worker_options], **common)
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


@pytest.mark.xdist_group(REGRESSION.group)
def test_a_dask_cluster_gives_a_model_of_the_same_quality(environment, dask_cluster, tmp_path):
    installed = environment[REGRESSION.slug]
    source = tmp_path / "parquet-source"
    make_rows(installed, 40_000, source, parts=4)
    manifests = {}

    def scheduler_state() -> tuple[int, set[str]]:
        transitions, prefixes = json.loads(
            ok(installed.python(SCHEDULER_STATE, dask_cluster)).stdout
        )
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
        configs = configs_with(installed, tmp_path / engine / "configs", edits)
        ok(train_production(installed, configs))
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
    # The models fitted on the workers used one native thread per worker thread.
    pools = json.loads(ok(installed.python(WORKER_THREADS, dask_cluster)).stdout)
    assert len(pools) == 2 and all(pool for pool in pools), pools
    assert all(count == 1 for pool in pools for _, count in pool), pools


@pytest.mark.xdist_group(REGRESSION.group)
def test_dask_without_a_scheduler_starts_and_stops_a_local_cluster(environment, tmp_path):
    installed = environment[REGRESSION.slug]
    outputs = tmp_path / "outputs"
    edits = [
        (r"\[data\]\n", "[data]\nsynthetic_rows = 20_000\n"),
        outputs_in(outputs),
        (r"\[outputs\]\n", '[compute]\nengine = "dask"\n\n[dask]\nn_workers = 2\n\n[outputs]\n'),
    ]
    configs = configs_with(installed, tmp_path / "configs", edits)
    before = worker_processes(installed)
    ok(train_production(installed, configs))
    manifest = read_json(outputs / "manifest.json")
    assert manifest["compute"]["engine"] == "dask"
    assert manifest["compute"]["scheduler"].startswith(("tcp://127.0.0.1:", "inproc://"))
    assert manifest["compute"]["workers"] == 2
    assert manifest["gate"]["passed"]
    # The run stopped its cluster: no worker process of the environment outlives it.
    assert worker_processes(installed) <= before


def worker_processes(installed: Installed) -> set[int]:
    """Running processes of the project's python started by multiprocessing (the workers
    of a local Dask cluster are), read from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if command.startswith(str(installed.venv)) and "multiprocessing" in command:
            found.add(int(entry.name))
    return found
