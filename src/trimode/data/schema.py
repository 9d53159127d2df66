"""The feature schema of a frame: which columns are features of which kind.

A column's role comes from the config's [columns] table first (drop, ids, dates, text;
the group column is an ID, the time column a date, unless one of those names it), then
from its kind (core/kinds.py): numbers are numeric features, dates and timestamps are
date features, everything else (text, booleans, columns without values) is categorical.
The target is never a feature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from trimode.core.kinds import EMPTY, kind_of
from trimode.core.specs import FeatureSchema

if TYPE_CHECKING:
    from trimode.config.model import ColumnsConfig


def infer_schema(
    frame: pd.DataFrame, target: str | None = None, columns: ColumnsConfig | None = None
) -> FeatureSchema:
    """The feature schema of a frame: the roles `columns` declares, then each other
    column's kind. Declared columns missing from the frame are left out; the run says so
    (see modelling/column_advice.py)."""
    roles = {role: list(getattr(columns, role, ())) for role in ("drop", "ids", "dates", "text")}
    # Rows are split by the group column: it identifies them, it is no feature. The time
    # column orders them: its parts are date features (as text, too).
    for role, name in (
        ("ids", getattr(columns, "group", "")),
        ("dates", getattr(columns, "time", "")),
    ):
        if name and not any(name in names for names in roles.values()):
            roles[role].append(name)
    declared = {
        role: tuple(name for name in names if name in frame.columns)
        for role, names in roles.items()
    }
    weight = tuple(name for name in [getattr(columns, "weight", "")] if name in frame.columns)
    taken = {name for names in declared.values() for name in names} | {target, *weight}
    kinds = {column: kind_of(frame[column]) for column in frame.columns if column not in taken}
    dates = declared["dates"] + tuple(column for column, kind in kinds.items() if kind == "date")
    numeric = tuple(column for column, kind in kinds.items() if kind == "number")
    # A column without a single value tells a model nothing (and no imputer can fill it).
    empty = tuple(column for column, kind in kinds.items() if kind == EMPTY)
    categorical = tuple(column for column in kinds if column not in (*numeric, *dates, *empty))
    return FeatureSchema(
        numeric=numeric,
        categorical=categorical,
        dates=dates,
        text=declared["text"],
        ids=declared["ids"],
        # The sample weights (columns.weight) are no feature either: see weights.py.
        dropped=declared["drop"] + weight + empty,
        text_max_features=getattr(columns, "text_max_features", 100),
    )
