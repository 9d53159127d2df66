"""Batch scoring: a published model applied to a CSV or Parquet file, a batch at a time.

The input is streamed in batches of `batch_rows` rows and each batch's predictions
are appended to the output as soon as they are made, so memory stays bounded by one
batch whatever the input's size. Before the first row is scored, the input's
columns are checked against the training schema recorded in the manifest: missing
columns are an error that lists them, extra columns are ignored (and named),
values that cannot take the training type are an error naming the column, the
value and the row. The output is written beside its final path and moved there
only when every row has been scored, so a failed run leaves no output file.

A batch is scored by Scoring.score, which predict_on_cluster.py also gives a Dask
cluster's workers (compute.engine = "dask") and serve each request's rows (through
ScoringModel): one code path for all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from trimode.artifacts.model_file import load_model, read_manifest
from trimode.artifacts.publish import last_complete
from trimode.core import steps
from trimode.core.errors import ArtifactError, DataError
from trimode.core.layout import MODEL_FILE
from trimode.core.locations import local_files
from trimode.core.progress import rows as progress_rows
from trimode.core.project import Project
from trimode.core.secrets import remember
from trimode.core.writes import PREDICTIONS, Guard
from trimode.data.contract import (
    contract_breaches,
    infinities_read_as_missing,
    mask_infinities,
    refuse_inexact_integers,
    unread_dates,
)
from trimode.data.files import FORMATS, open_files
from trimode.data.stream import Source
from trimode.modelling.evaluation import PredictedOnce

PREDICTION = "prediction"
# The contract checks that apply to rows being scored (missing and retyped columns are
# errors of their own, before any row is scored; see conform).
SCORED_CHECKS = ("new_missing_values", "out_of_range", "new_category")


@dataclass(frozen=True)
class Prediction:
    """What a batch-scoring run did: rows scored, where they went, columns it ignored."""

    rows: int
    output: Path
    model: Path
    manifest: dict[str, Any]
    ignored_columns: list[str]
    # Values outside the training rows' data contract (scored all the same).
    warnings: list[str]


def resolve_model(path: Path) -> Path:
    """The model file: the path itself, or model.skops inside it when it is a folder (an
    output root a killed run left moved aside: where publishing's journal says it is)."""
    folder = last_complete(path)
    return folder / MODEL_FILE if folder.is_dir() else path


def predict_file(
    project: Project,
    input_path: str,
    output: Path,
    model_path: Path,
    allow_non_production: bool = False,
    batch_rows: int = 100_000,
    keep: tuple[str, ...] = (),
) -> Prediction:
    """Score every row of input_path with the model at model_path (a model of the
    project's, whose code it needs: its registry, its preprocessing); write output.

    keep names input columns copied into the output beside the predictions (an ID).
    """
    model_path, manifest, guard = predicting(project, input_path, output, model_path)
    output = guard.file(output, "--output", PREDICTIONS, explicit=True)
    features, model = loaded_model(project, model_path, manifest, allow_non_production)
    writer = _writer_for(output)
    source = open_scored(input_path, features, keep, batch_rows)
    scoring, ignored = scoring_of(input_path, source, manifest, keep)
    seen = Seen()

    def score_all(temporary: Path) -> None:
        with (
            progress_rows(f"predicting {input_path}", source.total_rows) as advance,
            writer(temporary) as write,
        ):
            for batch in _batches(source):
                write(scoring.score(model, batch, seen.rows, seen))
                advance(batch.num_rows)
        if not seen.rows:
            raise DataError(f"{input_path}: holds no rows to predict")

    with steps.step("predict", f"--input {input_path}"):
        guard.write(PREDICTIONS, {output: score_all})
    return Prediction(seen.rows, output, model_path, manifest, ignored, seen.notes(input_path))


@dataclass
class Seen:
    """What scoring saw so far: rows scored, infinities (read as missing values, as in
    training) per column, and one warning per contract check and column it broke."""

    rows: int = 0
    infinite: dict[str, int] = field(default_factory=dict)
    warnings: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, other: Seen) -> None:
        """Count what another part of the same input saw, after what this one saw."""
        self.rows += other.rows
        for name, count in other.infinite.items():
            self.infinite[name] = self.infinite.get(name, 0) + count
        for key, message in other.warnings.items():
            self.warnings.setdefault(key, message)

    def notes(self, input_path: str) -> list[str]:
        """The warnings for the user: infinities read as missing, then contract breaches."""
        return [*infinities_read_as_missing(input_path, self.infinite), *self.warnings.values()]


