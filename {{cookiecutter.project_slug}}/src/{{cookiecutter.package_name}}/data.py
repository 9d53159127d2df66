"""Read the rows a run uses from the configured source, and cache them locally.

The source is one config key: "synthetic" for the built-in data set, or a CSV or
Parquet file or folder given as a local path or an fsspec URL. What is read from
a real source is kept as Parquet under <cache_dir>/<mode>/ so that the next run
in the same mode reads the local copy instead of the source.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import fsspec
import pandas as pd
import pyarrow.dataset as pads

from .config import Config
from .errors import DataError
from .files import write_atomically
from .synthetic import make_dataset

SYNTHETIC = "synthetic"
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class LoadedData:
    """The rows of a run and where they came from."""

    frame: pd.DataFrame
    source: str
    cache_path: Path | None


def load_dataset(config: Config, workdir: Path | str = ".") -> LoadedData:
    """Return the rows the configured mode uses, with the target column checked."""
    data = config.data
    if data.source == SYNTHETIC:
        # Built in and deterministic: making it is as cheap as reading a cache.
        rows = min(data.max_rows, data.synthetic_rows) if data.max_rows else data.synthetic_rows
        loaded = LoadedData(make_dataset(config.task, rows), SYNTHETIC, None)
    elif data.cache:
        cache_path = Path(workdir) / data.cache_dir / config.mode / _cache_name(config)
        if cache_path.exists():
            frame = pd.read_parquet(cache_path)
        else:
            frame = read_table(data.source, data.max_rows)
            write_atomically(cache_path, lambda path: frame.to_parquet(path, index=False))
        loaded = LoadedData(frame, data.source, cache_path)
    else:
        loaded = LoadedData(read_table(data.source, data.max_rows), data.source, None)
    check_target(loaded.frame, data.target, data.source)
    return loaded


def read_table(source: str, max_rows: int = 0) -> pd.DataFrame:
    """Read a CSV or Parquet file or folder (local path or fsspec URL); 0 rows means all."""
    try:
        filesystem, path = fsspec.core.url_to_fs(source)
    except (ImportError, ValueError) as error:
        raise DataError(f"data source {source!r}: cannot open it: {error}") from None
    if not filesystem.exists(path):
        raise DataError(f"data source {source!r} does not exist")
    data_format = _format_of(filesystem, path, source)
    try:
        dataset = pads.dataset(path, format=data_format, filesystem=filesystem)
        table = dataset.head(max_rows) if max_rows else dataset.to_table()
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(
            f"data source {source!r}: cannot read it as {data_format}: {error}"
        ) from None
    if table.num_rows == 0:
        raise DataError(f"data source {source!r} holds no rows")
    return table.to_pandas()


def check_target(frame: pd.DataFrame, target: str, source: str) -> None:
    """Fail with the available columns when the target column is missing or empty."""
    if target not in frame.columns:
        raise DataError(
            f"data source {source!r} has no target column {target!r} "
            f"(columns: {', '.join(map(str, frame.columns))}); set data.target in configs/"
        )
    if frame[target].isna().all():
        raise DataError(f"data source {source!r}: target column {target!r} holds no values")


def _format_of(filesystem: fsspec.AbstractFileSystem, path: str, source: str) -> str:
    """Tell CSV from Parquet by the file name, or by the names of the files in a folder."""
    if filesystem.isdir(path):
        names = [
            name for name in filesystem.find(path) if not Path(name).name.startswith((".", "_"))
        ]
    else:
        names = [path]
    formats = {FORMATS.get(Path(name.removesuffix(".gz")).suffix.lower()) for name in names}
    formats.discard(None)
    if len(formats) != 1:
        raise DataError(
            f"data source {source!r}: expected CSV (.csv) or Parquet (.parquet, .pq) files "
            f"of one kind, found {sorted(formats) or 'none'}"
        )
    return formats.pop()


def _cache_name(config: Config) -> str:
    """Name the cached copy after what decides its content, so a change is a new file."""
    key = json.dumps({"source": config.data.source, "max_rows": config.data.max_rows})
    return f"sample-{hashlib.sha256(key.encode()).hexdigest()[:16]}.parquet"
