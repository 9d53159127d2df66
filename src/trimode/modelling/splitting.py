"""How rows are held out and folded: the same way in every command and mode, for a seed.

Which side of the hold-out a row falls on is decided by the row itself. Its split key
(the group column's value with columns.group, else its ID columns' values with
columns.ids, else its own values, the target left out) is hashed with the seed, and the
row is held out when that hash, read as a share of its range, is below
data.test_fraction. A fixed cut, not a quantile of the rows read: a quantile moves with
the rows a mode reads (its sample, or the whole source), a cut does not, so a row held
out in human mode is held out in production too, whatever order the rows come in; and a
group's rows, sharing one key, never straddle the split. Classes keep their shares in
expectation. With columns.time the held-out rows are instead the latest
data.test_fraction by time, every row of one instant on one side, and the training rows
end columns.time_gap_days before them.

Both sides come in one canonical order (by time with columns.time, then by a hash of the
row's values), so the same rows give the same model and the same folds in every mode.

`make_folds` folds the training rows for `compare` and the search alike: whole groups
per fold (StratifiedGroupKFold / GroupKFold), forward-chaining folds in time order
(TimeSeriesSplit, with the gap), else shuffled (stratified) k-fold.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import TimeSeriesSplit

from trimode.config.model import Config
from trimode.core.dates import to_timestamps
from trimode.core.errors import DataError
from trimode.core.io import json_safe
from trimode.core.kinds import kind_of
from trimode.core.tasks import task_named

# Mixes one column's hashes into a row's (the golden ratio's 64 bits, as sampling does).
_MIX = np.uint64(0x9E3779B97F4A7C15)
_DAY_S = 86_400.0


@dataclass(frozen=True)
class Split:
    """Features and target of the training rows and of the held-out rows."""

    x_train: pd.DataFrame
    x_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    # How the rows were split, as the manifest records it (see split_rows).
    record: dict[str, Any] = field(default_factory=dict)


def split_rows(frame: pd.DataFrame, config: Config) -> Split:
    """Hold out the labelled rows the split key puts on the held-out side (see the
    module's docstring); record how: the kind (random, group, time), the key, and the
    rows (and groups) on each side."""
    target, fraction, seed = config.data.target, config.data.test_fraction, config.train.seed
    known = frame[target].notna()
    labelled = frame if known.all() else frame[known]  # no copy when every row is labelled
    features, y = labelled.drop(columns=[target]), labelled[target]
    kind, column = split_kind(config)
    salt = _salt(seed)
    hashes = _column_hashes(labelled, salt)
    # The canonical order: by the row's values (the target too), by time first with one.
    row_hash = _combined(hashes, sorted(hashes, key=str), salt)
    record: dict[str, Any] = {"kind": kind, "column": column or None}
    if kind == "time":
        days = _days(features, config, "columns.time")
        held_out, kept, record = _latest(days, fraction, config.columns.time_gap_days, record)
        order = np.lexsort((row_hash, days))
    else:
        key_columns = _key_columns(config, features)
        record["key"] = key_columns
        values = key_columns or sorted(set(hashes) - {target}, key=str)
        key = _combined(hashes, values, salt)
        held_out = key < np.uint64(min(fraction * 2.0**64, 2.0**64 - 1))
        kept = ~held_out
        order = np.argsort(row_hash, kind="stable")
    train, test = order[kept[order]], order[held_out[order]]
    if not len(test) or not len(train):
        gap = config.columns.time_gap_days if kind == "time" else 0
        # Held-out rows but none before them by the gap: the gap is what to change.
        fix = (
            f" and columns.time_gap_days = {gap:g} ({config.file_of('columns.time_gap_days')}):"
            " no row is that many days before the held-out ones; use a shorter gap"
            if gap and len(test)
            else "; use more rows"
        )
        raise DataError(
            f"{len(labelled)} labelled rows put {len(test)} rows on the held-out side and "
            f"{len(train)} on the training side with data.test_fraction = {fraction}"
            f"{_by(kind, column)}{fix}"
        )
    if kind == "group":
        groups = features[column]
        record["n_groups_train"] = int(groups.iloc[train].nunique(dropna=False))
        record["n_groups_test"] = int(groups.iloc[test].nunique(dropna=False))
    record |= {
        "n_train": len(train),
        "n_test": len(test),
        "test_fraction": fraction,
        "seed": seed,
        # Equal exactly when the same rows are held out (whatever mode read them).
        "held_out_sha256": hashlib.sha256(np.sort(row_hash[test]).tobytes()).hexdigest(),
    }
    return Split(features.iloc[train], features.iloc[test], y.iloc[train], y.iloc[test], record)


def describe_split(record: dict[str, Any]) -> str:
    """How a run's rows were split, in one line (a manifest's `split`)."""
    rows = f"{record.get('n_train')} rows trained on, {record.get('n_test')} held out"
    kind, column = record.get("kind", "random"), record.get("column")
    if kind == "group":
        return (
            f"by group {column!r}: {rows} ({record['n_groups_train']} and "
            f"{record['n_groups_test']} groups; none on both sides)"
        )
    if kind == "time":
        gap = record.get("time_gap_days") or 0
        gap_words = f", {gap:g} days before them" if gap else ""
        return (
            f"by time {column!r}: {rows}, the latest from {record['test_from']} "
            f"(trained on rows up to {record['train_until']}{gap_words})"
        )
    key = record.get("key")
    by = f"by ID {', '.join(map(repr, key))}" if key else "by each row's values"
    return f"random, {by}: {rows}"


def make_folds(
    config: Config, features: pd.DataFrame, y: pd.Series, key: str, random: bool = False
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds of these rows, as many as the config key says
    ("compare.cv_folds", "search.cv_folds"): forward in time with columns.time, by whole
    groups with columns.group, else (or when `random`: to tell how optimistic such folds
    would be) shuffled for the seed; classes keep their shares in every fold when they
    can."""
    section, _, name = key.partition(".")
    n_folds = getattr(getattr(config, section), name)
    if len(y) < n_folds:
        raise DataError(
            f"{len(y)} labelled rows cannot be split into {n_folds} folds "
            f"({config.where(key)}); use more rows or fewer folds"
        )
    kind, column = ("random", "") if random else split_kind(config)
    if kind == "time":
        return _forward_folds(
            _days(features, config, "columns.time"), n_folds, config.columns.time_gap_days
        )
    groups = None
    if kind == "group":
        groups, _ = pd.factorize(_column(features, config, "columns.group"), use_na_sentinel=False)
        if groups.max() + 1 < n_folds:
            raise DataError(
                f"{groups.max() + 1} groups of column {column!r} cannot be split into "
                f"{n_folds} folds ({config.where(key)}); use more groups or fewer folds"
            )
    splitter = task_named(config.task).folds_splitter(
        n_folds, config.train.seed, y, grouped=groups is not None
    )
    return list(splitter.split(features, y, groups))


