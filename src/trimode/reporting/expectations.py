"""The report's section on the project's expectations (its expectations.py): each one passing,
failing or not applicable, with its evidence (the rows that broke it and their values).

The same check test mode runs on every commit (modelling/behaviour.py), on the held-out
rows of the report's run: what a person reads here is what the commit hook judges.
"""

from __future__ import annotations

import html

import pandas as pd
from sklearn.pipeline import Pipeline

from trimode.core.specs import FeatureSchema
from trimode.core.tasks import Task
from trimode.modelling.behaviour import (
    FAILED,
    MAX_ROWS,
    PASSED,
    SHOWN_ROWS,
    Expectation,
    check_all,
)

STATUS_CLASS = {PASSED: "good", FAILED: "bad"}


def expectations_section(
    task: Task,
    model: Pipeline,
    held_out: pd.DataFrame,
    schema: FeatureSchema,
    expectations: list[Expectation],
) -> str:
    """The section's HTML, every piece of text escaped: a line per expectation, and the
    rows that broke it (at most SHOWN_ROWS of them) under a fold-out."""
    heading = "<h2>Your expectations</h2>"
    if not expectations:
        return (
            f'{heading}\n<p class="note">None written: add what the model must keep doing '
            "to expectations.py, and test mode checks it on every commit.</p>"
        )
    items = []
    for outcome in check_all(expectations, model, held_out, task, schema):
        expectation = outcome.expectation
        status = STATUS_CLASS.get(outcome.status, "note")
        line = (
            f"{html.escape(expectation.kind)} “{html.escape(expectation.description)}”: "
            f'<span class="{status}">{html.escape(outcome.summary)}</span>'
        )
        if not outcome.evidence.empty:
            shown = outcome.evidence.head(SHOWN_ROWS).rename_axis("row").reset_index()
            table = shown.to_html(
                escape=True, index=False, border=0, float_format=lambda v: f"{v:.4g}"
            )
            line += (
                f"\n<details><summary>the first {len(shown)} of {len(outcome.evidence)} rows "
                f'that broke it</summary>\n<div class="scroll">{table}</div></details>'
            )
        items.append(f"<li>{line}</li>")
    return (
        f"{heading}\n"
        f'<p class="note">What expectations.py says the model must do, checked on the '
        f"held-out rows (the first {MAX_ROWS} at most), as test mode checks it on every "
        "commit.</p>\n<ul>" + "\n".join(items) + "</ul>"
    )