@dataclass(frozen=True)
class Scoring:
    """How each batch of one input becomes predictions: the columns the model reads
    conformed to the training schema (conform), checked against the training rows' data
    contract, scored; the columns kept copied beside. Holds no model, so that it travels
    to a Dask worker as it is (the worker loads the model itself)."""

    input_path: str
    features: dict[str, Any]
    columns: list[str]
    keep: tuple[str, ...]
    # The training rows' contract, on the columns the model reads.
    contract: dict[str, Any]
    decimal_point: str = "."

    @classmethod
    def of(
        cls,
        input_path: str,
        manifest: dict[str, Any],
        keep: tuple[str, ...] = (),
        decimal_point: str = ".",
    ) -> Scoring:
        """The scoring of rows from input_path (what messages name them by) by the model a
        manifest describes: its training columns, and their data contract (older manifests
        have none): values outside it are scored, and named once per column and check."""
        features = manifest["features"]
        columns = model_inputs(features)
        recorded = (manifest.get("contract") or {}).get("columns", {})
        contract = {"columns": {name: recorded[name] for name in columns if name in recorded}}
        return cls(input_path, features, columns, keep, contract, decimal_point)

    def score(
        self, model: Any, batch: pa.RecordBatch | pa.Table, first_row: int, seen: Seen
    ) -> pa.Table:
        """The batch's predictions (and one probability per class the model knows), its
        kept columns first; batch starts at data row first_row + 1 of the input."""
        frame = conform(
            batch.select(self.columns),
            self.features,
            self.input_path,
            first_row,
            self.decimal_point,
        )
        for name, count in mask_infinities(frame).items():
            seen.infinite[name] = seen.infinite.get(name, 0) + count
        for check, column, message in contract_breaches(frame, self.contract, SCORED_CHECKS):
            seen.warnings.setdefault((check, column), f"data contract: {message}")
        for check, column, message in unread_dates(frame, self.features.get("dates", [])):
            seen.warnings.setdefault((check, column), f"{self.input_path}: {message}")
        scored = {name: batch.column(name) for name in self.keep}
        # Labels from the probabilities of the same pass (or the model's own predict where
        # it has none): one pass through the model per batch, not two.
        predicted = PredictedOnce(model, frame)
        scored[PREDICTION] = predicted.predict(frame)
        # The labels the fitted estimator predicts, from the model itself (a record may lag).
        classes = getattr(model, "classes_", None)
        if classes is not None:
            probabilities = predicted.predict_proba(frame)
            for index, label in enumerate(classes):
                scored[f"probability_{label}"] = probabilities[:, index]
        seen.rows += batch.num_rows
        return pa.table(scored)


@dataclass(frozen=True)
class ScoringModel:
    """A model loaded with its trust checks beside the Scoring of its rows: what `serve`
    holds and scores each request's rows with."""

    path: Path
    manifest: dict[str, Any]
    model: Any
    scoring: Scoring

    @property
    def features(self) -> dict[str, Any]:
        """The training columns of its manifest (names, kinds, roles)."""
        return self.scoring.features

    @property
    def columns(self) -> list[str]:
        """The input columns the model reads."""
        return self.scoring.columns

    def score(self, batch: pa.RecordBatch | pa.Table, seen: Seen) -> pa.Table:
        """The rows of batch (the model's input columns, numbers or their text) scored as
        `predict` scores a batch (Scoring.score); what it saw added to seen."""
        return self.scoring.score(self.model, batch, 0, seen)


def load_scoring_model(
    project: Project, model_path: Path, manifest: dict[str, Any], where: str
) -> ScoringModel:
    """The production model at model_path (with its manifest, see model_record) loaded with
    load_model's trust checks (its sha256, the types it holds), to score rows that messages
    call `where`."""
    _, model = loaded_model(project, model_path, manifest, allow_non_production=False)
    return ScoringModel(model_path, manifest, model, Scoring.of(where, manifest))


