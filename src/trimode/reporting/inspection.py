"""Inspect data and results beyond metrics: where the model fails, and on what.

Pure functions on DataFrames and fitted models that return DataFrames: the
report and the notebooks show them, the tests check them. Nothing here plots.

- data_summary: types, roles, missing values, distributions, target balance;
- confusion, contrast_groups: for classification, which features set false
  positives apart from true negatives, and false negatives from true positives
  (with more than two classes: for each class against the rest);
- residuals_by_feature: for regression, the residuals per value range and category;
- worst_slices: value ranges and categories where the error most exceeds the
  overall error (never a slice that is not worse than all rows);
- worst_predictions: the individual rows the model got most wrong (only wrong ones).

Every function takes the feature schema (preprocessing.FeatureSchema; by default
inferred from the frame): numeric features are cut into value ranges, categorical
ones split by category, a date feature by year; IDs, dropped columns and free text
are never sliced.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics import confusion_matrix

from trimode.core.kinds import kind_of
from trimode.core.specs import FeatureSchema
from trimode.core.tasks import Task
from trimode.data.profile import column_profile
from trimode.data.schema import infer_schema
from trimode.modelling.features import to_timestamps

MISSING = "(missing)"
# What data_summary adds to a numeric column's profile (which has its min and max).
STATISTICS = ["mean", "std", "25%", "50%", "75%"]
# A numeric target with at most this many distinct integer values is summarised as classes.
MAX_TARGET_CLASSES = 20


@dataclass(frozen=True)
class DataSummary:
    """What a data set holds: one row per column, and the target's balance or distribution."""

    n_rows: int
    columns: pd.DataFrame
    target: pd.DataFrame
    target_is_categorical: bool


def data_summary(
    frame: pd.DataFrame, target: str, schema: FeatureSchema | None = None
) -> DataSummary:
    """Per column: its role (the schema's), then its profile (data/profile.py: type, kind,
    missing values, distinct values, min and max or the most frequent values), and the
    mean, spread and quartiles of a number.

    The target is summarised as class counts and shares when it is categorical
    (or integer with few values), as a distribution otherwise.
    """
    schema = schema or infer_schema(frame, target)
    roles = schema.roles(target)
    columns = column_profile(frame)
    columns.insert(0, "role", [roles.get(column, "not used") for column in frame.columns])
    spread = {
        str(column): _distribution(frame[column])
        for column in frame.columns
        if columns.loc[str(column), "kind"] == "number"
    }
    columns = columns.join(pd.DataFrame.from_dict(spread, orient="index")[STATISTICS])
    y = frame[target]
    categorical = not _is_numeric(y) or (
        pd.api.types.is_integer_dtype(y) and y.nunique() <= MAX_TARGET_CLASSES
    )
    if categorical:
        counts = y.value_counts(dropna=False).sort_index()
        target_table = pd.DataFrame({"rows": counts, "share": counts / counts.sum()})
        target_table.index = target_table.index.map(_label)
        target_table.index.name = target
    else:
        target_table = pd.DataFrame({target: _distribution(y)}).rename_axis("statistic")
    return DataSummary(len(frame), columns, target_table, categorical)


def _is_numeric(values: pd.Series) -> bool:
    return kind_of(values) == "number"


def _distribution(values: pd.Series) -> dict[str, float]:
    """Mean, standard deviation, minimum, quartiles and maximum of the non-missing values."""
    described = values.astype("float64").describe()
    return {name: float(described[name]) for name in described.index if name != "count"}


def _label(value: object) -> str:
    return MISSING if pd.isna(value) else str(value)


