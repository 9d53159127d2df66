"""The sample as CSV and Excel beside its Parquet file: the same rows and values read back,
a summary sheet whose numbers hold, text that is never a formula, files in the way never
overwritten, and a bad format named in one line."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from trimode.cli.main import main
from trimode.core.errors import ConfigError, DataError
from trimode.core.layout import META_FILE, SAMPLE_FILE
from trimode.data import spreadsheets
from trimode.data.sampling import fetch_sample
from trimode.data.spreadsheets import (
    COLUMNS_SHEET,
    SAMPLE_SHEET,
    sha256,
    write_workbook,
)
from trimode.data.synthetic import make_dataset, with_date_and_text
from trimode.workflows.session import load_config

from .conftest import make_configs

ROWS = 400
# What a spreadsheet would run if it took these for formulas (CSV and Excel injection).
FORMULAS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://example.com","click")', "+1+1", "@SUM(A1)"]


@pytest.fixture
def source(tmp_path: Path) -> pd.DataFrame:
    """A Parquet source of 2,000 customers with dates, booleans, free text and missing
    values; one in ten has a note that looks like a formula."""
    frame = with_date_and_text(make_dataset("classification", 2_000, seed=5), seed=5)
    frame["paperless"] = frame["support_calls"] % 3 == 0
    notes = np.full(len(frame), "plain note", dtype=object)
    notes[::10] = np.resize(np.array(FORMULAS, dtype=object), len(notes[::10]))
    notes[1::7] = None
    frame["note"] = notes
    frame.to_parquet(tmp_path / "customers.parquet", index=False)
    return frame


def configs(folder: Path, **data) -> Path:
    """Configs sampling ROWS rows of the source in test mode (data: more data settings)."""
    settings = {"source": str(folder / "customers.parquet"), "max_rows": ROWS, **data}
    return make_configs(folder, base={"data": settings})


def fetched(folder: Path, *also: str) -> int:
    """Run fetch-sample in test mode, with --also when formats are given."""
    argv = ["fetch-sample", "--mode", "test", "--config-dir", str(folder / "configs")]
    return main([*argv, "--also", ",".join(also)] if also else argv)


def test_fetch_writes_csv_and_xlsx_with_the_parquet_rows_and_a_column_summary(
    source, tmp_path, capsys
):
    configs(tmp_path)
    assert fetched(tmp_path, "csv", "xlsx") == 0
    folder = tmp_path / "data" / "test"
    out = capsys.readouterr().out
    assert "copies for spreadsheets and scripts: " in out and "sample.xlsx" in out
    sample = pd.read_parquet(folder / SAMPLE_FILE)
    assert len(sample) == ROWS and sample["note"].isin(FORMULAS).any()

    csv = pd.read_csv(folder / "sample.csv", parse_dates=["signup_date"])
    pd.testing.assert_frame_equal(csv, sample, check_dtype=False, check_exact=True)

    sheets = pd.read_excel(folder / "sample.xlsx", sheet_name=None)
    assert list(sheets) == [SAMPLE_SHEET, COLUMNS_SHEET]
    # Excel numbers carry 16 significant digits (the workbook's writer writes so).
    pd.testing.assert_frame_equal(sheets[SAMPLE_SHEET], sample, check_dtype=False, rtol=1e-15)

    summary = sheets[COLUMNS_SHEET].set_index("column")
    assert list(summary.index) == list(sample.columns)
    for name in sample.columns:
        values, row = sample[name], summary.loc[name]
        assert row["missing"] == values.isna().sum(), name
        assert row["missing_share"] == pytest.approx(values.isna().mean()), name
        assert row["distinct"] == values.dropna().astype(str).nunique(), name
    assert summary.loc["note", "missing"] > 0 and summary.loc["churned", "distinct"] == 2
    assert summary.loc["age", "min"] == sample["age"].min()
    assert summary.loc["age", "max"] == sample["age"].max()
    assert summary.loc["signup_date", "min"] == sample["signup_date"].min()
    plans = sample["plan"].value_counts()
    assert summary.loc["plan", "top_values"].startswith(f"{plans.index[0]} ({plans.iloc[0]:,})")
    assert summary.loc["paperless", "kind"] == "boolean"
    assert summary.loc["note", "in_this_workbook"].startswith(spreadsheets.FORMULA_WORDS)

    meta = json.loads((folder / META_FILE).read_text())
    for name in ("csv", "xlsx"):
        entry = meta["copies"][name]
        assert entry["sha256"] == sha256(folder / entry["file"])
        assert entry["bytes"] == (folder / entry["file"]).stat().st_size
    assert not list(folder.glob(".*.tmp"))


def test_text_that_looks_like_a_formula_is_text_in_the_workbook_and_said_of_the_csv(
    source, tmp_path
):
    result = fetch_sample(load_config("test", configs(tmp_path, sample_formats=["csv", "xlsx"])))
    folder = result.path.parent
    book = openpyxl.load_workbook(folder / "sample.xlsx")
    sheet = book[SAMPLE_SHEET]
    header = [cell.value for cell in sheet[1]]
    notes = [row[header.index("note")] for row in sheet.iter_rows(min_row=2)]
    formula_cells = [cell for cell in notes if cell.value in FORMULAS]
    assert {cell.value for cell in formula_cells} == set(FORMULAS)
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in formula_cells)
    # No formula anywhere in the file: not a cell of either sheet.
    with zipfile.ZipFile(folder / "sample.xlsx") as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
        assert len(sheets) == 2
        xml = b"".join(archive.read(name) for name in sheets)
        assert b"<f>" not in xml and b"<f " not in xml
    # The CSV keeps the values as they are, and the fetch says where they are.
    assert set(FORMULAS) <= set(pd.read_csv(folder / "sample.csv")["note"].dropna())
    (said,) = [note for note in result.notes if "like a spreadsheet formula" in note]
    count = pd.read_parquet(result.path)["note"].isin(FORMULAS).sum()
    assert f"in note ({count}):" in said and "open sample.xlsx" in said


def test_cells_keep_their_type_and_what_excel_cannot_hold_is_said(tmp_path):
    frame = pd.DataFrame(
        {
            "count": pd.array([1, None, 3], dtype="Int64"),
            "flag": pd.array([True, None, False], dtype="boolean"),
            "ratio": [0.25, np.nan, np.inf],
            "seen": pd.to_datetime(["2024-01-01 10:00", None, "2024-06-01 12:30"]).tz_localize(
                "Europe/Paris"
            ),
            "day": [dt.date(2024, 1, 2), None, dt.date(1850, 1, 1)],
            "card": np.array([4_000_123_456_789_010, 5, 6], dtype="int64"),
            "text": ["a" * 40_000, "", "b"],
        }
    )
    path = tmp_path / "cells.xlsx"
    changed = write_workbook(frame, {}, path)
    assert changed == {
        "ratio": ["infinities as text (1)"],
        "seen": ["times in UTC (from Europe/Paris)"],
        "day": ["dates before 1900 as text (1)"],
        "card": ["integers of more than 15 digits as text (1)"],
        "text": ["text beyond 32,767 characters cut (1)"],
    }
    rows = list(openpyxl.load_workbook(path)[SAMPLE_SHEET].iter_rows(min_row=2, values_only=True))
    assert rows[0] == (
        1,
        True,
        0.25,
        dt.datetime(2024, 1, 1, 9, 0),
        dt.datetime(2024, 1, 2),
        "4000123456789010",
        "a" * 32_767,
    )
    # Missing values are empty cells; an empty text is a text cell, as in the data.
    assert rows[1] == (None, None, None, None, None, 5, "")
    assert rows[2] == (3, False, "inf", dt.datetime(2024, 6, 1, 10, 30), "1850-01-01", 6, "b")


def test_a_bad_sample_format_is_one_line_naming_the_file_and_the_key(source, tmp_path, capsys):
    config_dir = configs(tmp_path, sample_formats=["csv", "pdf"])
    with pytest.raises(ConfigError) as error:
        load_config("test", config_dir)
    assert str(error.value) == (
        f"{config_dir / 'base.toml'}: key 'data.sample_formats' must be a list of: csv, xlsx, "
        "got ['csv', 'pdf']"
    )
    configs(tmp_path)
    assert fetched(tmp_path, "xls") == 2
    assert capsys.readouterr().err == (
        "error: --also: key 'data.sample_formats' must be a list of: csv, xlsx, got ['xls']\n"
    )
    assert not (tmp_path / "data").exists()


def test_a_file_fetch_sample_did_not_write_is_never_overwritten(source, tmp_path, capsys):
    configs(tmp_path)
    folder = tmp_path / "data" / "test"
    folder.mkdir(parents=True)
    (folder / "sample.xlsx").write_text("my own workbook")
    # A folder holding a file of the user's is not the project's: the write guard refuses it.
    assert fetched(tmp_path, "csv", "xlsx") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "data.sample_dir" in err and "(sample.xlsx)" in err
    assert (folder / "sample.xlsx").read_text() == "my own workbook"
    assert sorted(path.name for path in folder.iterdir()) == ["sample.xlsx"]  # nothing written

    # In the project's own sample folder, a file in the way of a copy is refused by name.
    (folder / "sample.xlsx").unlink()
    assert fetched(tmp_path) == 0
    (folder / "sample.xlsx").write_text("my own workbook")
    before = sorted(path.name for path in folder.iterdir())
    assert fetched(tmp_path, "csv", "xlsx") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sample.xlsx is in the way of the sample's xlsx copy" in err
    assert "(data.sample_formats in --also)" in err
    assert (folder / "sample.xlsx").read_text() == "my own workbook"
    assert sorted(path.name for path in folder.iterdir()) == before  # nothing written

    (folder / "sample.xlsx").unlink()
    assert fetched(tmp_path, "csv") == 0
    with (folder / "sample.csv").open("a") as edited:  # a user's edit, in a spreadsheet
        edited.write("1,2,3\n")
    assert fetched(tmp_path, "csv") == 2
    assert "sample.csv is in the way" in capsys.readouterr().err
    assert fetched(tmp_path) == 0  # without copies: the edited file is left, and said so
    assert "left " in capsys.readouterr().err and (folder / "sample.csv").read_text().endswith(
        "1,2,3\n"
    )


def test_copies_of_the_same_rows_are_kept_and_of_other_rows_removed(source, tmp_path, capsys):
    configs(tmp_path)
    folder = tmp_path / "data" / "test"
    assert fetched(tmp_path, "csv", "xlsx") == 0
    first = json.loads((folder / META_FILE).read_text())["copies"]
    assert fetched(tmp_path) == 0  # the same rows: the copies still hold them
    assert json.loads((folder / META_FILE).read_text())["copies"] == first
    assert (folder / "sample.csv").is_file() and (folder / "sample.xlsx").is_file()
    capsys.readouterr()
    other = ["--set", "train.seed=7"]
    argv = ["fetch-sample", "--mode", "test", "--config-dir", str(tmp_path / "configs")]
    assert main([*argv, *other]) == 0
    assert not (folder / "sample.csv").exists() and not (folder / "sample.xlsx").exists()
    assert capsys.readouterr().err.count("a copy of the previous sample") == 2
    assert json.loads((folder / META_FILE).read_text())["copies"] == {}


def test_a_failed_copy_leaves_the_previous_sample_whole(source, tmp_path, monkeypatch):
    config = load_config("test", configs(tmp_path, sample_formats=["csv", "xlsx"]))
    folder = fetch_sample(config).path.parent
    before = {path.name: path.read_bytes() for path in folder.iterdir()}

    def broken(frame, types, path):
        path.write_bytes(b"half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(spreadsheets, "write_workbook", broken)
    other_seed = config.model_copy(update={"train": config.train.model_copy(update={"seed": 7})})
    with pytest.raises(OSError, match="disk full"):
        fetch_sample(other_seed)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


def test_a_sample_larger_than_an_excel_sheet_is_refused_before_anything_is_written(
    source, tmp_path, monkeypatch
):
    monkeypatch.setattr(spreadsheets, "EXCEL_ROWS", ROWS)  # a sheet of ROWS - 1 rows
    config = load_config("test", configs(tmp_path, sample_formats=["xlsx"]))
    with pytest.raises(DataError, match=f"the sample has {ROWS} rows .* holds {ROWS - 1} rows"):
        fetch_sample(config)
    assert not (tmp_path / "data" / "test" / SAMPLE_FILE).exists()
