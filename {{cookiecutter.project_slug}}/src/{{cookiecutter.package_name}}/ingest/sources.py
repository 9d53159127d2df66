"""Open a data source as a stream of Arrow record batches.

Three kinds of source, chosen by the `data.source` config key:
- "synthetic": the data set built into the package, made block by block;
- a SQLAlchemy URL (sqlite:///..., postgresql+psycopg://...) with `data.table`
  or `data.query`; rows are fetched with a server-side cursor, a batch at a time;
- anything else: a CSV or Parquet file or folder of files, as a local path or an
  fsspec URL (https://..., s3://... once its filesystem package is installed).

Reading in batches keeps memory bounded by one batch, whatever the source's size.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..run.config import DataConfig
from ..run.errors import DataError
from ..run.progress import rows as progress_rows
from .locations import SYNTHETIC, is_sql, redact

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class Source:
    """A source opened for reading: its description, its schema and its batches."""

    description: str
    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    # Rows in the source when it is cheap to know (Parquet metadata, synthetic), else None.
    total_rows: int | None = None


def open_source(data: DataConfig, task: str) -> Source:
    """Open the configured source; errors name the source and what went wrong."""
    if data.source == SYNTHETIC:
        return _open_synthetic(data, task)
    if is_sql(data.source):
        return _open_sql(data)
    return open_files(data.source, data.batch_rows)


def read_all(data: DataConfig, task: str) -> pa.Table:
    """Every row of the source as one Arrow table (production reads everything)."""
    source = open_source(data, task)
    batches = []
    with progress_rows(f"reading {source.description}", source.total_rows) as advance:
        for batch in source.batches:
            batches.append(batch)
            advance(batch.num_rows)
    return pa.Table.from_batches(batches, schema=source.schema)


def is_file_source(data: DataConfig) -> bool:
    """Whether the source is CSV or Parquet files (not the synthetic set, not a database)."""
    return data.source != SYNTHETIC and not is_sql(data.source)


def source_fingerprint(data: DataConfig) -> dict[str, Any]:
    """What tells whether the source changed, cheaply: for files, their count, total size
    and latest modification time (or ETag); for a database, the rows the table or query
    returns and its columns (a change of values that keeps both is not seen: run
    fetch-sample then); for the built-in set, its size. A source that cannot be reached
    raises DataError."""
    if data.source == SYNTHETIC:
        return {"rows": data.synthetic_rows}
    if is_sql(data.source):
        return _sql_fingerprint(data)
    import fsspec

    try:
        filesystem, path = fsspec.core.url_to_fs(data.source)
        if not filesystem.exists(path):
            raise DataError(f"data source {redact(data.source)!r} does not exist")
        if filesystem.isdir(path):
            entries = filesystem.find(path, detail=True).values()
        else:
            entries = [filesystem.info(path)]
    except (ImportError, OSError, ValueError) as error:
        raise DataError(f"data source {redact(data.source)!r}: cannot read it: {error}") from None
    entries = [entry for entry in entries if not Path(entry["name"]).name.startswith((".", "_"))]
    modified = [_modified(entry) for entry in entries]
    return {
        "files": len(entries),
        "bytes": sum(int(entry.get("size") or 0) for entry in entries),
        "modified": max((stamp for stamp in modified if stamp is not None), default=None),
    }


def _modified(entry: dict[str, Any]) -> str | None:
    """A file's modification time or version tag, as fsspec's filesystems report it."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "ETag", "etag"):
        if entry.get(key) is not None:
            return str(entry[key])
    return None


def read_all_with_dask(data: DataConfig) -> pa.Table:
    """Every row of a CSV or Parquet file source, read in partitions by the Dask cluster
    the run is connected to (compute.engine = "dask"), as one Arrow table."""
    import dask.dataframe as dd
    import fsspec

    filesystem, path = fsspec.core.url_to_fs(data.source)
    if not filesystem.exists(path):
        raise DataError(f"data source {redact(data.source)!r} does not exist")
    data_format = _format_of(filesystem, path, redact(data.source))
    try:
        if data_format == "parquet":
            frame = dd.read_parquet(data.source)
        else:
            folder = filesystem.isdir(path)
            pattern = f"{data.source.rstrip('/')}/**/*.csv*" if folder else data.source
            # Compressed files cannot be split into blocks: one partition per file.
            compressed = data.source.endswith(".gz") or folder
            frame = dd.read_csv(pattern, blocksize=None if compressed else "64MB")
        return pa.Table.from_pandas(frame.compute(), preserve_index=False)
    except (OSError, ValueError, TypeError) as error:  # e.g. dtypes differ between files
        raise DataError(
            f"data source {redact(data.source)!r}: Dask could not read it: "
            f"{' '.join(str(error).split())}"
        ) from None


def _open_synthetic(data: DataConfig, task: str) -> Source:
    from .synthetic import iter_blocks, make_dataset

    def batches() -> Iterator[pa.RecordBatch]:
        for block in iter_blocks(task, data.synthetic_rows):
            yield from pa.Table.from_pandas(block, preserve_index=False).to_batches()

    schema = pa.Schema.from_pandas(make_dataset(task, 1), preserve_index=False)
    described = f"synthetic ({data.synthetic_rows:,} rows)"
    return Source(described, schema, batches(), data.synthetic_rows)


