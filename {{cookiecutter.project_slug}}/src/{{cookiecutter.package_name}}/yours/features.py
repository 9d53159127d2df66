"""Yours: edit freely. Feature preparation: which columns are features of which kind,
and the one preprocessing step every model shares.

Change how a kind of column becomes numbers (the imputers, the
scaler, the encoder, the date parts, the text vectorizer) and every model follows.

A column's role comes from the `[columns]` section of configs/base.toml first
(drop, ids, dates, text), then from its type: numbers are numeric features,
dates and timestamps are date features, everything else is categorical.
Everything here is inside the fitted pipeline, so a saved model prepares raw rows
itself: training, the report, the notebooks and `predict` share one code path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ..ingest.kinds import is_date_column

# The roles a column can have, as the manifest and the report name them.
ROLES = ("target", "numeric", "categorical", "date", "text", "id", "dropped")
TEXT_PREFIX = "text:"


@dataclass(frozen=True)
class FeatureSchema:
    """Which columns are features of which kind, and which columns are not features."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dates: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    # Not features: identifiers, and columns dropped on purpose.
    ids: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    # Words kept per text column (the most frequent ones).
    text_max_features: int = 100

    @property
    def columns(self) -> list[str]:
        """All feature columns: numeric, categorical, date, then text."""
        return [*self.numeric, *self.categorical, *self.dates, *self.text]

    def only(self, column: str) -> FeatureSchema:
        """The schema of one of its feature columns alone, of the same kind."""
        kinds = ("numeric", "categorical", "dates", "text")
        return FeatureSchema(
            **{kind: (column,) if column in getattr(self, kind) else () for kind in kinds},
            text_max_features=self.text_max_features,
        )

    def roles(self, target: str | None = None) -> dict[str, str]:
        """Each known column's role (see ROLES)."""
        roles = {target: "target"} if target else {}
        for role, names in (
            ("numeric", self.numeric),
            ("categorical", self.categorical),
            ("date", self.dates),
            ("text", self.text),
            ("id", self.ids),
            ("dropped", self.dropped),
        ):
            roles.update(dict.fromkeys(names, role))
        return roles


def infer_schema(frame: pd.DataFrame, target: str, columns=None) -> FeatureSchema:
    """The feature schema of a frame: the roles `columns` (a ColumnsConfig) declares,
    then numbers (not booleans) as numeric, dates as dates, the rest as categorical.

    Declared columns missing from the frame are left out; the run says so (see
    column_advice.py).
    """
    declared = {
        role: tuple(name for name in getattr(columns, role, ()) if name in frame.columns)
        for role in ("drop", "ids", "dates", "text")
    }
    taken = {name for names in declared.values() for name in names} | {target}
    rest = [column for column in frame.columns if column not in taken]
    dates = declared["dates"] + tuple(c for c in rest if is_date_column(frame[c]))
    numeric = tuple(
        column
        for column in rest
        if column not in dates
        and pd.api.types.is_numeric_dtype(frame[column])
        and not pd.api.types.is_bool_dtype(frame[column])
    )
    categorical = tuple(column for column in rest if column not in numeric and column not in dates)
    return FeatureSchema(
        numeric=numeric,
        categorical=categorical,
        dates=dates,
        text=declared["text"],
        ids=declared["ids"],
        dropped=declared["drop"],
        text_max_features=getattr(columns, "text_max_features", 100),
    )


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical values as text ("True", "3", "red"), missing values as NaN: the same
    categories whether a value arrives as a bool, a number or a string (CSV, Parquet,
    SQL), so that scoring sees the categories training saw."""
    frame = pd.DataFrame(frame).astype(object)
    return frame.apply(
        lambda column: column.where(column.notna(), np.nan).map(str, na_action="ignore")
    )


def as_documents(values: pd.Series) -> pd.Series:
    """Free text for the vectorizer: missing values become empty documents."""
    values = pd.Series(np.asarray(values, dtype=object).ravel())
    return values.where(values.notna(), "").astype(str)


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


class DateParts(TransformerMixin, BaseEstimator):
    """Each date column as five numbers: year, month, day of the month, day of the
    week (Monday is 0) and days since 1970-01-01. Missing or unreadable dates are NaN
    (the imputer after this step fills them). Never stores a date object."""

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
            parts += [
                stamps.dt.year,
                stamps.dt.month,
                stamps.dt.day,
                stamps.dt.day_of_week,
                days,
            ]
        return np.column_stack([part.to_numpy(dtype=float, na_value=np.nan) for part in parts])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """`<column>_<part>` for every date column and part."""
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{name}_{part}" for name in names for part in self.PARTS], dtype=object)


def build_preprocessor(schema: FeatureSchema) -> ColumnTransformer:
    """Numeric columns: impute the median, scale. Categorical: as text, impute
    "missing", one-hot encode. Dates: their parts, as numeric. Text: TF-IDF words."""
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("as_text", FunctionTransformer(as_text, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            # Rare categories share one column; categories unseen in training are
            # all zeros instead of an error at prediction time.
            (
                "encode",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    min_frequency=0.001,
                    sparse_output=False,
                ),
            ),
        ]
    )
    dates = Pipeline(
        [
            ("parts", DateParts()),
            # keep_empty_features: a date column with no readable value still gives its
            # five columns (zeros), so the model's inputs keep their shape.
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )
    # A list of columns gives a transformer a 2-D frame; one column name, the 1-D column.
    transformers: list[tuple[str, Any, list[str] | str]] = [
        ("numeric", numeric, list(schema.numeric)),
        ("categorical", categorical, list(schema.categorical)),
        ("dates", dates, list(schema.dates)),
    ]
    for column in schema.text:
        # One vectorizer per text column; a scalar column name gives it the 1-D text.
        text = Pipeline(
            [
                ("documents", FunctionTransformer(as_documents)),
                (
                    "tfidf",
                    TfidfVectorizer(max_features=schema.text_max_features, sublinear_tf=True),
                ),
            ]
        )
        transformers.append((f"{TEXT_PREFIX}{column}", text, column))
    return ColumnTransformer(
        transformers,
        # Dense output: every model in the registry, gradient boosting included, takes it.
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    )


def schema_of(model: Pipeline) -> FeatureSchema:
    """The feature schema a pipeline built by build_preprocessor was made for."""
    found: dict[str, tuple[str, ...]] = {"numeric": (), "categorical": (), "dates": ()}
    text: list[str] = []
    max_features = 100
    for name, transformer, columns in model.named_steps["preprocess"].transformers:
        if name.startswith(TEXT_PREFIX):
            text.append(columns)
            max_features = transformer.named_steps["tfidf"].max_features
        elif name in found:
            found[name] = tuple(columns)
    return FeatureSchema(**found, text=tuple(text), text_max_features=max_features)
