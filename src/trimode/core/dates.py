"""Dates read from a column, one way everywhere: the contract's check of a date column,
the date features a model reads, the report's summary of dates."""

from __future__ import annotations

import pandas as pd


def to_timestamps(values: pd.Series) -> pd.Series:
    """A column as UTC timestamps: datetimes, date objects, or text in ISO or another
    common format; what cannot be read becomes missing."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.to_datetime(values, utc=True)
    else:
        stamps = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
        unread = stamps.isna() & values.notna()
        if unread.any():  # not ISO: let pandas guess the format of each value (slower)
            stamps[unread] = pd.to_datetime(
                values[unread], errors="coerce", utc=True, format="mixed"
            )
    return stamps
