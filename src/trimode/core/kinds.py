"""What kind of values a column holds, told from its values: the one place that decides.

The data contract records a column's kind, the feature schema makes numbers numeric
features and dates date features, the report and the spreadsheet summary describe a
column by it: all of them ask `kind_of`. It needs pandas only (no scikit-learn), so
fetching and checking data stay light.
"""

from __future__ import annotations

import datetime
from typing import Literal

import numpy as np
import pandas as pd

Kind = Literal["empty", "boolean", "date", "number", "text"]
# The kind of a column without values: any kind may follow it.
EMPTY: Kind = "empty"
# Values looked at to tell a column of Python objects apart (booleans, dates).
LOOKED_AT = 1_000


def kind_of(values: pd.Series) -> Kind:
    """A column's kind: number, boolean, date or text, or empty when it holds no value at
    all (its kind is unknown). Booleans are not numbers; dates and timestamps are dates
    whether typed or held as Python date objects."""
    if len(values) and values.isna().all():
        return EMPTY
    if pd.api.types.is_bool_dtype(values) or _holds(values, (bool, np.bool_)):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(values) or _holds(values, (datetime.date,)):
        return "date"
    if pd.api.types.is_numeric_dtype(values):
        return "number"
    return "text"


def _holds(values: pd.Series, types: tuple[type, ...]) -> bool:
    """Whether a column of Python objects holds values of these types (its first ones)."""
    if values.dtype != object:
        return False
    present = values.dropna().head(LOOKED_AT)
    return bool(len(present)) and all(isinstance(value, types) for value in present)
