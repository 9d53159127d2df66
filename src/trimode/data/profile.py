"""One profile of a table's columns: what the spreadsheet copy of a sample summarises in
its "columns" sheet (data/spreadsheets.py), and what the report and notebook 1 show of the
data (reporting/inspection.data_summary, which adds roles and distributions)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trimode.core.kinds import kind_of

# Values listed, most frequent first, for a column of text or booleans.
TOP_VALUES = 5


def column_profile(frame: pd.DataFrame, types: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per column (the index): its type (from `types`, e.g. the Parquet file's, else
    the frame's dtype), kind (core/kinds.py), missing values (count and share of the rows),
    distinct values, min and max (numbers and dates) or the most frequent values with their
    counts (text, booleans)."""
    rows = []
    for name in frame.columns:
        values = frame[name]
        present = values.dropna()
        kind = kind_of(values)
        ranged = kind in ("number", "date") and len(present) > 0
        rows.append(
            {
                "column": str(name),
                "type": (types or {}).get(str(name), str(values.dtype)),
                "kind": kind,
                "missing": int(values.isna().sum()),
                "missing_share": float(values.isna().mean()) if len(values) else 0.0,
                "distinct": int(present.astype(str).nunique()),
                "min": _scalar(present.min()) if ranged else None,
                "max": _scalar(present.max()) if ranged else None,
                "top_values": "" if kind in ("number", "date") else top_values(present),
            }
        )
    return pd.DataFrame(rows).set_index("column")


def top_values(present: pd.Series) -> str:
    """The most frequent values with their counts, "basic (812); plus (401)", most
    frequent first, ties in the values' order."""
    counts = present.astype(str).value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    return "; ".join(
        f"{_shortened(value)} ({count:,})" for value, count in counts.head(TOP_VALUES).items()
    )


def _scalar(value: Any) -> Any:
    """A numpy scalar as the Python value it holds; anything else as it is."""
    return value.item() if isinstance(value, np.generic) else value


def _shortened(text: str, most: int = 40) -> str:
    """Text of at most `most` characters, cut with an ellipsis."""
    return text if len(text) <= most else text[: most - 1] + "…"
