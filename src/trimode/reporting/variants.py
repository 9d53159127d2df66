"""The variants of a leaderboard (compare.variants) as the report plots them: per registry
model with variants, per hyper-parameter its variants vary, the primary metric's mean and
spread over the folds at each variant's value, one point per variant.

Read from leaderboard.json as compare wrote it (its `variants` and `rows`): the report shows
what the file holds, and an older leaderboard without variants plots nothing. The other
hyper-parameters the variants vary tell the series apart. A variant that halving left
behind was scored on fewer rows than the finalists (its `rows`): it is kept, marked, and
counted, for its score is not comparable with theirs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

# Numbers whose largest is at least this many times their smallest go on a log axis.
LOG_RATIO = 100
# The table's column saying whether halving left the variant behind.
LEFT_BEHIND = "left behind by halving"


@dataclass(frozen=True)
class VariantPlot:
    """One plot: a model's variants' primary metric against one hyper-parameter."""

    model: str
    param: str
    metric: str
    # One row per variant scored: variant, value (as text), x (the value as a number on a
    # numeric axis, else the category's place), series (the other varied values, as
    # text), mean, std, rows (halving's: the rows it was scored on, else None), and
    # LEFT_BEHIND; in the grid's order.
    points: pd.DataFrame
    # The values in their order on the axis (categories), and whether they are numbers and
    # on a log axis.
    values: list[str]
    numeric: bool
    log: bool

    @property
    def left_behind(self) -> int:
        """How many of the points halving left behind."""
        return int(self.points[LEFT_BEHIND].sum())

    def table(self) -> pd.DataFrame:
        """The points as the page lists them under the plot."""
        names = {
            "value": self.param,
            "series": "other values",
            "mean": f"{self.metric} mean",
            "std": f"{self.metric} std",
        }
        points = self.points.drop(columns=["x"])
        # The page's names for the columns (set_axis: a rename reads as a file's to the
        # check that every write goes through the guard).
        shown = points.set_axis([names.get(name, name) for name in points.columns], axis=1)
        if not shown["other values"].any():
            shown = shown.drop(columns="other values")
        if shown["rows"].isna().all():
            shown = shown.drop(columns=["rows", LEFT_BEHIND])
        else:
            shown[LEFT_BEHIND] = shown[LEFT_BEHIND].map({True: "yes", False: "no"})
        return shown


def variant_plots(leaderboard: dict[str, Any]) -> list[VariantPlot]:
    """One plot per registry model with variants and per hyper-parameter its variants
    vary (two values or more), from leaderboard.json's data; [] without variants."""
    variants = leaderboard.get("variants") or {}
    metric = leaderboard.get("primary_metric")
    if not variants or not metric:
        return []
    rows = {row["model"]: row for row in leaderboard.get("rows") or []}
    models: dict[str, dict[str, dict[str, Any]]] = {}
    for name, variant in variants.items():
        models.setdefault(variant["model"], {})[name] = variant.get("params") or {}
    plots = []
    for model, listed in models.items():
        varied = _varied(listed)
        scored = {
            name: params
            for name, params in listed.items()
            if name in rows and _number(rows[name].get(f"{metric}_mean")) is not None
        }
        if not scored:
            continue
        plots += [_plot(model, param, metric, scored, rows, varied) for param in varied]
    return plots


def _varied(listed: dict[str, dict[str, Any]]) -> list[str]:
    """The hyper-parameters the variants give two values or more, in order of appearance
    (a variant that does not set one has it as configured)."""
    names = list(dict.fromkeys(key for params in listed.values() for key in params))
    return [name for name in names if len({_text(params, name) for params in listed.values()}) > 1]


def _text(params: dict[str, Any], name: str) -> str:
    """A variant's value as the leaderboard's params column writes it (repr of its JSON
    value: 0.01, [64, 64], 'relu'), or "as configured" when it does not set it."""
    return repr(params[name]) if name in params else "as configured"


def _number(value: Any) -> float | None:
    """A finite number, else None (a missing score, a list, a text, a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _plot(
    model: str,
    param: str,
    metric: str,
    scored: dict[str, dict[str, Any]],
    rows: dict[str, dict[str, Any]],
    varied: list[str],
) -> VariantPlot:
    """The plot of one varied hyper-parameter of a model's scored variants."""
    numbers = [_number(params.get(param)) for params in scored.values()]
    floats = [number for number in numbers if number is not None]
    numeric = len(floats) == len(numbers)
    texts = [_text(params, param) for params in scored.values()]
    categories = list(dict.fromkeys(texts))
    halved = [_number(rows[name].get("rows")) for name in scored]
    finalist_rows = max((size for size in halved if size is not None), default=None)
    points = pd.DataFrame(
        {
            "variant": list(scored),
            "value": texts,
            "x": numbers if numeric else [float(categories.index(text)) for text in texts],
            "series": [
                ", ".join(f"{other}={_text(params, other)}" for other in varied if other != param)
                for params in scored.values()
            ],
            "mean": [float(rows[name][f"{metric}_mean"]) for name in scored],
            "std": [_number(rows[name].get(f"{metric}_std")) for name in scored],
            "rows": [None if size is None else int(size) for size in halved],
            LEFT_BEHIND: [
                size is not None and finalist_rows is not None and size < finalist_rows
                for size in halved
            ],
        }
    )
    log = numeric and min(floats) > 0 and max(floats) / min(floats) >= LOG_RATIO
    return VariantPlot(model, param, metric, points, categories, numeric, log)
