"""Batch scoring on a Dask cluster: a Parquet folder of 2,000,000 rows scored by a local
cluster of two worker processes gives the predictions single-process `predict` gives,
each worker loads the model once, the driver never holds the rows, and a bad value in
one part is the same one-line error with no output left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trimode.cli.main import main
from trimode.core.errors import DataError
from trimode.core.layout import MARKER_FILE
from trimode.core.project import Project, project_at
from trimode.core.tasks import task_named
from trimode.core.writes import WriteRefused
from trimode.workflows import predict_on_cluster as on_cluster
from trimode.workflows.predict import predict_file
from trimode.workflows.predict_on_cluster import predict_on_cluster
from trimode.workflows.train import TrainingResult, train

from .test_production import production_config, scoring_input

ROWS = 2_000_000
FILES = 8
# Rows of each part a worker scores (predict's --batch-rows): one row group.
PART_ROWS = 50_000
# A Dask client and its cluster that do not answer within this many seconds are broken.
HANG = 300


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cluster-predict")


@pytest.fixture(scope="module")
def trained(workspace: Path) -> TrainingResult:
    """A production model of the runtime's own settings, published into the workspace."""
    return train(production_config(workspace, "good"))


@pytest.fixture(scope="module")
def project(workspace: Path, trained: TrainingResult) -> Project:
    return project_at(workspace)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Dask cluster of two single-threaded worker processes; its address."""
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as started:
        yield started.scheduler_address


@pytest.fixture(scope="module")
def cluster_configs(workspace: Path, trained: TrainingResult, cluster: str) -> Path:
    """Production's settings with compute.engine = "dask" on the cluster: a config folder."""
    production_config(
        workspace,
        "on-cluster",
        compute={"engine": "dask"},
        dask={"scheduler_address": cluster},
    )
    return workspace / "on-cluster"


@pytest.fixture(scope="module")
def folder(trained: TrainingResult, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A Parquet folder of ROWS unseen rows in FILES files (row groups of 50,000 rows):
    40 perturbed copies of 50,000 rows, an ID column in front; and the bytes the whole of it
    takes as one pandas frame (memory_usage, deep), summed file by file."""
    place = tmp_path_factory.mktemp("rows") / "rows"
    place.mkdir()
    base = scoring_input(trained.manifest["task"], 50_000)
    numeric = [name for name in trained.manifest["features"]["numeric"] if name in base]
    random = np.random.default_rng(7)
    size, copy = 0, 0
    for index in range(FILES):
        pieces = []
        for _ in range(ROWS // FILES // len(base)):
            piece = base.copy()
            piece["customer_id"] += copy * len(base)
            piece[numeric] = piece[numeric] * random.uniform(0.9, 1.1, (len(base), len(numeric)))
            pieces.append(piece)
            copy += 1
        frame = pd.concat(pieces, ignore_index=True)
        size += int(frame.memory_usage(deep=True, index=False).sum())
        frame.to_parquet(place / f"rows-{index}.parquet", index=False, row_group_size=50_000)
    return place, size


def run_measured(
    command: list[str], cwd: Path, environment: dict[str, str]
) -> tuple[subprocess.CompletedProcess, float]:
    """Run one process to its end; its result and its peak resident memory in MiB (its
    own: os.wait4 reaps it with its rusage)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=out, stderr=err)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(
            command, os.waitstatus_to_exitcode(status), out.read().decode(), err.read().decode()
        )
    return result, usage.ru_maxrss / 1024  # Linux: KiB


def driver_environment(starter_package: Path) -> dict[str, str]:
    """This environment with the test project's package importable."""
    paths = [str(starter_package.parent), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in paths if path)}


def driver_command(configs: Path, source: Path, output: Path, trained) -> list[str]:
    """`predict` on the cluster, as a process of its own: the driver."""
    arguments = ["--config-dir", str(configs), "--input", str(source), "--output", str(output)]
    arguments += ["--model", str(trained.output_dir), "--keep", "customer_id"]
    return [sys.executable, "-m", "trimode", "predict", *arguments, "--batch-rows", str(PART_ROWS)]


def loads_per_worker(address: str) -> dict[str, int]:
    """How many times each worker of the cluster has called load_model since it was
    counted (count_loads)."""
    from dask.distributed import Client

    with Client(address, timeout=HANG) as client:
        return client.run(lambda: on_cluster.load_model.calls)  # type: ignore[attr-defined]


