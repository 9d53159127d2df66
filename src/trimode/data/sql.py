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
from trimode.core.locations import redact
from trimode.data.stream import Source


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


def _failure(error: Exception, data: DataConfig, described: str, engine) -> DataError:
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
    cursor a batch at a time."""
    import pandas as pd
    import sqlalchemy as sa

    engine, statement, described = _statement(data)
    try:
        # A server-side cursor: the database sends one batch at a time.
        connection = engine.connect().execution_options(
            stream_results=True, max_row_buffer=data.batch_rows
        )
        chunks = pd.read_sql(statement, connection, chunksize=data.batch_rows)
        first = next(chunks, None)
    except sa.exc.SQLAlchemyError as error:
        raise _failure(error, data, described, engine) from None
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
