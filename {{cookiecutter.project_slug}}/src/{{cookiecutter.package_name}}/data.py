"""The rows a run uses: the mode's local sample, or every row of the source.

`data.max_rows` decides. Above 0 (test and human mode), the run reads a uniform
sample of that many rows kept under data/<mode>/, fetching it from the source
first when it is missing or was made with other settings (see sampling.py).
At 0 (production), the run reads every row of the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .config import Config
from .errors import DataError
from .locations import redact
from .sampling import SAMPLE_FILE, FetchResult, ensure_sample
from .sources import is_file_source, read_all, read_all_with_dask


@dataclass(frozen=True)
class LoadedData:
    """The rows of a run, where they came from, and the fetch it needed, if any."""

    frame: pd.DataFrame
    # The source, its password hidden.
    source: str
    sample_path: Path | None
    fetched: FetchResult | None = None
    # What the user should hear about the data (a source that could not be checked).
    notes: list[str] = field(default_factory=list)


def load_dataset(config: Config) -> LoadedData:
    """Return the rows the configured mode uses, with the target column checked."""
    source = redact(config.data.source)
    if config.data.max_rows:
        fetched, notes = ensure_sample(config)
        path = config.sample_folder / SAMPLE_FILE
        loaded = LoadedData(pd.read_parquet(path), source, path, fetched, notes)
    else:
        if config.compute.engine == "dask" and is_file_source(config.data):
            table = read_all_with_dask(config.data)
        else:
            table = read_all(config.data, config.task)
        # Without the pandas metadata a writer stored, columns get pandas' default types
        # (text as `str`, missing as NaN), whoever wrote the files. Consolidated blocks
        # (no split_blocks): splitting and hashing 1M rows were 1.5 times faster so.
        frame = table.replace_schema_metadata(None).to_pandas()
        del table
        loaded = LoadedData(frame, source, None)
    check_target(loaded.frame, config.data.target, source)
    return loaded


def check_target(frame: pd.DataFrame, target: str, source: str) -> None:
    """Fail with the available columns when the target column is missing or empty."""
    if target not in frame.columns:
        raise DataError(
            f"data source {source!r} has no target column {target!r} "
            f"(columns: {', '.join(map(str, frame.columns))}); set data.target in "
            "configs/base.toml"
        )
    if frame[target].isna().all():
        raise DataError(f"data source {source!r}: target column {target!r} holds no values")