def loaded_model(
    project: Project, model_path: Path, manifest: dict[str, Any], allow_non_production: bool
) -> tuple[dict[str, Any], Any]:
    """The training columns of the model at model_path (see production_features) and the
    model, loaded with load_model's trust checks: its sha256 and the types it holds."""
    features = production_features(model_path, manifest, allow_non_production)
    with steps.step("load model", str(model_path)):
        return features, load_model(model_path, manifest, project)


def predicting(
    project: Project, input_path: str, output: Path, model_path: Path
) -> tuple[Path, dict[str, Any], Guard]:
    """What every way of predicting starts with: the input's token masked from here on, an
    output that is not the input, the model file and its manifest (model_record), and the
    guard of the output (output_guard)."""
    remember(input_path)  # a token in an input URL is masked wherever it shows up later
    refuse_overwriting_input(input_path, output)
    model_path, manifest = model_record(model_path)
    return model_path, manifest, output_guard(project, input_path, manifest)


def model_record(model_path: Path) -> tuple[Path, dict[str, Any]]:
    """The model file (resolve_model) and its run's manifest; an error when there is none."""
    model_path = resolve_model(model_path)
    if not model_path.is_file():
        raise ArtifactError(f"no trained model at {model_path} (train --mode production first)")
    return model_path, read_manifest(model_path.parent)


def output_guard(project: Project, input_path: str, manifest: dict[str, Any]) -> Guard:
    """The guard of predict's output. Data sources here: the input, and the source the
    model was trained on (predictions written into its folder would be read as rows by the
    next run). The user typed --output, so it may lie outside the project."""
    trained_on = str((manifest.get("data") or {}).get("source") or "")
    return Guard.of(project, [*local_files(input_path), *local_files(trained_on)])


def production_features(
    model_path: Path, manifest: dict[str, Any], allow_non_production: bool
) -> dict[str, Any]:
    """The training columns of a model trained in production mode (or any mode, when
    allowed); an error naming the mode otherwise."""
    if manifest.get("mode") != "production" and not allow_non_production:
        raise ArtifactError(
            f"{model_path} was trained in {manifest.get('mode')} mode, not production; "
            "train --mode production, or pass --allow-non-production to score with it anyway"
        )
    return manifest_features(manifest, model_path.parent)


def open_scored(
    input_path: str, features: dict[str, Any], keep: tuple[str, ...], batch_rows: int
) -> Source:
    """The input opened for scoring, in batches of batch_rows rows (no row read yet).

    CSV columns the model reads are read as text and converted by `conform`, which
    names a bad value; left to pyarrow, their types would be guessed from the first rows.
    The columns copied along (IDs, --keep) stay text: a 20-digit ID is copied exactly."""
    roles = features.get("roles", {})
    copied = [name for name, role in roles.items() if role == "id"] + list(keep)
    as_text = {name: pa.string() for name in [*model_inputs(features), *copied]}
    return open_files(input_path, batch_rows, as_text)


def scoring_of(
    input_path: str, source: Source, manifest: dict[str, Any], keep: tuple[str, ...]
) -> tuple[Scoring, list[str]]:
    """How the source's batches are scored, checked against its schema before any row is
    read: missing columns the model needs are an error that lists them, --keep must name
    columns it has that clash with no output column. Also the columns it ignores."""
    features, names = manifest["features"], source.schema.names
    columns = model_inputs(features)
    missing = [name for name in columns if name not in names]
    if missing:
        raise DataError(
            f"{input_path}: missing column(s) the model needs: {', '.join(missing)} "
            f"(it was trained on: {', '.join(columns)})"
        )
    # ID columns (columns.ids in training) come along by default, when the input has them.
    ids = [
        name for name, role in features.get("roles", {}).items() if role == "id" and name in names
    ]
    keep = tuple(dict.fromkeys([*ids, *keep]))
    unknown = [name for name in keep if name not in names]
    if unknown:
        raise DataError(f"--keep: {input_path} has no column(s) {', '.join(unknown)}")
    clashing = [name for name in keep if name == PREDICTION or name.startswith("probability_")]
    if clashing:
        raise DataError(f"--keep: {', '.join(clashing)} would clash with an output column")
    ignored = [name for name in names if name not in columns and name not in keep]
    return Scoring.of(input_path, manifest, keep, source.decimal_point), ignored


