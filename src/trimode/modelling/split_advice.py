"""Rows that look grouped or time-ordered while the split is random, each named with the
config line that splits them right.

A random split of rows that come in groups (several rows per customer, patient, crash)
puts one group on both sides; of rows that come in time, it trains on tomorrow to judge
yesterday. Either way every score is optimistic, and nothing else says so. These checks
look at the rows a run reads, and when `columns.group` / `columns.time` is unset, say in
one line per column what it looks like and the exact `[columns]` line to add. They
never split differently themselves: the config decides.

A column looks like a group key when it is an identifier that repeats: most rows share
their value with another row, and either its values are text too varied to be a
category (column_advice.too_varied), or its name says identifier or entity (GROUP_NAME),
its values hold few rows each (MAX_GROUP_ROWS) and the target clusters by it (rows of
one group more alike than rows of different groups: a one-way ANOVA F-test at P_VALUE;
a name alone is weak evidence). A column of dates makes rows look time-ordered when the
rows are in its order, or when the target drifts across its periods (the same test,
over PERIODS periods of equal rows).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
from scipy.stats import f as f_distribution
from scipy.stats import spearmanr

from trimode.config.model import Config
from trimode.core.kinds import kind_of
from trimode.core.specs import FeatureSchema
from trimode.core.tasks import task_named
from trimode.modelling.column_advice import looks_like_dates, too_varied

# Fewer rows say too little about a column to judge it.
MIN_ROWS = 20
# Fewer groups or periods than this make no split worth the name.
MIN_GROUPS = 10
# At least this share of the rows share their value with another row: it repeats.
REPEATED_SHARE = 0.5
# More rows a value than this on average: a category (its rows grow with the data; a
# customer's or a patient's rows do not), unless its values say identifier.
MAX_GROUP_ROWS = 100
# How unlikely the target's clustering (or drift) must be by chance to be named.
P_VALUE = 1e-3
# Dates whose rank follows the rows' position this closely: the rows are in date order.
ORDERED = 0.5
# The periods of equal rows the target's drift is tested across.
PERIODS = 10
# Rows a date column is judged on, spread evenly over the frame (keeping their order).
SAMPLE_ROWS = 10_000
# Names of the things rows come in groups of: an ID, or an entity measured repeatedly.
GROUP_NAME = re.compile(
    r"(id|key|uuid|guid|code|subject|patient|customer|client|user|account|member|store|"
    r"shop|device|household|person|participant|student|school|family|session|case|site)s?$"
    r"|(^|[_\W])(no|number)$",
    re.I,
)


def split_warnings(frame: pd.DataFrame, schema: FeatureSchema, config: Config) -> list[str]:
    """One line per column that looks like a group key while columns.group is unset, and
    per date column the rows look ordered by while columns.time is unset."""
    target = config.data.target
    if target not in frame or frame[target].isna().all():
        return []
    columns = [column for column in frame.columns if column != target]
    dates = {*schema.dates, *config.columns.dates}
    classes = task_named(config.task).has_classes
    warnings = []
    if not config.columns.group:
        for column in columns:
            if column in dates:
                continue
            found = _group_key(frame[column], frame[target], column, classes)
            if found:
                warnings.append(
                    f"column {column!r} looks like a group key ({found}) but rows are split "
                    "at random: a group on both sides makes every score optimistic; to keep "
                    f"each group on one side, set in {config.file_of('columns.group')}, "
                    f"section [columns]: group = {json.dumps(column, ensure_ascii=False)}"
                )
    if not config.columns.time:
        for column in columns:
            found = _time_order(frame[column], frame[target], column in dates, classes)
            if found:
                warnings.append(
                    f"the rows look time-ordered by {column!r} ({found}) but are split at "
                    "random: judging on rows older than those trained on makes every score "
                    f"optimistic; to hold out the latest rows, set in "
                    f"{config.file_of('columns.time')}, section [columns]: "
                    f"time = {json.dumps(column, ensure_ascii=False)}"
                )
    return warnings


def _group_key(values: pd.Series, y: pd.Series, column: str, classes: bool) -> str:
    """Why a column looks like a group key, or "" when it does not."""
    known = values.notna()
    kind = kind_of(values)
    integers = kind == "number" and pd.api.types.is_integer_dtype(values)
    text = kind == "text" and not looks_like_dates(values[known])
    if known.sum() < MIN_ROWS or not (text or integers):
        return ""
    counts = values[known].value_counts()
    repeated = counts[counts > 1].sum() / known.sum()
    if len(counts) < MIN_GROUPS or repeated < REPEATED_SHARE:
        return ""
    shared = f"{len(counts):,} values shared by {repeated:.0%} of {known.sum():,} rows"
    if text and too_varied(values[known]):
        return f"{shared}, too many for a category"
    if len(counts) * MAX_GROUP_ROWS < known.sum() or not GROUP_NAME.search(column):
        return ""
    if _clusters(y[known], values[known], classes) < P_VALUE:
        return f"{shared}, and {y.name!r} clusters by them"
    return ""


def _time_order(values: pd.Series, y: pd.Series, declared: bool, classes: bool) -> str:
    """Why the rows look ordered by this column of dates, or "" when they do not (or it
    holds no dates)."""
    step = max(len(values) // SAMPLE_ROWS, 1)
    values, y = values.iloc[::step], y.iloc[::step]
    kind = kind_of(values)
    if kind == "text" and (declared or looks_like_dates(values.dropna())):
        values = pd.to_datetime(values, errors="coerce", format="mixed")
    elif kind != "date":
        return ""
    dates = pd.to_datetime(values, errors="coerce")
    known = dates.notna().to_numpy()
    if known.sum() < MIN_ROWS or dates.nunique() < MIN_GROUPS:
        return ""
    order = (dates[known] - dates[known].min()).dt.total_seconds().to_numpy()
    correlation = spearmanr(order, np.arange(len(values))[known]).statistic
    if abs(correlation) >= ORDERED:
        return f"the rows follow its order, rank correlation {correlation:.2f}"
    periods = pd.qcut(pd.Series(order).rank(method="first"), PERIODS, labels=False)
    if _clusters(y[known], periods.to_numpy(), classes) < P_VALUE:
        return f"{y.name!r} drifts across its periods"
    return ""


def _clusters(y: pd.Series, groups: pd.Series | np.ndarray, classes: bool) -> float:
    """The p-value of the target's values (a column per class, or its ranks) differing
    between groups by chance alone (one-way ANOVA F-test); the least over the classes.

    Computed from group sums in one pass: scikit-learn's f_classif and scipy's f_oneway
    take one pass per group, too slow for a hundred thousand customers."""
    if not classes:
        encoded = y.rank().to_frame()
    else:
        encoded = pd.get_dummies(y.astype(str)).iloc[:, 1:].astype(float)
    values = encoded.to_numpy(dtype=float)
    values = values - values.mean(axis=0)
    # Sums per group of the values less their mean: the squares over the group's rows
    # are the part of the spread that lies between groups.
    by_group = pd.DataFrame(values).groupby(np.asarray(groups), sort=False)
    sizes = by_group.size().to_numpy()
    n, k = len(values), len(sizes)
    if k < 2 or n <= k:
        return 1.0
    between = (by_group.sum().to_numpy() ** 2 / sizes[:, None]).sum(axis=0)
    within = (values**2).sum(axis=0) - between
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = (between / (k - 1)) / (within / (n - k))
    p_values = f_distribution.sf(statistic, k - 1, n - k)
    p_values = p_values[np.isfinite(p_values)]
    return float(p_values.min()) if len(p_values) else 1.0
