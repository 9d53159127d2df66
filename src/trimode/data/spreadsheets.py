"""The sample in the tools people already use: a CSV file and an Excel workbook beside
the Parquet file the pipeline reads (data.sample_formats, or `fetch-sample --also`).

- sample.csv: the rows as they are (UTF-8, a header line, an empty field for a missing
  value, ISO dates), for scripts and any tool that reads CSV;
- sample.xlsx: a sheet "sample" of the rows (header frozen, a filter on each column)
  and a sheet "columns" that summarises each column: its type and kind, missing values
  (count and share), distinct values, min and max (numbers, dates) or the most frequent
  values (text, booleans), and what the workbook changed in it.

The workbook keeps each value's type: numbers, booleans, dates and times are cells of
their type, a missing value is an empty cell, and text stays text. A value that looks
like a formula (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`) is a text cell marked with
Excel's quote prefix, so opening or editing the sheet never runs it; a CSV has no cell
types, and a spreadsheet opening one runs such text as a formula, so the fetch says when
sample.csv holds any: open sample.xlsx in a spreadsheet. What Excel cannot hold is
changed and said in the "columns" sheet: times with a time zone are written in UTC,
integers of more than 15 digits (Excel keeps 15), infinities and dates before 1900 as
text, text beyond 32,767 characters cut. Numbers carry 16 significant digits. A sheet
has room for 1,048,575 rows below its header and 16,384 columns: a larger sample is
refused before anything is written.

The copies are written with the Parquet file, all or none (core/io.py), and
recorded in the sample's metadata with their size and sha256. A fetch replaces a copy
only when it recorded it and the file is unchanged since; a file of that name it did not
write, or one you edited, stops the fetch before anything is written. A copy the fetch
no longer makes is removed when unchanged, so that no copy disagrees with the Parquet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trimode.core.errors import DataError
from trimode.core.kinds import kind_of
from trimode.core.layout import SAMPLE_COPIES
from trimode.data.profile import column_profile

# A function that writes a file at the path it is given.
Writer = Callable[[Path], object]
# Where each format's copy goes, in the sample's folder.
# Excel's limits: rows of a sheet (its header included), columns, characters in a cell,
# and the significant digits it keeps of a number.
EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
EXCEL_TEXT = 32_767
EXCEL_DIGITS = 15
# The first characters that make a spreadsheet read text as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SAMPLE_SHEET, COLUMNS_SHEET = "sample", "columns"
DATE_FORMATS = {
    dt.datetime: "yyyy-mm-dd hh:mm:ss",
    dt.date: "yyyy-mm-dd",
    dt.time: "hh:mm:ss",
    dt.timedelta: "[h]:mm:ss",
}
# Before this day Excel has no date (its calendar starts on 1900-01-01).
EXCEL_FIRST_DAY = dt.date(1900, 1, 1)


@dataclass
class Copies:
    """The copies of one fetch: the formats to write, and what it found of earlier ones."""

    folder: Path
    formats: tuple[str, ...]
    # Unchanged copies of an earlier fetch in a format this one does not write, by format:
    # kept (and still recorded) when the rows are the same, removed otherwise.
    earlier: dict[str, dict[str, Any]] = field(default_factory=dict)
    same_rows: bool = False
    notes: list[str] = field(default_factory=list)
    # What the workbook changed, per column ("times in UTC").
    changed: dict[str, list[str]] = field(default_factory=dict)

    def paths(self) -> dict[str, Path]:
        """Each format's file."""
        return {name: self.folder / SAMPLE_COPIES[name] for name in self.formats}

    def writers(self, frame: pd.DataFrame, types: dict[str, str]) -> dict[Path, Writer]:
        """A function per copy that writes it at the path it is given (a temporary one)."""
        writers: dict[Path, Writer] = {}
        paths = self.paths()
        if "csv" in paths:
            writers[paths["csv"]] = lambda path: write_csv(frame, path)
            self.notes += formula_notes(frame, paths["csv"], "xlsx" in paths)
        if "xlsx" in paths:
            check_fits_excel(frame)
            writers[paths["xlsx"]] = lambda path: self.changed.update(
                write_workbook(frame, types, path)
            )
        return writers

    def record(self) -> dict[str, Any]:
        """What the metadata says of the copies written (file, size, sha256, what the
        workbook changed), the earlier ones kept with them; a note of those changes."""
        record: dict[str, Any] = {}
        for name, path in self.paths().items():
            record[name] = {"file": path.name, "bytes": path.stat().st_size, "sha256": sha256(path)}
            if name == "xlsx":
                record[name]["changed"] = self.changed
        if self.same_rows:
            record |= self.earlier
        if self.changed:
            changes = "; ".join(f"{name}: {', '.join(how)}" for name, how in self.changed.items())
            self.notes.append(
                f"{self.folder / SAMPLE_COPIES['xlsx']}: changed what Excel cannot hold (its "
                f"'{COLUMNS_SHEET}' sheet says so too): {changes}"
            )
        return record

    def remove_stale(self) -> None:
        """Remove the unchanged copies of an earlier sample of other rows that this fetch
        did not write again."""
        if self.same_rows:
            return
        for name in self.earlier:
            path = self.folder / SAMPLE_COPIES[name]
            path.unlink(missing_ok=True)
            self.notes.append(f"removed {path}: a copy of the previous sample")