def refuse_overwriting_input(input_path: str, output: Path) -> None:
    """Refuse an output that is the input, by the same path or through another path or a
    link (or, for a folder input, a file inside it): predictions never replace their input."""
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    try:  # file:///x.csv and local://x.csv are local files too
        filesystem, path = fsspec.core.url_to_fs(input_path)
    except (ImportError, ValueError):
        return  # not a file of this machine (the read names what is wrong)
    if not isinstance(filesystem, LocalFileSystem):
        return
    source, target = Path(path).expanduser(), output.expanduser()
    same = source.resolve() == target.resolve()
    if not same and source.exists() and target.exists():
        same = source.samefile(target)
    if same or (source.is_dir() and target.resolve().is_relative_to(source.resolve())):
        raise DataError(
            f"--output {output}: is the input {input_path} (or inside it); predictions never "
            "replace their input: write them to another file"
        )


def manifest_features(manifest: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The manifest's record of the training columns, checked to hold what scoring needs."""
    features = manifest.get("features")
    needed = ("numeric", "categorical", "dtypes")
    if not isinstance(features, dict) or not all(key in features for key in needed):
        raise ArtifactError(
            f"{folder / 'manifest.json'}: key 'features' is missing or lacks "
            f"{', '.join(needed)}: the training columns are unknown (train again to write it)"
        )
    return features


def model_inputs(features: dict[str, Any]) -> list[str]:
    """The columns a model reads from its input: those its run recorded (the features, and
    the columns its add_features derives others from), else its feature columns."""
    if isinstance(features.get("inputs"), list):
        return list(features["inputs"])
    kinds = ("numeric", "categorical", "dates", "text")
    return [name for kind in kinds for name in features.get(kind, [])]


def numeric_inputs(features: dict[str, Any]) -> list[str]:
    """The input columns that hold numbers: numeric features, and inputs recorded as numbers."""
    numbers = set(features.get("numeric", [])) | set(features.get("numeric_inputs", []))
    return [name for name in model_inputs(features) if name in numbers]


def conform(
    batch: pa.RecordBatch,
    features: dict[str, Any],
    input_path: str,
    first_row: int,
    decimal_point: str = ".",
) -> pd.DataFrame:
    """The batch as the frame the model expects: numbers for numeric features (categorical,
    date and text columns are prepared inside the model, as in training), read from text
    with the input's decimal mark. A value that cannot be a number is an error naming the
    column, the value and the row."""
    frame = batch.to_pandas()
    numeric = [name for name in numeric_inputs(features) if name in frame.columns]
    for name in numeric:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            continue
        written = column
        if decimal_point == "," and pd.api.types.is_string_dtype(column):
            written = column.str.replace(",", ".", regex=False)
        numbers = pd.to_numeric(written, errors="coerce")
        bad = numbers.isna() & column.notna()
        if bad.any():
            position = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{input_path}: column {name!r} must hold numbers (it was "
                f"{features['dtypes'].get(name, 'numeric')} in training), got "
                f"{column.iloc[position]!r} "
                f"in data row {first_row + position + 1}"
            )
        frame[name] = numbers.astype("float64")
    refuse_inexact_integers(frame, numeric, input_path)
    return frame


def _batches(source: Source):
    """The source's non-empty batches."""
    return (batch for batch in source.batches if batch.num_rows)


def _writer_for(output: Path):
    """A context manager factory writing Arrow tables to output's format, by its suffix."""
    data_format = FORMATS.get(output.suffix.lower())
    if data_format is None:
        raise DataError(
            f"--output {output}: expected a .csv or .parquet file name, got {output.suffix!r}"
        )
    return _ParquetWriter if data_format == "parquet" else _CsvWriter


class _ParquetWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        # pyarrow's ParquetWriter or CSVWriter, opened with the first table's schema.
        self.writer: Any = None

    def __enter__(self):
        return self.write

    def write(self, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table)

    def __exit__(self, *exc_info) -> None:
        if self.writer is not None:
            self.writer.close()


class _CsvWriter(_ParquetWriter):
    def write(self, table: pa.Table) -> None:
        import pyarrow.csv as pacsv

        if self.writer is None:
            self.writer = pacsv.CSVWriter(self.path, table.schema)
        self.writer.write_table(table)
