"""The pieces a project's preprocessing is built from (its features.py): categories as
text, free text as documents, dates as numbers; and the preprocessing of tree models,
which need neither scaling nor one-hot columns (a registry entry's `preprocess`). They
live in the runtime so that a saved model refers to them by a stable name, and every
project gets their fixes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

# Re-exported: the public API and saved preprocessing name it here.
from trimode.core.dates import to_timestamps
from trimode.core.specs import FeatureSchema

__all__ = [
    "DateParts",
    "Words",
    "as_categories",
    "as_documents",
    "as_text",
    "native_categories",
    "ordinal_categories",
    "to_timestamps",
]

# Codes a categorical column gets at most (the rarest values share the last one): what
# HistGradientBoosting's bins hold (max_bins is at most 255).
MAX_CATEGORIES = 255


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical values as text ("True", "3", "red"), missing values as NaN: the same
    categories whether a value arrives as a bool, a number or a string (CSV, Parquet,
    SQL), so that scoring sees the categories training saw."""
    # Objects at the end: a column of missing values only (a row alone) would read as
    # numbers, which encoders fitted on text refuse.
    return pd.DataFrame(frame).apply(_as_text_column).astype(object)


def _as_text_column(column: pd.Series) -> pd.Series:
    """One column of as_text. A typed column (text, numbers, bools, dates) is read once
    per distinct value and its rows share that value's text: a Python string per row
    took 60 bytes a cell (flights' five text columns: 80 MB of a 55 MB frame)."""
    if column.dtype == object:  # mixed types: True and 1 are one value to a hash
        return column.where(column.notna(), np.nan).map(str, na_action="ignore")
    codes, distinct = pd.factorize(column)  # a missing value's code is -1
    texts = np.array([*(str(value) for value in distinct), np.nan], dtype=object)
    return pd.Series(texts[codes], index=column.index, name=column.name)


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


class Words(TransformerMixin, BaseEstimator):
    """A free-text column as the TF-IDF weights of its most frequent words, dense (for
    models that take no sparse matrix), in float32: half the memory of float64."""

    def __init__(self, max_features: int = 100):
        self.max_features = max_features

    def fit(self, x, y=None):
        """Learn the vocabulary of the column's documents."""
        self.vectorizer_ = TfidfVectorizer(max_features=self.max_features, sublinear_tf=True)
        self.vectorizer_.fit(as_documents(x))
        self.column_ = str(getattr(x, "name", "text"))
        return self

    def transform(self, x) -> np.ndarray:
        """One column per word of the vocabulary."""
        return self.vectorizer_.transform(as_documents(x)).toarray().astype(np.float32)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """`<column>_<word>` for every word of the vocabulary."""
        words = self.vectorizer_.get_feature_names_out()
        return np.asarray([f"{self.column_}_{word}" for word in words], dtype=object)


def as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Ordinal codes as pandas categories: what HistGradientBoosting's default
    categorical_features="from_dtype" reads as categorical (it maps them by value, so a
    batch holding only some codes reads the same)."""
    return pd.DataFrame(frame).astype("category")


def ordinal_categories(schema: FeatureSchema) -> ColumnTransformer:
    """Preprocessing for tree ensembles (random forests): one column per input. Numbers as
    they are (the trees handle missing values), each category an ordinal code (the 254
    most frequent values their own, the rest one shared code; missing and unseen values
    NaN), dates as their parts, text as word weights. No scaling, no one-hot matrix."""
    return _one_column_per_input(schema, native=False)


def native_categories(schema: FeatureSchema) -> ColumnTransformer:
    """Preprocessing for gradient boosting that splits on categories natively
    (HistGradientBoosting*, with its default categorical_features="from_dtype"): as
    ordinal_categories, but a pandas frame whose categorical columns have the category
    dtype, so the model treats them as categories, not as ordered numbers."""
    return _one_column_per_input(schema, native=True).set_output(transform="pandas")


def _one_column_per_input(schema: FeatureSchema, native: bool) -> ColumnTransformer:
    """The tree preprocessing of ordinal_categories / native_categories."""
    categorical = [
        ("as_text", FunctionTransformer(as_text, feature_names_out="one-to-one")),
        (
            "encode",
            OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=np.nan,
                encoded_missing_value=np.nan,
                max_categories=MAX_CATEGORIES,
            ),
        ),
    ]
    if native:
        categorical.append(
            ("as_categories", FunctionTransformer(as_categories, feature_names_out="one-to-one"))
        )
    transformers: list = [
        ("numeric", "passthrough", list(schema.numeric)),
        ("categorical", Pipeline(categorical), list(schema.categorical)),
        ("dates", DateParts(), list(schema.dates)),
    ]
    for column in schema.text:  # one column name: Words gets the 1-D text
        transformers.append((f"text:{column}", Words(schema.text_max_features), column))
    return ColumnTransformer(transformers, sparse_threshold=0.0, verbose_feature_names_out=False)