def plan_copies(
    folder: Path, formats: Sequence[str], previous: dict[str, Any] | None, where: str
) -> Copies:
    """The copies a fetch writes into folder, checked before anything is written: a file
    in the way that an earlier fetch did not write, or that changed since, is refused
    (where: the config key that asked for the copies, for the message)."""
    recorded: dict[str, Any] = (previous or {}).get("copies") or {}
    copies = Copies(folder, tuple(dict.fromkeys(formats)))
    for name, path in copies.paths().items():
        if path.exists() and not _unchanged(path, recorded.get(name)):
            raise DataError(
                f"{path} is in the way of the sample's {name} copy ({where}): fetch-sample "
                "did not write it, or it changed since; move it away or delete it, then fetch "
                "again"
            )
    for name, entry in recorded.items():
        if name in copies.formats or name not in SAMPLE_COPIES:
            continue
        path = folder / SAMPLE_COPIES[name]
        if not path.exists():
            continue
        if _unchanged(path, entry):
            copies.earlier[name] = entry
        else:
            copies.notes.append(
                f"left {path} as it is: it changed since fetch-sample wrote it, and it does "
                "not hold the new sample"
            )
    return copies


def _unchanged(path: Path, entry: dict[str, Any] | None) -> bool:
    """Whether the file is the one the metadata entry records."""
    if not entry:
        return False
    return path.stat().st_size == entry.get("bytes") and sha256(path) == entry.get("sha256")


def sha256(path: Path) -> str:
    """The sha256 of a file's content, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """The rows as CSV: UTF-8, a header, empty fields for missing values, ISO dates."""
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def formula_like(frame: pd.DataFrame) -> dict[str, int]:
    """Per text column, how many values begin as a formula would in a spreadsheet."""
    counts: dict[str, int] = {}
    for name in frame.columns:
        values = frame[name].dropna()
        if kind_of(frame[name]) != "text" or not len(values):
            continue
        found = int(values.astype(str).str.startswith(FORMULA_STARTS).sum())
        if found:
            counts[str(name)] = found
    return counts


def formula_notes(frame: pd.DataFrame, path: Path, with_workbook: bool) -> list[str]:
    """What to say of values in a CSV copy that a spreadsheet would run as formulas."""
    counts = formula_like(frame)
    if not counts:
        return []
    columns = ", ".join(f"{name} ({count:,})" for name, count in counts.items())
    where = "sample.xlsx, where they are text" if with_workbook else "the xlsx copy instead"
    return [
        f"{path}: values that begin like a spreadsheet formula (=, +, -, @) in {columns}: a "
        f"spreadsheet opening the CSV may run them; open {where}"
    ]


def check_fits_excel(frame: pd.DataFrame) -> None:
    """Refuse a sample larger than an Excel sheet, before anything is written."""
    rows, columns = frame.shape
    if rows + 1 > EXCEL_ROWS or columns > EXCEL_COLUMNS:
        raise DataError(
            f"the sample has {rows:,} rows and {columns:,} columns; an Excel sheet holds "
            f"{EXCEL_ROWS - 1:,} rows below its header and {EXCEL_COLUMNS:,} columns: lower "
            "data.max_rows, or leave xlsx out of data.sample_formats (or --also)"
        )


def column_summary(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """The "columns" sheet: one row per column, as data/profile.py profiles it."""
    return column_profile(frame, types).reset_index()


def write_workbook(frame: pd.DataFrame, types: dict[str, str], path: Path) -> dict[str, list[str]]:
    """Write the rows and the column summary as an Excel workbook; return what had to be
    changed per column for Excel (times in UTC, long integers as text, ...)."""
    import xlsxwriter

    frame, changed = _in_utc(frame)
    options = {
        "constant_memory": True,  # rows go to disk as they are written
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        cells = _Cells(book)
        sheet = book.add_worksheet(SAMPLE_SHEET)
        rows, width = frame.shape
        for column, name in enumerate(frame.columns):
            sheet.set_column(column, column, min(max(len(str(name)) + 2, 10), 40))
        sheet.freeze_panes(1, 0)
        if width:
            sheet.autofilter(0, 0, max(rows, 1), width - 1)
        for column, name in enumerate(frame.columns):
            cells.write(sheet, 0, column, str(name), cells.header)
        columns = [_python_values(frame[name]) for name in frame.columns]
        counts = [Counter[str]() for _ in columns]
        for row, values in enumerate(zip(*columns, strict=True), start=1):
            for column, value in enumerate(values):
                if value is not None:
                    cells.write(sheet, row, column, value, counts=counts[column])
        said: dict[str, str] = {}
        for name, count in zip(map(str, frame.columns), counts, strict=True):
            if changes := [*changed.get(name, []), *_said(count)]:
                changed[name] = changes
            kept = [f"{FORMULA_WORDS} ({count['formula_like']:,})"] if count["formula_like"] else []
            said[name] = ", ".join([*changes, *kept])
        summary = column_summary(frame, types)
        summary["in_this_workbook"] = [said[name] for name in summary.column]
        _write_summary(book, cells, summary)
    return changed


def _in_utc(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The frame with times of a time zone in UTC, without the zone (Excel has none)."""
    changed: dict[str, list[str]] = {}
    zoned = [name for name in frame.columns if isinstance(frame[name].dtype, pd.DatetimeTZDtype)]
    if not zoned:
        return frame, changed
    frame = frame.copy()
    for name in zoned:
        changed[str(name)] = [f"times in UTC (from {frame[name].dt.tz})"]
        frame[name] = frame[name].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame, changed


