"""Batch scoring on a Dask cluster (compute.engine = "dask"): a Parquet source scored in
parts by the cluster's workers, written as a folder of Parquet files, one per part.

The driver (this process) reads metadata only: the input's schema, checked against the
training schema as single-process `predict` checks it (predict.scoring_of), and where
each file's row groups are, cut into parts of about batch_rows rows (data.files.
parquet_parts). Each part is one task: a worker reads its row groups, scores them with
the same Scoring as the single-process stream (conform, the contract's checks, the
model), and writes its part file; it returns only what it saw (rows, contract warnings).
No row reaches the driver. Each worker process loads and verifies the model once
(hash and trusted types, artifacts.model_file.load_model), whatever the number of parts
it scores.

The parts are written into a temporary folder beside the output, which replaces the
output only once every part is written (core.writes.Guard.write_folder): a failed part
leaves no output, and an error raised on a worker (a bad value, a refused model) reaches
the user as the same one line. The output folder's files, read in name order, hold the
input's rows in its order. Workers on other machines need the project installed and the
output folder on a file system they share with the driver.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from trimode.artifacts.model_file import load_model
from trimode.config.model import Config
from trimode.core import steps
from trimode.core.errors import DataError, ProjectError
from trimode.core.progress import rows as progress_rows
from trimode.core.project import Project
from trimode.core.writes import PARTITIONED_PREDICTIONS
from trimode.data.files import ParquetPart, parquet_parts, read_parquet_part
from trimode.modelling.compute import dask_cluster
from trimode.workflows.predict import (
    Prediction,
    Scoring,
    Seen,
    _batches,
    _ParquetWriter,
    open_scored,
    predicting,
    production_features,
    scoring_of,
)


@dataclass(frozen=True)
class PartScoring:
    """What a worker needs to score any part of one input: where it is and its schema,
    the Scoring, and the model to load (its file, its run's manifest, the project whose
    code it needs)."""

    source: str
    schema: pa.Schema
    scoring: Scoring
    model_path: Path
    manifest: dict[str, Any]
    project: Project
    batch_rows: int


def predict_on_cluster(
    project: Project,
    config: Config,
    input_path: str,
    output: Path,
    model_path: Path,
    allow_non_production: bool = False,
    batch_rows: int = 100_000,
    keep: tuple[str, ...] = (),
) -> Prediction:
    """Score every row of the Parquet source input_path on the Dask cluster of config
    (dask_cluster: its scheduler, or a local cluster started for the run); write the
    predictions as a folder of Parquet files at output. keep as predict_file's."""
    model_path, manifest, guard = predicting(project, input_path, output, model_path)
    if output.suffix.lower() == ".csv":
        raise DataError(
            f"--output {output}: on a Dask cluster predict writes a folder of Parquet files, "
            "one per part: give a folder's path (e.g. predictions/ or predictions.parquet)"
        )
    output = guard.folder(output, "--output", PARTITIONED_PREDICTIONS, explicit=True)
    features = production_features(model_path, manifest, allow_non_production)
    parts = parquet_parts(input_path, batch_rows)  # a CSV source is refused here
    source = open_scored(input_path, features, keep, batch_rows)
    scoring, ignored = scoring_of(input_path, source, manifest, keep)
    work = PartScoring(
        input_path, source.schema, scoring, model_path, manifest, project, batch_rows
    )
    seen = Seen()

    def score_parts(folder: Path) -> None:
        seen.add(scored_on_cluster(config, work, parts, folder))
        if not seen.rows:
            raise DataError(f"{input_path}: holds no rows to predict")

    with steps.step("predict", f"--input {input_path} on a Dask cluster"):
        guard.write_folder(PARTITIONED_PREDICTIONS, output, score_parts)
    return Prediction(seen.rows, output, model_path, manifest, ignored, seen.notes(input_path))


def scored_on_cluster(
    config: Config, work: PartScoring, parts: list[ParquetPart], folder: Path
) -> Seen:
    """Score every part as a task of the cluster, each written to its file in folder;
    what they saw, in the parts' order.

    At most two parts per worker thread are handed out at a time, the next as one ends.
    A part that fails with an error for the user (a bad value, a refused model) stops the
    handing out; the parts under way end (a part is bounded), then the first failed
    part's error is raised here: the error one process meets first. Cancelling them
    instead would make each worker log the cancellation."""
    from dask.distributed import as_completed

    seen_by_part: dict[int, Seen] = {}
    failures: dict[int, ProjectError] = {}
    total = sum(part.rows for part in parts)
    waiting = list(reversed(list(enumerate(parts))))
    with (
        dask_cluster(config) as client,
        progress_rows(f"predicting {work.source} on a Dask cluster", total) as advance,
    ):
        # The work description is sent to the cluster once, not once per part.
        [shared] = client.scatter([work], broadcast=True)
        running, indices = as_completed(), {}

        def hand_out() -> None:
            index, part = waiting.pop()
            future = client.submit(score_part, shared, part, folder / part_name(index), pure=False)
            indices[future] = index
            running.add(future)

        for _ in range(min(len(waiting), 2 * sum(client.nthreads().values()))):
            hand_out()
        for future in running:
            result = future.result()  # an unexpected error (a bug, a lost worker) is raised
            if isinstance(result, ProjectError):
                failures[indices[future]] = result
                continue
            seen_by_part[indices[future]] = result
            advance(parts[indices[future]].rows)
            if waiting and not failures:
                hand_out()
    if failures:  # the first part's: parts before it were handed out before it, and ended
        raise failures[min(failures)]
    seen = Seen()
    for index in sorted(seen_by_part):
        seen.add(seen_by_part[index])
    return seen


def part_name(index: int) -> str:
    """The file of the index-th part: names sort in the input's row order."""
    return f"part-{index:05d}.parquet"


def score_part(work: PartScoring, part: ParquetPart, path: Path) -> Seen | ProjectError:
    """On a worker: score one part of the input with the worker's model, a batch at a
    time, into the Parquet file path; return what it saw, or the error that stopped it.

    The error is returned, not raised: raised, the worker would log it with its
    traceback (the user's terminal, for a local cluster); the driver raises it."""
    try:
        model = worker_model(work.model_path, work.manifest, work.project)
        seen = Seen()
        source = read_parquet_part(work.source, part, work.schema, work.batch_rows)
        with _ParquetWriter(path) as write:
            for batch in _batches(source):
                write(work.scoring.score(model, batch, part.first_row + seen.rows, seen))
    except ProjectError as error:
        return error
    return seen


# The models this process (a Dask worker) has loaded, by the sha256 their manifest gives
# (load_model checks the file against it): loaded and verified once per process.
_MODELS: dict[tuple[str, str], Any] = {}
_LOADING = threading.Lock()  # a worker with several threads runs several parts at once


def worker_model(path: Path, manifest: dict[str, Any], project: Project) -> Any:
    """The model at path, loaded with load_model's checks the first time this process
    asks for it, and kept for the parts that follow."""
    key = (str(path), str((manifest.get("artifact") or {}).get("sha256")))
    with _LOADING:
        if key not in _MODELS:
            _MODELS[key] = load_model(path, manifest, project)
        return _MODELS[key]
