"""Columns that look misassigned when a run starts, each with the config line that fixes it.

A unique identifier, a date kept as text or free text used as a category makes
one-hot features that mean nothing, and the report would then present them as
causes of errors. These checks look at the rows a run reads and say, in one line
per column, what the column looks like and the exact `[columns]` line to add.
They never change a role themselves: the config decides.
"""

from __future__ import annotations

import json
import re

import pandas as pd

from trimode.config.model import Config
from trimode.core.specs import FeatureSchema

# Fewer rows than this say too little about a column to judge it.
MIN_ROWS = 20
# Rows looked at, spread evenly over the frame: enough to tell an ID from a category,
# and a million-row production run does not pay for counting every value.
SAMPLE_ROWS = 10_000
# A column whose values are this unique per row is an identifier or free text.
UNIQUE_SHARE = 0.95
# Text with at least this many distinct values per row is too varied to be a category.
TEXT_UNIQUE_SHARE = 0.5
# A value seen in fewer rows than this teaches a one-hot feature next to nothing; when
# half the rows hold such values, the column is an identifier that repeats or free text,
# not a category (a car's name: 285 values in 366 rows; a case id: 2 or 3 rows a value).
RARE_VALUE_ROWS = 5
RARE_ROWS_SHARE = 0.5
ID_NAME = re.compile(r"(^|[_\W])(id|key|uuid|guid|code|number|no)$|^(id|index|row)$", re.I)
DATE_TEXT = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?.*)?\s*$")


def column_notes(frame: pd.DataFrame, schema: FeatureSchema, config: Config) -> list[str]:
    """One line per column that looks like an ID, a date or free text but is used as an
    ordinary feature, and per declared column the data does not have."""
    notes = []
    proposals: dict[str, list[str]] = {}
    step = max(len(frame) // SAMPLE_ROWS, 1)
    # The columns of the rows as read (a column add_features derives is the project's own).
    read = [column for column in [*schema.numeric, *schema.categorical] if column in frame]
    for column in read:
        values = frame[column].iloc[::step].dropna()
        if len(values) < MIN_ROWS:
            continue
        kind, role = _looks_like(column, values, column in schema.numeric, step)
        if kind:
            proposals.setdefault(role, []).append(column)
            distinct = values.nunique()
            notes.append(
                f"column {column!r} looks like {kind} ({distinct:,} distinct values in "
                f"{len(values):,} rows{' looked at' if step > 1 else ''}) but is used as a "
                f"{'numeric' if column in schema.numeric else 'categorical'} feature"
            )
    for role, names in proposals.items():
        current = list(getattr(config.columns, role))
        line = f"{role} = {json.dumps([*current, *names], ensure_ascii=False)}"
        notes.append(
            f"to give {', '.join(map(repr, names))} that role, set in "
            f"{config.file_of(f'columns.{role}')}, section [columns]: {line}"
        )
    # A column add_features derives is there too: the schema holds it.
    available = {*frame.columns, *schema.columns, *schema.ids, *schema.dropped}
    for role in ("drop", "ids", "dates", "text"):
        missing = [name for name in getattr(config.columns, role) if name not in available]
        if missing:
            notes.append(
                f"{config.where(f'columns.{role}')} names column(s) the data does not have: "
                f"{', '.join(map(repr, missing))}"
            )
    return notes


def _looks_like(column: str, values: pd.Series, numeric: bool, step: int) -> tuple[str, str]:
    """What a feature column looks like, judged from every step-th row, and the [columns]
    key for it; ("", "") if it looks fine."""
    unique_share = values.nunique() / len(values)
    if numeric:
        if not pd.api.types.is_integer_dtype(values) or unique_share < UNIQUE_SHARE:
            return "", ""
        # Integers as unique as row numbers: an ID when named like one or when they
        # count up like one (a column of amounts spreads far wider than its rows).
        span = int(values.max()) - int(values.min()) + 1
        if ID_NAME.search(column) or span <= 2 * len(values) * step:
            return "an ID", "ids"
        return "", ""
    text = values.astype(str)
    sample = text.head(200)
    if looks_like_dates(text):
        return "dates written as text", "dates"
    words = sample.str.strip().str.count(r"\s+")
    if unique_share >= TEXT_UNIQUE_SHARE and words.mean() >= 2:
        return "free text", "text"
    if unique_share >= UNIQUE_SHARE:
        return "an ID", "ids"
    if too_varied(values):
        # Values of several words (names, titles) hold words worth learning from.
        if (words >= 1).mean() >= 0.5:
            return "free text", "text"
        return "an ID that repeats", "ids"
    return "", ""


def looks_like_dates(text: pd.Series) -> bool:
    """Whether text values are dates written as text (their first 200 values)."""
    return bool(text.head(200).astype(str).str.match(DATE_TEXT).mean() >= 0.9)


def too_varied(values: pd.Series) -> bool:
    """Whether most rows hold a value too rare for a one-hot feature to learn from
    (RARE_VALUE_ROWS, RARE_ROWS_SHARE): an identifier or free text, not a category."""
    counts = values.value_counts()
    return bool(counts[counts < RARE_VALUE_ROWS].sum() >= RARE_ROWS_SHARE * len(values))
