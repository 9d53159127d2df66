"""What a careless columns.time or time_gap_days is told: one line naming the key, the
file and the column, never a traceback from inside pandas."""

from __future__ import annotations

import pandas as pd
import pytest

from trimode.core.errors import DataError
from trimode.modelling.splitting import split_rows

from .conftest import machine_config

ROWS = 200


def rows() -> pd.DataFrame:
    """Two rows a day for 100 days, a number, a category and a target."""
    days = pd.date_range("2024-01-01", periods=ROWS // 2, freq="D").repeat(2)
    return pd.DataFrame(
        {
            "day": days.strftime("%Y-%m-%d"),
            "spend": [float(i % 37) for i in range(ROWS)],
            "paid": [i % 3 == 0 for i in range(ROWS)],
            "churned": [i % 2 for i in range(ROWS)],
        }
    )


def timed(tmp_path, column: str, gap: float = 0):
    return machine_config(tmp_path, columns={"time": column, "time_gap_days": gap})


@pytest.mark.parametrize(
    ("column", "kind", "example"), [("spend", "number", "0.0"), ("paid", "boolean", "True")]
)
def test_a_time_column_of_numbers_or_booleans_is_one_line(tmp_path, column, kind, example):
    with pytest.raises(DataError) as error:
        split_rows(rows(), timed(tmp_path, column))
    message = str(error.value)
    assert message.startswith(
        f"column {column!r} (columns.time in {tmp_path / 'configs' / 'test.toml'}) holds "
        f"{kind} values (e.g. {example}), not dates"
    )
    assert "\n" not in message


def test_a_time_column_with_unreadable_dates_names_a_few(tmp_path):
    frame = rows()
    frame.loc[[3, 9], "day"] = "soon"
    with pytest.raises(
        DataError,
        match=r"^2 of 200 rows have no readable date in column 'day' "
        r"\(columns\.time in .*test\.toml\), e\.g\. 'soon': ",
    ):
        split_rows(frame, timed(tmp_path, "day"))


def test_a_gap_that_leaves_no_row_to_train_on_names_the_gap(tmp_path):
    with pytest.raises(DataError) as error:
        split_rows(rows(), timed(tmp_path, "day", gap=1_000))
    message = str(error.value)
    assert "0 on the training side" in message
    assert "columns.time_gap_days = 1000" in message and "use a shorter gap" in message
    # A gap the rows allow splits them.
    split = split_rows(rows(), timed(tmp_path / "shorter", "day", gap=10))
    assert len(split.y_train) and len(split.y_test)
