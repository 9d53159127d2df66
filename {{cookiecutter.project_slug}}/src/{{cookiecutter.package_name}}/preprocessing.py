"""The one preprocessing step every model shares, built from the data's schema."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


@dataclass(frozen=True)
class FeatureSchema:
    """Which columns are numeric features and which are categorical."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        """All feature columns, numeric first."""
        return [*self.numeric, *self.categorical]


def infer_schema(frame: pd.DataFrame, target: str) -> FeatureSchema:
    """Numeric columns (not booleans) are numeric features; every other column is categorical."""
    features = [column for column in frame.columns if column != target]
    numeric = tuple(
        column
        for column in features
        if pd.api.types.is_numeric_dtype(frame[column])
        and not pd.api.types.is_bool_dtype(frame[column])
    )
    categorical = tuple(column for column in features if column not in numeric)
    return FeatureSchema(numeric=numeric, categorical=categorical)


def build_preprocessor(schema: FeatureSchema) -> ColumnTransformer:
    """Impute and scale numeric columns; impute and one-hot encode categorical ones."""
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
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
    return ColumnTransformer(
        [
            ("numeric", numeric, list(schema.numeric)),
            ("categorical", categorical, list(schema.categorical)),
        ],
        # Dense output: every model in the registry, gradient boosting included, takes it.
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    )
