"""Fuzzed data: whatever table a user points the config at, a run ends as it should.

Hypothesis builds a table (a target that predicts itself, plus columns of any Arrow type
a source may hold: whole numbers of any size, floats with NaN and infinities, decimals,
text, booleans, dates and timestamps, lists and structs, columns that are all null, and
names like the runtime's own or a pandas index's), writes it as a Parquet or CSV file,
or as a folder of two Parquet files whose columns or types may disagree, points test
mode at it and runs `train --mode test` through the command line, in this process:

- exit 0, 2 (bad input) or 3 (the quality gate);
- no traceback; on failure, only `error:` lines, each naming a column, a file or a key,
  none a failure no check foresaw (`error: step ... failed: SomeError`);
- the user's files (the data among them, and the configs) unchanged, and nothing
  written by a run that failed (outside its sample and outputs).
"""

from __future__ import annotations

import decimal
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import tomlkit
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from trimode.cli.main import main

from .conftest import assert_user_files_kept, user_files, write_pyproject

pytestmark = pytest.mark.filterwarnings("ignore")
ROWS = 120
TARGET = "label"
ALLOWED_EXITS = {0, 2, 3}
# Names a user's columns may have that mean something to the runtime or to pandas.
ODD_NAMES = [
    "__index_level_0__",
    "index",
    "prediction",
    "probability_1",
    "proba_0",
    "y",
    "row",
    "level_0",
    "a column with spaces",
    "naïve",
    "1st",
]


def column_values(kind: str, rows: int, draw) -> pa.Array:
    """A column of the kind, with some nulls where the kind allows them."""
    seed = draw(st.integers(0, 10_000))
    null_every = draw(st.sampled_from([0, 2, 7]))

    def maybe_null(values: list) -> list:
        if not null_every:
            return values
        return [None if i % null_every == 0 else value for i, value in enumerate(values)]

    numbers = [(i * 7919 + seed) % 1000 for i in range(rows)]
    if kind == "int":
        return pa.array(maybe_null(numbers), pa.int64())
    if kind == "huge_int":
        return pa.array(maybe_null([2**62 + n for n in numbers]), pa.int64())
    if kind == "uint64":
        return pa.array(maybe_null([2**63 + n for n in numbers]), pa.uint64())
    if kind == "float":
        values = [n / 10 for n in numbers]
        values[0], values[1] = float("nan"), float("inf")
        return pa.array(maybe_null(values), pa.float64())
    if kind == "decimal":
        values = [decimal.Decimal(n) / 100 for n in numbers]
        return pa.array(maybe_null(values), pa.decimal128(12, 2))
    if kind == "text":
        return pa.array(maybe_null([f"v{n % 5}" for n in numbers]), pa.string())
    if kind == "bool":
        return pa.array(maybe_null([n % 2 == 0 for n in numbers]), pa.bool_())
    if kind == "date":
        values = [date(2020, 1, 1) + timedelta(days=n) for n in numbers]
        return pa.array(maybe_null(values), pa.date32())
    if kind == "timestamp":
        values = [datetime(2020, 1, 1) + timedelta(hours=n) for n in numbers]
        return pa.array(maybe_null(values), pa.timestamp("us"))
    if kind == "list":
        return pa.array(maybe_null([[n, n + 1] for n in numbers]), pa.list_(pa.int64()))
    if kind == "struct":
        return pa.array(maybe_null([{"a": n, "b": str(n)} for n in numbers]))
    if kind == "null":
        return pa.nulls(rows)
    if kind == "dictionary":
        return pa.array([f"c{n % 3}" for n in numbers]).dictionary_encode()
    raise ValueError(kind)


KINDS = [
    "int",
    "huge_int",
    "uint64",
    "float",
    "decimal",
    "text",
    "bool",
    "date",
    "timestamp",
    "list",
    "struct",
    "null",
    "dictionary",
]


@st.composite
def tables(draw) -> tuple[pa.Table, str]:
    """A table with a learnable target, and its task."""
    task = draw(st.sampled_from(["binary", "multiclass", "regression"]))
    signal = [(i * 31) % 100 for i in range(ROWS)]
    if task == "binary":
        target = pa.array([int(s > 50) for s in signal], pa.int64())
    elif task == "multiclass":
        target = pa.array([["low", "mid", "high"][s // 34] for s in signal])
    else:
        target = pa.array([s * 1.5 for s in signal], pa.float64())
    columns = {"signal": pa.array(signal, pa.int64()), TARGET: target}
    count = draw(st.integers(1, 4))
    for index in range(count):
        kind = draw(st.sampled_from(KINDS))
        name = draw(st.one_of(st.sampled_from(ODD_NAMES), st.just(f"{kind}_{index}")))
        if name in columns:
            name = f"{name}_{index}"
        columns[name] = column_values(kind, ROWS, draw)
    return pa.table(columns), task


def write_source(root: Path, table: pa.Table, how: str, draw_other: pa.Table) -> str:
    """Write the table where the config will point, as `how` says; return the source."""
    if how == "parquet":
        pq.write_table(table, root / "rows.parquet")
        return "rows.parquet"
    if how == "csv":
        plain = table.select(
            [
                name
                for name in table.column_names
                if not pa.types.is_nested(table.schema.field(name).type)
            ]
        )
        pa_csv.write_csv(plain, root / "rows.csv")
        return "rows.csv"
    folder = root / "rows"
    folder.mkdir()
    half = table.num_rows // 2
    pq.write_table(table.slice(0, half), folder / "part-0.parquet")
    pq.write_table(draw_other.slice(half), folder / "part-1.parquet")
    return "rows"


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_table_ends_in_a_run_or_one_line_naming_its_culprit(tmp_path, capsys, data):
    table, task = data.draw(tables())
    how = data.draw(st.sampled_from(["parquet", "csv", "folder"]))
    # The folder's second file: the same table, or one with a column dropped or retyped.
    other = table
    if how == "folder":
        change = data.draw(st.sampled_from(["same", "drop", "retype"]))
        extra = [name for name in table.column_names if name not in ("signal", TARGET)]
        if change == "drop" and extra:
            other = table.drop_columns([extra[0]])
        elif change == "retype" and extra:
            other = table.set_column(
                table.column_names.index(extra[0]),
                extra[0],
                pa.array([str(value) for value in table[extra[0]].to_pylist()]),
            )
    root = Path(tempfile.mkdtemp(dir=tmp_path)) / "project"
    write_pyproject(root)
    source = write_source(root, table, how, other)
    configs = root / "configs"
    configs.mkdir()
    base = {
        "task": "regression" if task == "regression" else "classification",
        "data": {"source": source, "target": TARGET, "max_rows": 0},
        "compute": {"n_jobs": 1, "time_budget_s": 120},
        "compare": {"cv_folds": 3},
    }
    (configs / "base.toml").write_text(tomlkit.dumps(base), encoding="utf-8")
    for mode in ("test", "human", "production"):
        (configs / f"{mode}.toml").write_text("", encoding="utf-8")
    before = user_files(root)
    capsys.readouterr()
    code = main(["train", "--mode", "test", "--config-dir", str(configs)])
    _, err = capsys.readouterr()
    event(f"exit {code}")
    assert code in ALLOWED_EXITS, (code, err)
    assert "Traceback" not in err, err
    assert_user_files_kept(root, before, failed=code != 0)
    if code == 0:
        return
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert errors, err
    culprits = [*table.column_names, source, "data.", "columns.", ".toml"]
    for line in errors:
        assert any(str(culprit) in line for culprit in culprits), line
        assert "run with --verbose" not in line, f"a failure no check foresaw: {line}"