def open_files(
    source: str, batch_rows: int, csv_types: dict[str, pa.DataType] | None = None
) -> Source:
    """Open CSV or Parquet files (a file, a folder, an fsspec URL) as a stream of batches.

    CSV columns get the types in csv_types; pyarrow infers the others from the first
    block of rows (about 1 MB), so a later value that does not fit is an error naming
    the source, the column and the row. Text must be UTF-8: a column that is not is an
    error naming it and the first row that is not.
    """
    import fsspec
    import pyarrow.dataset as pads

    shown = redact(source)
    try:
        filesystem, path = fsspec.core.url_to_fs(source)
    except (ImportError, ValueError) as error:
        raise DataError(f"data source {shown!r}: cannot open it: {error}") from None
    try:
        exists = filesystem.exists(path)
    except (OSError, ValueError) as error:  # e.g. an unreachable host
        raise DataError(f"data source {shown!r}: cannot reach it: {error}") from None
    if not exists:
        raise DataError(f"data source {shown!r} does not exist")
    data_format = _format_of(filesystem, path, shown)
    try:
        file_format = _file_format(data_format, csv_types or {})
        dataset = pads.dataset(path, format=file_format, filesystem=filesystem)
        total = dataset.count_rows() if data_format == "parquet" else None
        if data_format == "parquet":
            batches = _parquet_batches(dataset, batch_rows)
        else:
            batches = dataset.to_batches(
                batch_size=batch_rows, batch_readahead=1, fragment_readahead=1, use_threads=False
            )
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        reason = _named_columns(str(error), lambda: _header(path, filesystem))
        raise DataError(
            f"data source {shown!r}: cannot read it as {data_format}: {reason}"
        ) from None
    # Bytes in a CSV column mean text that is not UTF-8; in Parquet they may be data.
    check = check_utf8 if data_format == "csv" else None
    reported = _reported(batches, shown, lambda: dataset.schema.names, check)
    return Source(shown, dataset.schema, reported, total)


def _header(path: str, filesystem) -> list[str]:
    """The column names of a CSV file (or of the first file of a folder)."""
    import pyarrow.csv as pacsv

    first = sorted(filesystem.find(path))[0] if filesystem.isdir(path) else path
    with filesystem.open(first, "rb") as handle:
        return pacsv.open_csv(handle, convert_options=pacsv.ConvertOptions()).schema.names


_CSV_COLUMN = re.compile(r"In CSV column #(\d+): Row #(\d+): (.*)")
# What pyarrow says before the reason, naming the file the message already names.
_ARROW_PREAMBLE = re.compile(
    r"Error creating dataset\. Could not read schema from '.*?'\. Is this a '\w+' file\?: "
    r"(Could not open \w+ input source '.*?': )?(Invalid: )?"
)


def _named_columns(message: str, names) -> str:
    """pyarrow's "In CSV column #1: Row #2: ..." with the column's name and the data row
    (the header is row 1), and "invalid UTF8 data" said as what to do about it."""
    message = _ARROW_PREAMBLE.sub("", " ".join(message.split()))
    found = _CSV_COLUMN.search(message)
    if not found:
        return message
    index, row, reason = int(found[1]), int(found[2]), found[3]
    try:
        column = repr(names()[index])
    except (OSError, ValueError, IndexError):
        column = f"#{index + 1}"
    if "invalid UTF8" in reason:
        return (
            f"column {column} is not UTF-8 text in data row {row - 1}: save the file as UTF-8 "
            "(e.g. from Latin-1)"
        )
    return f"column {column}, data row {row - 1}: {reason}"


def _reported(
    batches: Iterator[pa.RecordBatch], source: str, names, check=None
) -> Iterator[pa.RecordBatch]:
    """The batches, each passed to check(batch, source, first_row) when given; a value
    pyarrow cannot convert becomes an error naming the source and the column."""
    first_row = 0
    try:
        for batch in batches:
            if check is not None:
                check(batch, source, first_row)
            first_row += batch.num_rows
            yield batch
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(f"data source {source!r}: {_named_columns(str(error), names)}") from None


def check_utf8(batch: pa.RecordBatch, source: str, first_row: int = 0) -> None:
    """Refuse a column of bytes that are not UTF-8 text (what pyarrow makes of a CSV column
    in another encoding), naming it and its first such row."""
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if not (pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)):
            continue
        for position, value in enumerate(column.to_pylist()):
            if value is None:
                continue
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError(
                    f"data source {source!r}: column {name!r} is not UTF-8 text in data row "
                    f"{first_row + position + 1} ({value[:40]!r}): save the file as UTF-8 "
                    "(e.g. from Latin-1)"
                ) from None