def count_loads(address: str) -> None:
    """Make each worker of the cluster count its calls of load_model, from 0, with no
    model loaded yet."""
    from dask.distributed import Client

    def counting() -> None:
        load = getattr(on_cluster.load_model, "__wrapped__", on_cluster.load_model)

        def counted(*args, **kwargs):
            counted.calls += 1  # type: ignore[attr-defined]
            return load(*args, **kwargs)

        counted.calls = 0  # type: ignore[attr-defined]
        counted.__wrapped__ = load  # type: ignore[attr-defined]
        on_cluster.load_model = counted  # type: ignore[assignment]
        on_cluster._MODELS.clear()

    with Client(address, timeout=HANG) as client:
        client.run(counting)


def test_a_cluster_scores_two_million_rows_as_one_process_does_and_the_driver_holds_none(
    trained, project, workspace, cluster, cluster_configs, folder, starter_package, tmp_path
):
    source, data_bytes = folder
    environment = driver_environment(starter_package)
    # The driver's floor: the same command on a few rows (what it imports and sets up).
    few = tmp_path / "few"
    few.mkdir()
    pq.write_table(pq.read_table(source / "rows-0.parquet").slice(0, 2_000), few / "few.parquet")
    small, floor_peak = run_measured(
        driver_command(cluster_configs, few, tmp_path / "few-out", trained), workspace, environment
    )
    assert small.returncode == 0, small.stderr
    count_loads(cluster)
    output = tmp_path / "scored"
    done, driver_peak = run_measured(
        driver_command(cluster_configs, source, output, trained), workspace, environment
    )
    assert done.returncode == 0, done.stderr
    assert f"predicted {ROWS:,} rows" in done.stdout

    # Each worker scored parts, and loaded the model once for all of them.
    parts = sorted(path.name for path in output.iterdir())
    assert parts == [MARKER_FILE, *(f"part-{i:05d}.parquet" for i in range(ROWS // PART_ROWS))]
    loads = loads_per_worker(cluster)
    assert loads == {worker: 1 for worker in loads}
    assert len(loads) == 2

    # The driver never held the rows: scoring 2,000,000 rows took it a sliver of the data's
    # size (the rows as one pandas frame) more than scoring 2,000.
    growth = (driver_peak - floor_peak) * 2**20
    print(
        f"driver peak {driver_peak:.0f} MiB (on 2,000 rows {floor_peak:.0f} MiB), data "
        f"{data_bytes / 2**20:.0f} MiB: peak / data {driver_peak * 2**20 / data_bytes:.2f}, "
        f"growth / data {growth / data_bytes:.3f}"
    )
    assert growth < 0.1 * data_bytes

    # The same predictions as one process scoring the same rows.
    single = predict_file(
        project, str(source), tmp_path / "single.parquet", trained.output_dir, keep=("customer_id",)
    )
    assert single.rows == ROWS
    expected = pq.read_table(tmp_path / "single.parquet")
    written = pq.read_table(output)  # the parts in name order: the input's row order
    assert written.schema == expected.schema
    assert written.num_rows == ROWS
    assert written.column("customer_id").equals(expected.column("customer_id"))
    if task_named(trained.manifest["task"]).has_classes:
        assert written.column("prediction").equals(expected.column("prediction"))
        for name in expected.schema.names:
            if name.startswith("probability_"):
                np.testing.assert_allclose(written.column(name), expected.column(name))
    else:
        np.testing.assert_allclose(written.column("prediction"), expected.column("prediction"))


def test_a_bad_value_in_one_part_is_one_line_and_leaves_no_output(
    trained, project, workspace, cluster, tmp_path, capfd, monkeypatch
):
    column = trained.manifest["features"]["numeric"][0]
    source = tmp_path / "rows"
    source.mkdir()
    frame = scoring_input(trained.manifest["task"], 4_000)
    frame[column] = frame[column].astype(str)  # numbers written as text: conform reads them
    frame.loc[2_345, column] = "seven"
    for index in range(4):
        rows = frame.iloc[index * 1_000 : (index + 1) * 1_000]
        pq.write_table(
            pa.Table.from_pandas(rows, preserve_index=False), source / f"{index}.parquet"
        )
    # One process names the value and its row of the whole input; so does the cluster.
    with pytest.raises(DataError) as single:
        predict_file(project, str(source), tmp_path / "single.parquet", trained.output_dir)
    assert f"'seven' in data row {2_345 + 1}" in str(single.value)
    config = production_config(
        workspace, "on-cluster", compute={"engine": "dask"}, dask={"scheduler_address": cluster}
    )
    with pytest.raises(DataError) as clustered:
        predict_on_cluster(
            project, config, str(source), tmp_path / "out", trained.output_dir, batch_rows=500
        )
    assert str(clustered.value) == str(single.value)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["rows"]

    # The command line says it in one line, no traceback (none from the workers either,
    # whose output reaches the terminal on a local cluster predict starts), and leaves
    # nothing.
    production_config(workspace, "local-cluster", compute={"engine": "dask"}, dask={"n_workers": 2})
    monkeypatch.chdir(workspace)
    arguments = ["--config-dir", str(workspace / "local-cluster"), "--input", str(source)]
    arguments += ["--output", str(tmp_path / "out"), "--model", str(trained.output_dir)]
    capfd.readouterr()
    code = main(["predict", *arguments])
    said = capfd.readouterr()
    assert code != 0
    assert said.err.strip() == f"error: {single.value}"
    assert "Traceback" not in said.out + said.err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["rows"]


def test_predictions_that_exist_are_replaced_only_when_every_part_is_scored(
    trained, project, workspace, cluster, tmp_path
):
    """An output folder of the project's is replaced whole; one of someone else's is
    refused before any row is scored."""
    source = tmp_path / "rows.parquet"
    scoring_input(trained.manifest["task"], 3_000).to_parquet(source, index=False)
    config = production_config(
        workspace, "on-cluster", compute={"engine": "dask"}, dask={"scheduler_address": cluster}
    )
    output = tmp_path / "out"
    first = predict_on_cluster(project, config, str(source), output, trained.output_dir)
    assert first.rows == 3_000 == pq.read_table(output).num_rows
    again = predict_on_cluster(
        project, config, str(source), output, trained.output_dir, batch_rows=1_000
    )
    assert again.rows == 3_000 == pq.read_table(output).num_rows
    assert len(list(output.glob("part-*.parquet"))) == 1  # a row group is one part
    assert json.loads((output / MARKER_FILE).read_text())["made_by"] == "trimode"

    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    with pytest.raises(WriteRefused, match="holds files this project did not make"):
        predict_on_cluster(project, config, str(source), theirs, trained.output_dir)
    assert sorted(path.name for path in theirs.iterdir()) == ["notes.txt"]


def test_the_cluster_warns_as_one_process_does_and_reads_urls_not_csv(
    trained, project, workspace, cluster, tmp_path
):
    """Values outside the data contract and infinities, in several parts, are the same
    notes as one process gives; a file:// URL is read; a CSV input is one line."""
    features = trained.manifest["features"]
    numeric, categorical = features["numeric"][0], features["categorical"][0]
    frame = scoring_input(trained.manifest["task"], 3_000)
    frame.loc[10, numeric] = 1e9
    frame.loc[1_500, numeric] = np.inf
    frame.loc[2_900, categorical] = "a category never seen"
    source = tmp_path / "rows"
    source.mkdir()
    for index in range(3):
        part = frame.iloc[index * 1_000 : (index + 1) * 1_000]
        part.to_parquet(source / f"{index}.parquet", index=False)
    single = predict_file(project, str(source), tmp_path / "single.parquet", trained.output_dir)
    config = production_config(
        workspace, "on-cluster", compute={"engine": "dask"}, dask={"scheduler_address": cluster}
    )
    url = source.as_uri()
    clustered = predict_on_cluster(
        project, config, url, tmp_path / "out", trained.output_dir, batch_rows=1_000
    )
    assert len(single.warnings) >= 3  # the infinity, the range, the category (and more)
    assert clustered.warnings == [note.replace(str(source), url) for note in single.warnings]
    assert clustered.ignored_columns == single.ignored_columns

    frame.to_csv(tmp_path / "rows.csv", index=False)
    with pytest.raises(DataError, match="scoring on a Dask cluster reads Parquet files"):
        predict_on_cluster(
            project, config, str(tmp_path / "rows.csv"), tmp_path / "csv-out", trained.output_dir
        )
    assert not (tmp_path / "csv-out").exists()
