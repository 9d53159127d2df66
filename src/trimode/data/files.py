"""CSV and Parquet files as a stream of Arrow record batches: a file, a folder of files,
or an fsspec URL (https://..., s3://... once its filesystem package is installed).

pyarrow reads them in batches, so memory holds one batch whatever the files' size; its
error messages are turned into one line naming the source, the column and the data row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa

from trimode.config.model import DataConfig
from trimode.core.errors import DataError
from trimode.core.locations import URL_SCHEME
from trimode.core.secrets import redact
from trimode.data.arrow_types import readable_type
from trimode.data.stream import Source
from trimode.data.timeouts import answering, filesystem_of
from trimode.data.timeouts import exists as source_exists

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
# Field separators a CSV file may use instead of the comma: Excel writes ";" in locales
# whose decimal mark is a comma; database exports often use tabs or "|".
SEPARATORS = (";", "\t", "|")
_COMMA_DECIMAL = re.compile(r'\s*"?-?\d+,\d+"?\s*')
_POINT_DECIMAL = re.compile(r'\s*"?-?\d+\.\d+"?\s*')


@dataclass(frozen=True)
class Dialect:
    """How CSV files are written: their field separator and decimal mark."""

    delimiter: str = ","
    decimal_point: str = "."

    def described(self, source: str) -> list[str]:
        """A note on a dialect other than the comma's, for the user to check."""
        if self == Dialect():
            return []
        decimals = " with decimal commas" if self.decimal_point == "," else ""
        shown = "a tab" if self.delimiter == "\t" else repr(self.delimiter)
        return [f"data source {source!r}: read as separated by {shown}{decimals}"]


def open_files(
    source: str,
    batch_rows: int,
    csv_types: dict[str, pa.DataType] | None = None,
    timeouts: DataConfig | None = None,
) -> Source:
    """Open CSV or Parquet files (a file, a folder, an fsspec URL) as a stream of batches.

    CSV columns get the types in csv_types; pyarrow infers the others from the first
    block of rows (about 1 MB), so a later value that does not fit is an error naming
    the source, the column and the row. Text must be UTF-8: a column that is not is an
    error naming it and the first row that is not. A URL's waits are bounded by the
    timeouts' settings (the defaults when None).
    """
    import pyarrow.dataset as pads

    shown = redact(source)
    try:
        filesystem, path = filesystem_of(source, timeouts)
    except (ImportError, ValueError) as error:
        raise DataError(f"data source {shown!r}: cannot open it: {error}") from None
    try:
        with answering(shown, timeouts):
            exists = source_exists(filesystem, path)
    except (OSError, ValueError) as error:  # e.g. an unreachable host
        raise DataError(f"data source {shown!r}: cannot reach it: {error}") from None
    if not exists:
        raise DataError(f"data source {shown!r} does not exist")
    data_format = _format_of(filesystem, path, shown)
    dialect = Dialect()
    try:
        dialect = _dialect(path, filesystem) if data_format == "csv" else Dialect()
        file_format = _file_format(data_format, csv_types or {}, dialect)
        dataset = pads.dataset(path, format=file_format, filesystem=filesystem)
        total = dataset.count_rows() if data_format == "parquet" else None
        schema, warnings = _unified_schema(dataset, shown)
        warnings[:0] = dialect.described(shown)
        if data_format == "parquet":
            batches = _parquet_batches(dataset, batch_rows)
        else:
            # The folder's schema, not its first file's: columns of later files are read.
            dataset = pads.dataset(path, format=file_format, filesystem=filesystem, schema=schema)
            batches = dataset.to_batches(
                batch_size=batch_rows, batch_readahead=1, fragment_readahead=1, use_threads=False
            )
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        reason = _named_columns(str(error), lambda: _header(path, filesystem, dialect))
        raise DataError(
            f"data source {shown!r}: cannot read it as {data_format}: {reason}"
        ) from None
    # Bytes in a CSV column mean text that is not UTF-8; in Parquet they may be data.
    check = check_utf8 if data_format == "csv" else None
    reported = _reported(batches, shown, lambda: schema.names, check)
    return Source(shown, schema, reported, total, warnings, dialect.decimal_point)


@dataclass(frozen=True)
class ParquetPart:
    """Consecutive row groups of one Parquet file of a source: what one task reads alone."""

    # The file, on the source's filesystem.
    path: str
    row_groups: tuple[int, ...]
    # The source's rows before this part (in the order a stream of the source reads them).
    first_row: int
    rows: int


