"""The pieces a project's preprocessing is built from (its features.py): categories as
text, free text as documents, dates as numbers. They live in the runtime so that a
saved model refers to them by a stable name, and every project gets their fixes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

# Re-exported: the public API and saved preprocessing name it here.
from trimode.core.dates import to_timestamps

__all__ = ["DateParts", "as_documents", "as_text", "to_timestamps"]


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical values as text ("True", "3", "red"), missing values as NaN: the same
    categories whether a value arrives as a bool, a number or a string (CSV, Parquet,
    SQL), so that scoring sees the categories training saw."""
    frame = pd.DataFrame(frame).astype(object)
    return frame.apply(
        lambda column: column.where(column.notna(), np.nan).map(str, na_action="ignore")
    )


def as_documents(values: pd.Series) -> pd.Series:
    """Free text for a vectorizer: missing values become empty documents."""
    values = pd.Series(np.asarray(values, dtype=object).ravel())
    return values.where(values.notna(), "").astype(str)


class DateParts(TransformerMixin, BaseEstimator):
    """Each date column as five numbers: year, month, day of the month, day of the
    week (Monday is 0) and days since 1970-01-01. Missing or unreadable dates are NaN
    (an imputer after this step fills them). Never stores a date object."""

    PARTS = ("year", "month", "day", "weekday", "days_since_1970")

    def fit(self, x, y=None):
        """Nothing to learn; remember the column names."""
        self.feature_names_in_ = np.asarray(pd.DataFrame(x).columns, dtype=object)
        return self

    def transform(self, x) -> np.ndarray:
        """The parts of every date column, side by side."""
        frame = pd.DataFrame(x)
        parts = []
        for column in frame.columns:
            stamps = to_timestamps(frame[column].reset_index(drop=True))
            days = (stamps - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds() / 86_400
            parts += [stamps.dt.year, stamps.dt.month, stamps.dt.day, stamps.dt.day_of_week, days]
        return np.column_stack([part.to_numpy(dtype=float, na_value=np.nan) for part in parts])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """`<column>_<part>` for every date column and part."""
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{name}_{part}" for name in names for part in self.PARTS], dtype=object)