def _python_values(values: pd.Series) -> list[Any]:
    """A column as Python values, None for a missing one."""
    return values.astype(object).where(values.notna(), None).tolist()


# What the counts of _Cells.write say, in the summary sheet.
CHANGES = {
    "long_integer": "integers of more than 15 digits as text",
    "infinity": "infinities as text",
    "early_date": "dates before 1900 as text",
    "cut_text": f"text beyond {EXCEL_TEXT:,} characters cut",
    "other": "values of other types as text",
}
# What the summary says of text that begins like a formula: unchanged, a text cell.
FORMULA_WORDS = "values that begin like a formula, kept as text"


def _said(count: Counter[str]) -> list[str]:
    """The changes counted in a column, in words: "infinities as text (3)"."""
    return [f"{words} ({count[key]:,})" for key, words in CHANGES.items() if count[key]]


class _Cells:
    """Writes one value as the Excel cell of its type, counting what it changes."""

    def __init__(self, book: Any) -> None:
        self.header = book.add_format({"bold": True, "bottom": 1})
        self.quoted = book.add_format({"quote_prefix": True})
        self.quoted_header = book.add_format({"bold": True, "bottom": 1, "quote_prefix": True})
        self.dates = {
            kind: book.add_format({"num_format": shown}) for kind, shown in DATE_FORMATS.items()
        }
        self.share = book.add_format({"num_format": "0.0%"})

    def write(
        self,
        sheet: Any,
        row: int,
        column: int,
        value: Any,
        style: Any = None,
        counts: Counter[str] | None = None,
    ) -> None:
        """Write value at (row, column): a number, boolean, date or text cell."""
        count = counts if counts is not None else Counter[str]()
        if isinstance(value, str):
            if value.startswith(FORMULA_STARTS):
                count["formula_like"] += 1
                style = self.quoted_header if style is self.header else self.quoted
            if len(value) > EXCEL_TEXT:
                count["cut_text"] += 1
                value = value[:EXCEL_TEXT]
            sheet.write_string(row, column, value, style)
        elif isinstance(value, bool):
            sheet.write_boolean(row, column, value, style)
        elif isinstance(value, int):
            if abs(value) >= 10**EXCEL_DIGITS:
                count["long_integer"] += 1
                sheet.write_string(row, column, str(value), style)
            else:
                sheet.write_number(row, column, value, style)
        elif isinstance(value, float):
            if math.isinf(value):
                count["infinity"] += 1
                sheet.write_string(row, column, str(value), style)
            elif not math.isnan(value):
                sheet.write_number(row, column, value, style)
        elif isinstance(value, dt.date | dt.time | dt.timedelta):
            self._write_time(sheet, row, column, value, count)
        else:  # decimals, bytes, lists: as their text
            count["other"] += 1
            sheet.write_string(row, column, str(value)[:EXCEL_TEXT], style)

    def _write_time(
        self, sheet: Any, row: int, column: int, value: Any, count: Counter[str]
    ) -> None:
        kind = next(kind for kind in DATE_FORMATS if isinstance(value, kind))
        day = value.date() if isinstance(value, dt.datetime) else value
        if isinstance(day, dt.date) and day < EXCEL_FIRST_DAY:
            count["early_date"] += 1
            sheet.write_string(row, column, value.isoformat())
        else:
            sheet.write_datetime(row, column, value, self.dates[kind])


def _write_summary(book: Any, cells: _Cells, summary: pd.DataFrame) -> None:
    """The "columns" sheet: one row per column of the sample."""
    sheet = book.add_worksheet(COLUMNS_SHEET)
    sheet.freeze_panes(1, 1)
    widths = {"column": 24, "type": 16, "top_values": 60, "in_this_workbook": 40}
    for column, name in enumerate(summary.columns):
        sheet.set_column(column, column, widths.get(name, 12))
        cells.write(sheet, 0, column, name, cells.header)
    share = list(summary.columns).index("missing_share")
    columns = [_python_values(summary[name]) for name in summary.columns]
    for row, values in enumerate(zip(*columns, strict=True), start=1):
        for column, value in enumerate(values):
            if value is not None:
                cells.write(sheet, row, column, value, cells.share if column == share else None)
