"""SQL sources read as their columns are, whatever the first batch holds: a column that
is NULL in every row of the first batch and set later keeps its later values (SQLite
and PostgreSQL), and a later batch whose values do not fit the first batch's type is an
error naming the column, never a silent cast."""

from __future__ import annotations

import sqlite3
import uuid

import pandas as pd
import pytest
import sqlalchemy as sa

from trimode.config.model import DataConfig
from trimode.core.errors import DataError
from trimode.data.sources import read_all

BATCH = 100
ROWS = 250


def late_values() -> pd.DataFrame:
    """Rows whose `note` (text), `score` (fractions) and `visits` (integers) are NULL in
    the first 120 rows, the first batch and a bit more, and set after."""
    late = ROWS - 120
    return pd.DataFrame(
        {
            "id": range(ROWS),
            "note": [None] * 120 + [f"note {i}" for i in range(late)],
            "score": [None] * 120 + [i / 3 for i in range(late)],
            "visits": pd.array([None] * 120 + list(range(late)), dtype="Int64"),
            "churned": [i % 2 for i in range(ROWS)],
        }
    )


def read(url: str, table: str) -> pd.DataFrame:
    data = DataConfig(source=url, table=table, target="churned", batch_rows=BATCH)
    return read_all(data, "classification")[0].to_pandas()


def assert_read_as_written(got: pd.DataFrame, written: pd.DataFrame) -> None:
    assert len(got) == ROWS
    assert got["note"].iloc[:120].isna().all()
    assert got["note"].iloc[120:].tolist() == written["note"].iloc[120:].tolist()
    assert got["score"].iloc[120:].tolist() == pytest.approx(written["score"].iloc[120:].tolist())
    assert got["visits"].iloc[120:].astype(int).tolist() == list(range(ROWS - 120))
    assert pd.api.types.is_numeric_dtype(got["score"])
    assert pd.api.types.is_numeric_dtype(got["visits"])


def test_a_sqlite_column_null_in_the_first_batch_and_set_later_reads_its_values(tmp_path):
    written = late_values()
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as connection:
        written.to_sql("customers", connection, index=False)
    assert_read_as_written(read(f"sqlite:///{database}", "customers"), written)


def test_a_postgresql_column_null_in_the_first_batch_and_set_later_reads_its_values(
    postgres_url,
):
    written = late_values()
    table = f"late_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    try:
        written.to_sql(table, engine, index=False)
        assert_read_as_written(read(postgres_url, table), written)
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))
        engine.dispose()


def test_a_column_that_stays_null_reads_as_missing_values(tmp_path):
    database = tmp_path / "shop.db"
    frame = pd.DataFrame({"empty": [None] * ROWS, "churned": [i % 2 for i in range(ROWS)]})
    with sqlite3.connect(database) as connection:
        frame.to_sql("customers", connection, index=False)
    got = read(f"sqlite:///{database}", "customers")
    assert len(got) == ROWS and got["empty"].isna().all()


def test_fractions_after_a_first_batch_of_integers_are_named_not_truncated(tmp_path):
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE customers (spend, churned INTEGER)")
        values = [(i, i % 2) for i in range(BATCH)] + [(i + 0.5, i % 2) for i in range(50)]
        connection.executemany("INSERT INTO customers VALUES (?, ?)", values)
    with pytest.raises(DataError, match=r"column 'spend' held int64 values .* double later"):
        read(f"sqlite:///{database}", "customers")
