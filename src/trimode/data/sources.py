"""Open the configured data source as a stream of Arrow record batches.

Three kinds of source, chosen by the `data.source` config key:
- "synthetic": the data set built into the package, made block by block;
- a SQLAlchemy URL (sqlite:///..., postgresql+psycopg://...) with `data.table`
  or `data.query`; rows are fetched with a server-side cursor, a batch at a time;
- anything else: a CSV or Parquet file or folder of files, as a local path or an
  fsspec URL (https://..., s3://... once its filesystem package is installed).

Reading in batches keeps memory bounded by one batch, whatever the source's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from trimode.config.model import DataConfig
from trimode.core.errors import DataError
from trimode.core.locations import SYNTHETIC, is_sql
from trimode.core.progress import rows as progress_rows
from trimode.core.secrets import redact
from trimode.data.files import open_files
from trimode.data.sql import open_sql, sql_fingerprint
from trimode.data.stream import Source
from trimode.data.timeouts import answering, exists, filesystem_of, within

__all__ = ["Source", "is_file_source", "open_source", "read_all", "source_fingerprint"]


def open_source(data: DataConfig, task: str) -> Source:
    """Open the configured source; errors name the source and what went wrong."""
    source = data.source.reveal()
    if source == SYNTHETIC:
        return _open_synthetic(data, task)
    if is_sql(source):
        return open_sql(data)
    return open_files(source, data.batch_rows, timeouts=data)


def read_all(
    data: DataConfig, task: str, keep: Callable[[pa.RecordBatch], pa.RecordBatch] | None = None
) -> tuple[pa.Table, list[str]]:
    """Every row of the source as one Arrow table (production reads everything), or the
    rows `keep` keeps of each batch as it is read (the whole never held), and what the
    user should be warned of about how it was read."""
    source = open_source(data, task)
    batches = []
    with progress_rows(f"reading {source.description}", source.total_rows) as advance:
        for batch in source.batches:
            batches.append(keep(batch) if keep else batch)
            advance(batch.num_rows)
    return pa.Table.from_batches(batches, schema=source.schema), source.warnings


def is_file_source(data: DataConfig) -> bool:
    """Whether the source is CSV or Parquet files (not the synthetic set, not a database)."""
    source = data.source.reveal()
    return source != SYNTHETIC and not is_sql(source)


def source_fingerprint(data: DataConfig, seconds: float | None = None) -> dict[str, Any]:
    """What tells whether the source changed, cheaply: for files, their count, total size
    and latest modification time (or ETag); for a database, the rows the table or query
    returns and its columns (a change of values that keeps both is not seen: run
    fetch-sample then); for the built-in set, its size. A source that cannot be reached
    raises DataError; one that does not answer within its timeouts (connect and read
    together, whatever the driver does, or `seconds`), SourceTimeout."""
    if data.source.reveal() == SYNTHETIC:
        return {"rows": data.synthetic_rows}
    seconds = seconds or data.connect_timeout_s + data.read_timeout_s
    return within(seconds, lambda: _fingerprint(data), redact(data.source), data)


def _fingerprint(data: DataConfig) -> dict[str, Any]:
    source = data.source.reveal()
    if is_sql(source):
        return sql_fingerprint(data)
    try:
        with answering(redact(data.source), data):
            entries = _entries(data)
    except (ImportError, OSError, ValueError) as error:
        raise DataError(f"data source {redact(data.source)!r}: cannot read it: {error}") from None
    entries = [entry for entry in entries if not Path(entry["name"]).name.startswith((".", "_"))]
    modified = [_modified(entry) for entry in entries]
    return {
        "files": len(entries),
        "bytes": sum(int(entry.get("size") or 0) for entry in entries),
        "modified": max((stamp for stamp in modified if stamp is not None), default=None),
    }


def _entries(data: DataConfig) -> list[dict[str, Any]]:
    """fsspec's description of each file of the source."""
    filesystem, path = filesystem_of(data.source.reveal(), data)
    if not exists(filesystem, path):
        raise DataError(f"data source {redact(data.source)!r} does not exist")
    if filesystem.isdir(path):
        return list(filesystem.find(path, detail=True).values())
    return [filesystem.info(path)]


def _modified(entry: dict[str, Any]) -> str | None:
    """A file's modification time or version tag, as fsspec's filesystems report it."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "ETag", "etag"):
        if entry.get(key) is not None:
            return str(entry[key])
    return None


def _open_synthetic(data: DataConfig, task: str) -> Source:
    from trimode.data.synthetic import iter_blocks, make_dataset

    def batches() -> Iterator[pa.RecordBatch]:
        for block in iter_blocks(task, data.synthetic_rows):
            yield from pa.Table.from_pandas(block, preserve_index=False).to_batches()

    schema = pa.Schema.from_pandas(make_dataset(task, 1), preserve_index=False)
    described = f"synthetic ({data.synthetic_rows:,} rows)"
    return Source(described, schema, batches(), data.synthetic_rows)
