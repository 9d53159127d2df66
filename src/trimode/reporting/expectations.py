"""The report's section on the project's expectations (its expectations.py): each one
passing, failing or not applicable, with its evidence (the rows that broke it and their
values).

The same check test mode runs on every commit (modelling/behaviour.py), on the held-out
rows of the report's run: what a person reads here is what the commit hook judges.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from trimode.core.specs import FeatureSchema
from trimode.core.tasks import Task
from trimode.modelling.behaviour import (
    FAILED,
    PASSED,
    SHOWN_ROWS,
    Expectation,
    check_all,
)

STATUS_CLASS = {PASSED: "good", FAILED: "bad"}


def expectation_items(
    task: Task,
    model: Pipeline,
    held_out: pd.DataFrame,
    schema: FeatureSchema,
    expectations: list[Expectation],
) -> list[dict[str, Any]]:
    """One item per expectation, checked on the held-out rows: its kind, description,
    status (a CSS class), one-line summary, and the first SHOWN_ROWS rows that broke it
    (None when none did) with how many did."""
    items = []
    for outcome in check_all(expectations, model, held_out, task, schema):
        expectation, evidence = outcome.expectation, None
        if not outcome.evidence.empty:
            evidence = outcome.evidence.head(SHOWN_ROWS).rename_axis("row").reset_index()
        items.append(
            {
                "kind": expectation.kind,
                "description": expectation.description,
                "status": STATUS_CLASS.get(outcome.status, "note"),
                "summary": outcome.summary,
                "evidence": evidence,
                "shown": 0 if evidence is None else len(evidence),
                "broken": len(outcome.evidence),
            }
        )
    return items