def parquet_parts(source: str, rows_per_part: int) -> list[ParquetPart]:
    """The Parquet files of a source (a file, a folder, an fsspec URL) cut into parts of
    consecutive row groups, each of about rows_per_part rows (at least one row group),
    in the order open_files streams them; from the files' metadata only, no row read.
    A source of CSV files is an error: only Parquet files say where their rows are."""
    import pyarrow.dataset as pads

    shown = redact(source)
    filesystem, path = filesystem_of(source)
    data_format = _format_of(filesystem, path, shown)
    if data_format != "parquet":
        raise DataError(
            f"data source {shown!r}: scoring on a Dask cluster reads Parquet files (a file or "
            f"a folder of them), got {data_format}: convert it, or set compute.engine = 'local'"
        )
    parts: list[ParquetPart] = []
    first_row = 0
    try:
        dataset = pads.dataset(path, format="parquet", filesystem=filesystem)
        for fragment in dataset.get_fragments():
            groups, rows = [], 0
            metadata = fragment.metadata
            for index in range(metadata.num_row_groups):
                groups.append(index)
                rows += metadata.row_group(index).num_rows
                if rows >= rows_per_part or index == metadata.num_row_groups - 1:
                    if rows:
                        parts.append(ParquetPart(fragment.path, tuple(groups), first_row, rows))
                    first_row += rows
                    groups, rows = [], 0
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(f"data source {shown!r}: cannot read it as parquet: {error}") from None
    return parts


def read_parquet_part(source: str, part: ParquetPart, schema: pa.Schema, batch_rows: int) -> Source:
    """One part of a source's Parquet files (parquet_parts) as a Source of batches of the
    source's schema (open_files's), read as open_files reads them."""
    import pyarrow.parquet as pq

    shown = redact(source)
    filesystem, _ = filesystem_of(source)

    def batches() -> Iterator[pa.RecordBatch]:
        with filesystem.open(part.path, "rb") as handle:
            parquet = pq.ParquetFile(handle, pre_buffer=False)
            yield from parquet.iter_batches(batch_size=batch_rows, row_groups=part.row_groups)

    reported = _reported(batches(), shown, lambda: schema.names)
    return Source(shown, schema, reported, part.rows)


def _first_file(path: str, filesystem) -> str:
    """The file itself, or the first file of a folder."""
    return sorted(filesystem.find(path))[0] if filesystem.isdir(path) else path


def _header(path: str, filesystem, dialect: Dialect) -> list[str]:
    """The column names of a CSV file (or of the first file of a folder)."""
    import pyarrow.csv as pacsv

    with filesystem.open(_first_file(path, filesystem), "rb", compression="infer") as handle:
        parse = pacsv.ParseOptions(delimiter=dialect.delimiter)
        return pacsv.open_csv(handle, parse_options=parse).schema.names


def _dialect(path: str, filesystem, lines: int = 50) -> Dialect:
    """The dialect of CSV files, read from the first lines of the first: a header without
    a comma but with exactly one other separator (SEPARATORS) is separated by it; in
    such a file, numbers written with a decimal comma (3,5), never with a point, have
    a decimal comma. Otherwise the comma's dialect."""
    with filesystem.open(_first_file(path, filesystem), "rb", compression="infer") as handle:
        head = handle.read(1 << 16).decode("utf-8", errors="replace")
    rows = head.removeprefix("\ufeff").splitlines()[:lines]
    if not rows or "," in rows[0]:
        return Dialect()
    found = [separator for separator in SEPARATORS if separator in rows[0]]
    if len(found) != 1:
        return Dialect()
    fields = [field for row in rows[1:] for field in row.split(found[0])]
    comma = any(_COMMA_DECIMAL.fullmatch(field) for field in fields)
    point = any(_POINT_DECIMAL.fullmatch(field) for field in fields)
    return Dialect(found[0], "," if comma and not point else ".")


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