def split_kind(config: Config) -> tuple[str, str]:
    """How the config splits rows: ("time", column), ("group", column) or ("random", "")."""
    if config.columns.time:
        return "time", config.columns.time
    if config.columns.group:
        return "group", config.columns.group
    return "random", ""


def _key_columns(config: Config, features: pd.DataFrame) -> list[str]:
    """The columns whose values are a row's split key: the group column, else the ID
    columns there are, else none (then: all the row's values but the target)."""
    if config.columns.group:
        _column(features, config, "columns.group")
        return [config.columns.group]
    return [name for name in config.columns.ids if name in features.columns]


def _column(frame: pd.DataFrame, config: Config, key: str) -> pd.Series:
    """The column a config key names; DataError naming the key when the rows lack it."""
    section, _, name = key.partition(".")
    column = getattr(getattr(config, section), name)
    if column not in frame.columns:
        raise DataError(
            f"{key} = {column!r} names no column of the data (columns: "
            f"{', '.join(map(str, frame.columns))}); set it in {config.file_of(key)}"
        )
    return frame[column]


def _days(frame: pd.DataFrame, config: Config, key: str) -> np.ndarray:
    """The column a config key names as days since 1970 (fractional); DataError when a
    row has no readable date: it could not be placed in time."""
    values = _column(frame, config, key)
    kind = kind_of(values)
    if kind in ("number", "boolean"):
        raise DataError(
            f"column {values.name!r} ({config.where(key)}) holds {kind} values (e.g. "
            f"{json_safe(values.dropna().iloc[0])!r}), not dates: rows are split by time; "
            "name a column of dates or text dates"
        )
    stamps = to_timestamps(values)
    unread = stamps.isna()
    if unread.any():
        # A few of the values, or none: a missing date reads as no date either.
        shown = ", ".join(repr(value)[:40] for value in values[unread].dropna().unique()[:3])
        raise DataError(
            f"{int(unread.sum())} of {len(values)} rows have no readable date in column "
            f"{values.name!r} ({config.where(key)}){f', e.g. {shown}' if shown else ''}: "
            "rows are split by time, so each needs one"
        )
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    return ((stamps - epoch).dt.total_seconds() / _DAY_S).to_numpy(dtype=float)


