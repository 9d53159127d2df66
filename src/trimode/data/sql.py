"""A database table or query as a stream of Arrow record batches, through SQLAlchemy
(sqlite:///..., postgresql+psycopg://...): a server-side cursor sends one batch at a
time, so memory holds one batch whatever the table's size. Nothing is ever written to
the database.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from trimode.config.model import DataConfig
from trimode.core.errors import DataError
from trimode.core.secrets import redact
from trimode.data.arrow_types import readable_schema
from trimode.data.stream import Source
from trimode.data.timeouts import connect_args, timed_out, timeout_error


def _statement(data: DataConfig):
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
        url = sa.engine.make_url(data.source.reveal())
        database = url.database or ""
        local_file = not database.startswith("file:") and database not in ("", ":memory:")
        if url.get_backend_name() == "sqlite" and local_file and not Path(database).is_file():
            raise DataError(
                f"data source {shown!r}: SQLite database file {database} does not exist "
                "(data.source)"
            )
        engine = sa.create_engine(url, connect_args=connect_args(url, data))
    except (ImportError, ValueError, sa.exc.ArgumentError) as error:
        reason = "its port is not a number" if "int()" in str(error) else str(error)
        raise DataError(f"data source {shown!r} (data.source): cannot connect: {reason}") from None
    if data.table:
        quote = engine.dialect.identifier_preparer.quote
        statement = sa.text(f"SELECT * FROM {'.'.join(map(quote, data.table.split('.')))}")
    else:
        statement = sa.text(data.query.reveal())
    described = f"{shown} ({data.table or 'query'})"
    return engine, statement, described


def _failure(error: Exception, data: DataConfig, described: str, engine) -> DataError:
    """A database error as one line: a missing table names the tables there are."""
    import sqlalchemy as sa

    if timed_out(error):
        return timeout_error(redact(data.source), data, error)
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


def sql_fingerprint(data: DataConfig) -> dict[str, Any]:
    """How many rows the configured table or query returns, and its columns."""
    import sqlalchemy as sa

    engine, statement, described = _statement(data)
    rows = statement.columns().subquery()
    try:
        with engine.connect() as connection:
            count = int(connection.execute(sa.select(sa.func.count()).select_from(rows)).scalar())
            empty = sa.select(sa.text("*")).select_from(rows).limit(0)
            return {"rows": count, "columns": list(connection.execute(empty).keys())}
    except sa.exc.SQLAlchemyError as error:
        raise _failure(error, data, described, engine) from None
    finally:
        engine.dispose()


def open_sql(data: DataConfig) -> Source:
    """Open the configured table or query through SQLAlchemy, fetched with a server-side
    cursor a batch at a time.

    The stream's schema is the first batch's, with a type for each column that batch
    holds only NULLs in: the type of that column's first value anywhere (one query per
    such column, on a second connection), so a column set only in later rows reads as
    it is. A later batch whose values do not fit the schema (fractions in a column of
    integers so far) is an error naming the column, never a silent cast.
    """
    import pandas as pd
    import sqlalchemy as sa

    engine, statement, described = _statement(data)
    try:
        # A server-side cursor: the database sends one batch at a time.
        connection = engine.connect().execution_options(
            stream_results=True, max_row_buffer=data.batch_rows
        )
        # Nullable types: integers with a NULL stay integers (a label 1, never 1.0).
        chunks = pd.read_sql(
            statement, connection, chunksize=data.batch_rows, dtype_backend="numpy_nullable"
        )
        first = next(chunks, None)
        if first is not None:
            # Without pandas' metadata: the rows read back get numpy types, not nullable ones.
            read = pa.Schema.from_pandas(first, preserve_index=False).remove_metadata()
            for name in first.columns[first.isna().all().to_numpy()]:  # typed by _typed
                read = read.set(read.get_field_index(name), pa.field(name, pa.null()))
            # Read as every source is (decimals as floats), so that a later batch's
            # decimals of another precision are the same numbers, not another type.
            schema = readable_schema(_typed(read, engine, statement), described)
    except sa.exc.SQLAlchemyError as error:
        raise _failure(error, data, described, engine) from None
    if first is None:
        connection.close()
        raise DataError(f"data source {described} holds no rows")

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for chunk in itertools.chain([first], chunks):
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                yield from _conformed(table, schema, described).to_batches()
        finally:
            connection.close()

    return Source(described, schema, batches())


def _typed(schema: pa.Schema, engine, statement) -> pa.Schema:
    """The schema with each all-NULL column typed by its first value in the whole result
    (it stays NULL-typed when it has none: every batch then holds only NULLs)."""
    import pandas as pd
    import sqlalchemy as sa

    empty = [field.name for field in schema if pa.types.is_null(field.type)]
    if not empty:
        return schema
    rows = statement.columns().subquery()
    with engine.connect() as lookup:
        for name in empty:
            column: Any = sa.column(name)
            query = sa.select(column).select_from(rows).where(column.is_not(None)).limit(1)
            value = lookup.execute(query).scalar()
            if value is not None:
                kind = pa.Schema.from_pandas(pd.DataFrame({name: [value]}), preserve_index=False)
                schema = schema.set(schema.get_field_index(name), kind.field(name))
    return schema


def _conformed(table: pa.Table, schema: pa.Schema, described: str) -> pa.Table:
    """A batch in the stream's schema: a column of NULLs takes the schema's type; integers
    read as floats (a NULL among them) go back to integers; a value that does not fit is
    an error naming the column."""
    columns = []
    for field in schema:
        values = table.column(field.name)
        if values.null_count == len(values):  # NULLs only: nothing to convert
            values = pa.nulls(len(values), field.type)
        elif values.type != field.type:
            try:
                values = values.cast(field.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise DataError(
                    f"data source {described}: column {field.name!r} held {field.type} values "
                    f"in the first batch and {values.type} later: make its type one (e.g. a "
                    "CAST in data.query), or raise data.batch_rows so the first batch holds both"
                ) from None
        columns.append(values)
    return pa.Table.from_arrays(columns, schema=schema)