def _parquet_batches(dataset, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Each file's row groups in turn, read on this thread.

    The dataset scanner reads ahead without bound when its consumer is slower than the
    disk: fetching 10,000 of 5 million rows peaked at 930 MiB with it, 340 MiB without.
    """
    import pyarrow.parquet as pq

    for fragment in dataset.get_fragments():
        with fragment.filesystem.open_input_file(fragment.path) as handle:
            yield from pq.ParquetFile(handle, pre_buffer=False).iter_batches(batch_size=batch_rows)


def _file_format(data_format: str, csv_types: dict[str, pa.DataType]):
    """pyarrow's reader of the format; in CSV, an empty field is a missing value, as in pandas."""
    if data_format != "csv":
        return data_format
    import pyarrow.csv as pacsv
    import pyarrow.dataset as pads

    options = pacsv.ConvertOptions(strings_can_be_null=True, column_types=csv_types)
    return pads.CsvFileFormat(convert_options=options)


def _format_of(filesystem, path: str, source: str) -> str:
    """Tell CSV from Parquet by the file name, or by the names of the files in a folder."""
    if filesystem.isdir(path):
        names = [name for name in filesystem.find(path) if not Path(name).name.startswith(".")]
        names = [name for name in names if not Path(name).name.startswith("_")]
    else:
        names = [path]
    found = (FORMATS.get(Path(name.removesuffix(".gz")).suffix.lower()) for name in names)
    formats = {data_format for data_format in found if data_format is not None}
    if len(formats) != 1:
        raise DataError(
            f"data source {source!r}: expected CSV (.csv) or Parquet (.parquet, .pq) files "
            f"of one kind, found {sorted(formats) or 'none'}"
        )
    return formats.pop()


def _sql_statement(data: DataConfig):
    """The engine, the SELECT of the configured table or query, and its description.

    Nothing is created: a SQLite URL naming a file that does not exist is an error (SQLite
    would make an empty database there).
    """
    import sqlalchemy as sa

    shown = redact(data.source)
    if bool(data.table) == bool(data.query):
        raise DataError(
            f"data source {shown!r} is a database: set exactly one of data.table "
            "and data.query in configs/"
        )
    try:
        url = sa.engine.make_url(data.source)
        database = url.database or ""
        local_file = not database.startswith("file:") and database not in ("", ":memory:")
        if url.get_backend_name() == "sqlite" and local_file and not Path(database).is_file():
            raise DataError(
                f"data source {shown!r}: SQLite database file {database} does not exist "
                "(data.source)"
            )
        engine = sa.create_engine(url)
    except (ImportError, ValueError, sa.exc.ArgumentError) as error:
        reason = "its port is not a number" if "int()" in str(error) else str(error)
        raise DataError(f"data source {shown!r} (data.source): cannot connect: {reason}") from None
    if data.table:
        quote = engine.dialect.identifier_preparer.quote
        statement = sa.text(f"SELECT * FROM {'.'.join(map(quote, data.table.split('.')))}")
    else:
        statement = sa.text(data.query)
    described = f"{shown} ({data.table or 'query'})"
    return engine, statement, described


def _sql_failure(error: Exception, data: DataConfig, described: str, engine) -> DataError:
    """A database error as one line: a missing table names the tables there are."""
    import sqlalchemy as sa

    if data.table:
        try:
            schema, _, table = data.table.rpartition(".")
            inspector = sa.inspect(engine)
            if not inspector.has_table(table, schema=schema or None):
                tables = inspector.get_table_names(schema=schema or None)
                return DataError(
                    f"data source {described}: no table {data.table!r} (data.table); "
                    f"tables: {', '.join(tables) or 'none'}"
                )
        except sa.exc.SQLAlchemyError:
            pass
    reason = str(getattr(error, "orig", None) or error)
    return DataError(f"data source {described}: {' '.join(reason.split())}")


def _sql_fingerprint(data: DataConfig) -> dict[str, Any]:
    """How many rows the configured table or query returns, and its columns."""
    import sqlalchemy as sa

    engine, statement, described = _sql_statement(data)
    rows = statement.columns().subquery()
    try:
        with engine.connect() as connection:
            count = int(connection.execute(sa.select(sa.func.count()).select_from(rows)).scalar())
            empty = sa.select(sa.text("*")).select_from(rows).limit(0)
            return {"rows": count, "columns": list(connection.execute(empty).keys())}
    except sa.exc.SQLAlchemyError as error:
        raise _sql_failure(error, data, described, engine) from None
    finally:
        engine.dispose()


def _open_sql(data: DataConfig) -> Source:
    import pandas as pd
    import sqlalchemy as sa

    engine, statement, described = _sql_statement(data)
    try:
        # A server-side cursor: the database sends one batch at a time.
        connection = engine.connect().execution_options(
            stream_results=True, max_row_buffer=data.batch_rows
        )
        chunks = pd.read_sql(statement, connection, chunksize=data.batch_rows)
        first = next(chunks, None)
    except sa.exc.SQLAlchemyError as error:
        raise _sql_failure(error, data, described, engine) from None
    if first is None:
        connection.close()
        raise DataError(f"data source {described} holds no rows")
    schema = pa.Schema.from_pandas(first, preserve_index=False)

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for chunk in itertools.chain([first], chunks):
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                yield from table.cast(schema, safe=False).to_batches()
        finally:
            connection.close()

    return Source(described, schema, batches())
