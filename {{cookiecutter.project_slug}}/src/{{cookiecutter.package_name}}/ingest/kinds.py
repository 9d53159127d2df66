"""What kind of values a column holds, told from the values alone.

Kept apart from the feature preparation (yours/features.py, which imports scikit-learn)
so that fetching and checking data never imports scikit-learn: a fetch holds only the
sample and one batch, not a model library's memory as well.
"""

from __future__ import annotations

import datetime

import pandas as pd


def is_date_column(values: pd.Series) -> bool:
    """Whether a column holds dates or timestamps (by type, or Python date objects)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    if values.dtype != object:
        return False
    first = values.dropna().head(1)
    return bool(len(first)) and isinstance(first.iloc[0], datetime.date)
