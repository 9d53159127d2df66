"""Drift: the primary metric per period of time on the held-out rows, when rows are split
by time (columns.time), so a person sees whether the model gets worse the further its
rows lie from those it learned from."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from trimode.core.dates import to_timestamps
from trimode.core.tasks import Task

# At most this many periods: the finest calendar period that gives no more.
MAX_PERIODS = 12
PERIODS = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}


def metric_by_period(
    task: Task, model: BaseEstimator, x: pd.DataFrame, y: pd.Series, time: str, metric: str
) -> tuple[str, pd.DataFrame]:
    """The period's name ("week", ...) and, per period of the rows' `time` column, in
    order: its first day, its rows and the metric on them (NaN where undefined: a
    period with one class only)."""
    stamps = to_timestamps(x[time]).dt.tz_localize(None)
    code = next(
        (code for code in PERIODS if stamps.dt.to_period(code).nunique() <= MAX_PERIODS), "Y"
    )
    periods = stamps.dt.to_period(code).to_numpy()
    records = []
    for period in sorted(set(periods)):
        rows = periods == period
        with warnings.catch_warnings():  # undefined on these rows: said as NaN
            warnings.simplefilter("ignore")
            try:
                value = float(task.metric(metric).compute(y[rows], model, x[rows]))
            except ValueError:
                value = np.nan
        records.append(
            {"from": str(period.start_time.date()), "rows": int(rows.sum()), metric: value}
        )
    return PERIODS[code], pd.DataFrame(records)