def confusion(model: BaseEstimator, x: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """The confusion matrix as rows of actual classes and columns of predicted classes."""
    labels = list(model.classes_)
    matrix = confusion_matrix(y, model.predict(x), labels=labels)
    names = [str(label) for label in labels]
    return pd.DataFrame(
        matrix,
        index=pd.Index(names, name="actual"),
        columns=pd.Index(names, name="predicted"),
    )


@dataclass(frozen=True)
class Contrast:
    """How the rows of one group (e.g. false positives) differ from a reference group.

    `features` has one row per feature, largest effect first: Cohen's d for a
    numeric feature (difference of means over the pooled standard deviation),
    Cohen's h for a categorical one (the same scale for the share of the category
    whose share differs most). `shares` holds, per categorical feature, the share
    of each category in both groups.
    """

    group: str
    reference: str
    n_group: int
    n_reference: int
    features: pd.DataFrame
    shares: dict[str, pd.DataFrame]

    @property
    def title(self) -> str:
        """E.g. "false positives (12 rows) vs true negatives (340 rows)"."""
        return f"{self.group} ({self.n_group} rows) vs {self.reference} ({self.n_reference} rows)"


CONTRAST_COLUMNS = ["feature", "kind", "category", "group", "reference", "effect", "magnitude"]


def inspected(
    x: pd.DataFrame, schema: FeatureSchema | None = None
) -> tuple[pd.DataFrame, FeatureSchema]:
    """The features the error analysis looks at, and their schema: numeric and
    categorical features as they are, date features as their year (a category);
    IDs, dropped columns and free text left out. A feature x lacks (a column the
    project's add_features derives, when x holds the rows as read) is left out too."""
    schema = schema or infer_schema(x, target="")
    numeric, categorical, dates = (
        tuple(name for name in names if name in x.columns)
        for names in (schema.numeric, schema.categorical, schema.dates)
    )
    columns = {name: x[name] for name in [*numeric, *categorical]}
    for name in dates:
        years = to_timestamps(x[name]).dt.year
        columns[name] = pd.Series(
            years.map(lambda year: f"{year:.0f}", na_action="ignore").to_numpy(), index=x.index
        )
    frame = pd.DataFrame(columns, index=x.index)
    return frame, FeatureSchema(numeric=numeric, categorical=(*categorical, *dates))


def contrast_features(
    group: pd.DataFrame,
    reference: pd.DataFrame,
    group_name: str,
    reference_name: str,
    schema: FeatureSchema | None = None,
) -> Contrast:
    """Rank the features by how much they differ between two sets of rows."""
    schema = schema or infer_schema(reference, target="")
    rows: list[dict[str, object]] = []
    shares: dict[str, pd.DataFrame] = {}
    for column in schema.numeric:
        a, b = group[column].dropna(), reference[column].dropna()
        rows.append(
            {
                "feature": column,
                "kind": "numeric",
                "category": None,
                "group": a.mean() if len(a) else np.nan,
                "reference": b.mean() if len(b) else np.nan,
                "effect": cohens_d(a.to_numpy(float), b.to_numpy(float)),
            }
        )
    for column in schema.categorical:
        table = pd.DataFrame(
            {
                "group": _categories(group[column]).value_counts(normalize=True),
                "reference": _categories(reference[column]).value_counts(normalize=True),
            }
        ).fillna(0.0)
        table["difference"] = table["group"] - table["reference"]
        table = table.reindex(table["difference"].abs().sort_values(ascending=False).index)
        table.index.name = column
        shares[column] = table
        row: dict[str, object] = {"feature": column, "kind": "categorical"}
        if len(group) and len(reference) and len(table):
            category = table.index[0]
            p, q = table.loc[category, "group"], table.loc[category, "reference"]
            row.update(category=category, group=p, reference=q, effect=cohens_h(p, q))
        else:
            row.update(category=None, group=np.nan, reference=np.nan, effect=np.nan)
        rows.append(row)
    features = pd.DataFrame(rows, columns=CONTRAST_COLUMNS[:-1])
    features["magnitude"] = features["effect"].abs()
    features = features.sort_values("magnitude", ascending=False, na_position="last")
    return Contrast(
        group_name,
        reference_name,
        len(group),
        len(reference),
        features.reset_index(drop=True),
        shares,
    )


def _categories(values: pd.Series) -> pd.Series:
    return values.astype("object").where(values.notna(), MISSING).astype(str)


def cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    """Standardised difference of means: (mean a - mean b) / pooled standard deviation."""
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    pooled = ((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2)
    difference = a.mean() - b.mean()
    if pooled == 0:
        return 0.0 if difference == 0 else float(np.sign(difference) * np.inf)
    return float(difference / np.sqrt(pooled))


def cohens_h(p: float, q: float) -> float:
    """Standardised difference of two shares, on the scale of Cohen's d."""
    return float(2 * np.arcsin(np.sqrt(p)) - 2 * np.arcsin(np.sqrt(q)))


def contrast_groups(
    model: BaseEstimator,
    x: pd.DataFrame,
    y: pd.Series,
    positive: object = None,
    schema: FeatureSchema | None = None,
) -> list[Contrast]:
    """False positives vs true negatives, and false negatives vs true positives.

    With two classes the positive class is the second of model.classes_. With more,
    each class in turn is the positive one against the rest (two contrasts per class,
    classes in the model's order), unless `positive` names one.
    """
    classes = list(model.classes_)
    if positive is not None:
        positives = [positive]
    else:
        positives = [classes[1]] if len(classes) == 2 else classes
    frame, kinds = inspected(x, schema)
    predicted_all = model.predict(x)
    contrasts = []
    for label in positives:
        actual = (y == label).to_numpy()
        predicted = predicted_all == label
        # With more than two classes, say which class is the positive one.
        of = "" if len(classes) == 2 else f" (class {label} vs the rest)"
        fp, tn, fn, tp = (
            f"{name}{of}"
            for name in ("false positives", "true negatives", "false negatives", "true positives")
        )
        contrasts += [
            contrast_features(
                frame[predicted & ~actual], frame[~predicted & ~actual], fp, tn, kinds
            ),
            contrast_features(frame[~predicted & actual], frame[predicted & actual], fn, tp, kinds),
        ]
    return contrasts


def slice_keys(
    x: pd.DataFrame, bins: int = 5, schema: FeatureSchema | None = None
) -> dict[str, pd.Series]:
    """Per feature, the slice each row falls in, as an ordered categorical.

    A numeric feature is cut at its quantiles into at most `bins` value ranges
    (or one slice per value when it has at most `bins` of them), in increasing
    order; a categorical feature gives one slice per category, the most frequent
    first; a date feature gives one slice per year. Missing values are a slice of
    their own, last. IDs, dropped columns and free text are not sliced.
    """
    x, schema = inspected(x, schema)
    keys = {}
    for column in schema.numeric:
        values = x[column]
        present = values.notna().to_numpy()
        distinct = np.sort(values.dropna().unique())
        if len(distinct) <= bins:
            codes = np.searchsorted(distinct, values.fillna(0).to_numpy())
            labels = [f"= {value:g}" for value in distinct]
        else:
            edges = np.unique(np.quantile(values.dropna(), np.linspace(0, 1, bins + 1)))
            cut = pd.cut(values, edges, include_lowest=True, labels=False)
            codes = cut.fillna(0).to_numpy(int)
            labels = _range_labels(edges)
        codes = np.where(present, codes, len(labels))
        categories = [*labels, MISSING]
        keys[column] = pd.Series(
            pd.Categorical.from_codes(codes, categories=categories), index=x.index
        )
    for column in schema.categorical:
        names = _categories(x[column])
        order = names.value_counts().index
        order = [*order.drop(MISSING, errors="ignore"), *([MISSING] if MISSING in order else [])]
        keys[column] = names.astype(pd.CategoricalDtype(order, ordered=True))
    return keys


def _range_labels(edges: np.ndarray) -> list[str]:
    """Label the ranges between edges: [a, b] for the first, then (b, c] and so on,
    with as many digits as keep the labels apart."""
    for digits in range(4, 18):
        labels = [
            f"{'[' if i == 0 else '('}{low:.{digits}g}, {high:.{digits}g}]"
            for i, (low, high) in enumerate(itertools.pairwise(edges))
        ]
        if len(set(labels)) == len(labels):
            break
    return labels


def residuals_by_feature(
    model: BaseEstimator,
    x: pd.DataFrame,
    y: pd.Series,
    bins: int = 5,
    schema: FeatureSchema | None = None,
) -> pd.DataFrame:
    """Summary of the residuals (actual - predicted) per value range and per category."""
    residual = pd.Series(y.to_numpy(float) - model.predict(x), index=x.index)
    tables = []
    for feature, key in slice_keys(x, bins, schema).items():
        grouped = residual.groupby(key, observed=True)
        table = pd.DataFrame(
            {
                "rows": grouped.size(),
                "mean_residual": grouped.mean(),
                "median_residual": grouped.median(),
                "mean_abs_residual": grouped.apply(lambda r: r.abs().mean()),
                "std_residual": grouped.std(),
            }
        )
        table = table.rename_axis("slice").reset_index()
        tables.append(table.assign(feature=feature, slice=table["slice"].astype(str)))
    result = pd.concat(tables, ignore_index=True)
    return result[["feature", "slice", *result.columns.drop(["feature", "slice"])]]


SLICE_COLUMNS = ["feature", "slice", "rows", "share", "error", "overall_error", "excess"]


def worst_slices(
    x: pd.DataFrame,
    y: pd.Series,
    predicted: np.ndarray,
    task: Task,
    min_rows: int = 30,
    top_n: int = 10,
    bins: int = 5,
    schema: FeatureSchema | None = None,
) -> pd.DataFrame:
    """The value ranges and categories of at least min_rows rows whose error most exceeds
    the error over all rows, most excess first.

    The error is the task's (task.row_errors): the error rate for classification and
    the mean absolute error for regression; `excess` is the slice's error minus
    `overall_error`. A slice that is not worse than all rows (excess 0 or less: a slice
    of every row, for one) is never listed, so the table may be short or empty.
    """
    error = task.row_errors(y, predicted)
    tables = []
    for feature, key in slice_keys(x, bins, schema).items():
        grouped = error.groupby(key, observed=True).agg(["size", "mean"])
        tables.append(
            pd.DataFrame(
                {
                    "feature": feature,
                    "slice": grouped.index.astype(str),
                    "rows": grouped["size"].to_numpy(),
                    "error": grouped["mean"].to_numpy(),
                }
            )
        )
    slices = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    if slices.empty:
        return pd.DataFrame(columns=SLICE_COLUMNS)
    overall = float(error.mean())
    slices = slices.assign(
        share=slices["rows"] / len(error), overall_error=overall, excess=slices["error"] - overall
    )
    # A tolerance, so that a slice equal to all rows does not pass on rounding.
    slices = slices[(slices["rows"] >= min_rows) & (slices["excess"] > 1e-12 * max(overall, 1))]
    slices = slices.sort_values(["excess", "rows"], ascending=[False, False]).head(top_n)
    return slices[SLICE_COLUMNS].reset_index(drop=True)


def worst_predictions(
    x: pd.DataFrame,
    y: pd.Series,
    model: BaseEstimator,
    task: Task,
    top_n: int = 10,
    schema: FeatureSchema | None = None,
) -> pd.DataFrame:
    """The rows the model got most wrong, with their IDs first (the schema's), then truth,
    prediction and how wrong, then the other columns.

    As the task measures it (task.how_wrong): for classification the lowest probability
    given to the actual class (p_actual), for regression the largest absolute residual,
    beside which a regression shows the relative error (the absolute residual over the
    absolute actual value; blank for an actual 0). Only rows that are wrong as the task
    counts a row's error (task.row_errors) are listed: at least the mean error over all
    rows and above 0, i.e. a wrong class, or a residual at least the mean absolute error;
    so the table may be shorter than top_n.
    """
    schema = schema or infer_schema(x, target="")
    predicted = model.predict(x)
    name, wrongness, order = task.how_wrong(model, x, y, predicted)
    errors = task.row_errors(y, predicted).to_numpy()
    large = (errors > 0) & (errors >= errors.mean())
    rows = order[large[order]][:top_n]
    columns = {"actual": y.to_numpy(), "predicted": predicted, name: wrongness}
    if not task.has_classes:
        actual = np.abs(y.to_numpy(float))
        with np.errstate(divide="ignore", invalid="ignore"):
            columns["relative error"] = np.where(actual > 0, errors / actual, np.nan)
    ids = [column for column in schema.ids if column in x.columns]
    table = x.iloc[rows][[*ids, *x.columns.drop(ids)]].copy()
    for position, (column, values) in enumerate(columns.items(), start=len(ids)):
        table.insert(position, column, np.asarray(values)[rows], allow_duplicates=True)
    return table