def _latest(
    days: np.ndarray, fraction: float, gap: float, record: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The latest share of rows by time (every row of the first held-out instant with
    them), and the rows before them by more than the gap; with their times recorded."""
    ordered = np.sort(days)
    n_test = max(round(len(days) * fraction), 1)
    start = ordered[len(days) - n_test]
    held_out, kept = days >= start, days < start - gap
    record |= {
        "test_from": _stamp(start),
        "train_until": _stamp(days[kept].max()) if kept.any() else None,
        "time_gap_days": gap,
    }
    return held_out, kept, record


def _stamp(days: float) -> str:
    """Days since 1970 as an ISO timestamp (to the second)."""
    return pd.Timestamp(days * _DAY_S, unit="s").isoformat(timespec="seconds")


def _forward_folds(
    days: np.ndarray, n_folds: int, gap: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """TimeSeriesSplit on the rows in time order: each fold is scored on later rows than
    it learns from, its training rows ending `gap` days before the first of them (rows of
    that instant too)."""
    order = np.argsort(days, kind="stable")
    folds = []
    for train, test in TimeSeriesSplit(n_splits=n_folds).split(order):
        rows, scored = order[train], order[test]
        rows = rows[days[rows] < days[scored].min() - gap]
        if not len(rows):
            raise DataError(
                f"a fold has no training rows before its scored rows, {gap:g} days apart "
                "(columns.time_gap_days): use more rows, fewer folds or a shorter gap"
            )
        folds.append((rows, scored))
    return folds


def _salt(seed: int) -> str:
    """The hash key of the split for a seed: its own, so that the split is independent of
    the sample's (sampling.py hashes rows with the seed alone; the same hash would hold
    out the very rows a sample keeps)."""
    return hashlib.sha256(f"split:{seed}".encode()).hexdigest()[:16]


def _column_hashes(frame: pd.DataFrame, salt: str) -> dict[Any, np.ndarray]:
    """A 64-bit hash of every value, column by column, of the value as its kind reads it:
    a number is the same number whether read as an integer or a float, a date the same
    instant whatever its unit or text, so a row hashes alike from a sample and a source."""
    return {
        name: pd.util.hash_array(_canonical(frame[name]), hash_key=salt) for name in frame.columns
    }


def _canonical(values: pd.Series) -> np.ndarray:
    """A column's values in one form per kind: floats for numbers and booleans, seconds
    since 1970 for dates, text otherwise; missing values as NaN or one marker."""
    kind = kind_of(values)
    if kind in ("number", "boolean"):
        # + 0.0: -0.0 is 0.0; NaN is the one NaN.
        return values.to_numpy(dtype=float, na_value=np.nan) + 0.0
    if kind == "date":
        epoch = pd.Timestamp("1970-01-01", tz="UTC")
        return (to_timestamps(values) - epoch).dt.total_seconds().to_numpy(dtype=float)
    text = values.astype(object).astype(str).to_numpy(dtype=object)
    text[values.isna().to_numpy()] = "\0missing"
    return text


def _combined(hashes: dict[Any, np.ndarray], columns: list[Any], salt: str) -> np.ndarray:
    """One 64-bit hash per row from these columns' hashes, in this order, started from the
    salt: pandas hashes numbers without its key, so the salt (the seed) enters here."""
    key = np.full(len(next(iter(hashes.values()))), np.uint64(int(salt, 16)), dtype=np.uint64)
    for name in columns:
        key = (key ^ hashes[name]) * _MIX
    return pd.util.hash_array(key)


def _by(kind: str, column: str) -> str:
    """ ", by <kind> '<column>'" for a split by group or time."""
    return f", by {kind} {column!r}" if column else ""