def _unified_schema(dataset, source: str) -> tuple[pa.Schema, list[str]]:
    """The one schema of a folder of files, and a warning naming the columns some files
    lack (read as missing values there). Files that give a column types of other kinds
    (numbers in one, text in another) are an error naming the files and columns;
    integers and floats make floats. Types are compared as read (decimals as floats; a
    CSV file's as inferred from its first rows)."""
    files = {fragment.path: fragment.physical_schema for fragment in dataset.get_fragments()}
    if len(files) < 2:
        return dataset.schema, []
    fields: dict[str, list[tuple[str, pa.Field]]] = {}
    for path, schema in files.items():
        for item in schema:
            kind = readable_type(item.type)
            fields.setdefault(item.name, []).append((path, item.with_type(kind)))
    unified, clashes, lacking = [], [], []
    for name, held in fields.items():
        kinds = {item.type for _, item in held if not pa.types.is_null(item.type)}
        numeric = all(pa.types.is_integer(kind) or pa.types.is_floating(kind) for kind in kinds)
        if len(kinds) > 1 and not numeric:
            by_type: dict[str, list[str]] = {}  # in the order of the files
            for path, item in held:
                if not pa.types.is_null(item.type):
                    by_type.setdefault(str(item.type), []).append(_short(path))
            clashes.append(
                f"{name!r} is "
                + " vs ".join(f"{kind} in {_listed(paths)}" for kind, paths in by_type.items())
            )
            continue
        unified.append(
            pa.unify_schemas(
                [pa.schema([item]) for _, item in held], promote_options="permissive"
            ).field(0)
        )
        if len(held) < len(files):
            absent = [_short(path) for path in files if path not in dict(held)]
            lacking.append(f"{name!r} ({_listed(absent)})")
    if clashes:
        raise DataError(
            f"data source {source!r}: its files disagree on column types: {'; '.join(clashes)}; "
            "write them with one type per column"
        )
    warnings = []
    if lacking:
        warnings.append(
            f"data source {source!r}: some files lack column(s) {', '.join(lacking)}: "
            "read as missing values in those files"
        )
    return pa.schema(unified), warnings


def _short(path: str) -> str:
    """A file of a folder source by its name (the folder is named once, before)."""
    return Path(path).name


def _listed(paths: list[str], shown: int = 3) -> str:
    """A few file names, and how many more."""
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    return ", ".join(paths[:shown]) + more


def _file_format(data_format: str, csv_types: dict[str, pa.DataType], dialect: Dialect = Dialect()):
    """pyarrow's reader of the format; in CSV, an empty field is a missing value, as in
    pandas, and the dialect's separator and decimal mark are used."""
    if data_format != "csv":
        return data_format
    import pyarrow.csv as pacsv
    import pyarrow.dataset as pads

    options = pacsv.ConvertOptions(
        strings_can_be_null=True, column_types=csv_types, decimal_point=dialect.decimal_point
    )
    return pads.CsvFileFormat(
        parse_options=pacsv.ParseOptions(delimiter=dialect.delimiter), convert_options=options
    )


def _format_of(filesystem, path: str, source: str) -> str:
    """Tell CSV from Parquet by the file name, or by the names of the files in a folder."""
    if filesystem.isdir(path):
        names = [name for name in filesystem.find(path) if not Path(name).name.startswith(".")]
        names = [name for name in names if not Path(name).name.startswith("_")]
    else:
        names = [path]
    # A URL's file name is in its path: data.csv?key=... is a CSV file.
    paths = (urlsplit(name).path if URL_SCHEME.match(name) else name for name in names)
    found = (FORMATS.get(Path(name.removesuffix(".gz")).suffix.lower()) for name in paths)
    formats = {data_format for data_format in found if data_format is not None}
    if len(formats) != 1:
        raise DataError(
            f"data source {source!r}: expected CSV (.csv) or Parquet (.parquet, .pq) files "
            f"of one kind, found {sorted(formats) or 'none'}"
        )
    return formats.pop()


def read_all_with_dask(data: DataConfig) -> pa.Table:
    """Every row of a CSV or Parquet file source, read in partitions by the Dask cluster
    the run is connected to (compute.engine = "dask"), as one Arrow table."""
    import dask.dataframe as dd

    source = data.source.reveal()
    filesystem, path = filesystem_of(source, data)
    with answering(redact(data.source), data):
        found = source_exists(filesystem, path)
    if not found:
        raise DataError(f"data source {redact(data.source)!r} does not exist")
    data_format = _format_of(filesystem, path, redact(data.source))
    try:
        if data_format == "parquet":
            frame = dd.read_parquet(source)
        else:
            folder = filesystem.isdir(path)
            pattern = f"{source.rstrip('/')}/**/*.csv*" if folder else source
            # Compressed files cannot be split into blocks: one partition per file.
            compressed = source.endswith(".gz") or folder
            dialect = _dialect(path, filesystem)
            frame = dd.read_csv(
                pattern,
                blocksize=None if compressed else "64MB",
                sep=dialect.delimiter,
                decimal=dialect.decimal_point,
            )
        table = pa.Table.from_pandas(frame.compute(), preserve_index=False)
    except (OSError, ValueError, TypeError) as error:  # e.g. dtypes differ between files
        raise DataError(
            f"data source {redact(data.source)!r}: Dask could not read it: "
            f"{' '.join(str(error).split())}"
        ) from None
    # Read as every other source is (decimals as numbers, nested columns refused).
    read = Source(redact(data.source), table.schema, iter(table.to_batches()))
    return pa.Table.from_batches(list(read.batches), schema=read.schema)
