"""How your columns become features: the same in every mode, in `predict` and the report.

Both functions end up inside the saved model, so a published model prepares raw rows
itself. The roles of the columns come from [columns] in configs/base.toml, then from
their kind: numbers are numeric, dates are dates, the rest is categorical.
"""

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from trimode import DateParts, FeatureSchema, as_documents, as_text


def add_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Your derived columns, computed from the others; the schema then sees them as any
    column. Runs first on every row the model sees (never on the target), e.g.
    `return frame.assign(calls_per_month=frame["support_calls"] / (frame["tenure_months"] + 1))`.
    """
    return frame


def build_preprocessor(schema: FeatureSchema) -> ColumnTransformer:
    """The preprocessing of linear models (and of any model models.py gives no other).
    Numeric columns: impute the median, scale. Categorical: as text, impute "missing",
    one-hot encode. Dates: their parts, as numbers. Text: TF-IDF words, per column."""
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("as_text", FunctionTransformer(as_text, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            # Rare categories share one column; unseen ones are all zeros, not an error.
            (
                "encode",
                OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=0.001),
            ),
        ]
    )
    dates = Pipeline(
        [
            ("parts", DateParts()),
            # A date column with no readable value still gives its five columns (zeros).
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )
    transformers: list = [
        ("numeric", numeric, list(schema.numeric)),
        ("categorical", categorical, list(schema.categorical)),
        ("dates", dates, list(schema.dates)),
    ]
    for column in schema.text:  # one column name: the vectorizer gets the 1-D text
        words = TfidfVectorizer(max_features=schema.text_max_features, sublinear_tf=True)
        text = Pipeline([("documents", FunctionTransformer(as_documents)), ("tfidf", words)])
        transformers.append((f"text:{column}", text, column))
    # Sparse when mostly zeros (many one-hot columns), which linear models take; a model
    # that needs dense input names another preprocessing in models.py.
    return ColumnTransformer(transformers, sparse_threshold=0.3, verbose_feature_names_out=False)
