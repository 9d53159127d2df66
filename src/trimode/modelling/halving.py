"""Successive halving of one model's variants (compare.strategy = "halving").

scikit-learn's HalvingGridSearchCV fits every variant on a few rows of each fold, keeps
the best third, fits those on three times the rows, and so on until the last ones see
(nearly) all the rows: many variants tried in the time a few take on every row. It runs
on the comparison's own folds (it cuts each fold's rows down, keeping the split), scored
on the primary metric. Every variant's row in the leaderboard is its score at the last
size it reached, with that size beside it: the finalists' rows compare with the other
models' rows; the others rank below them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from trimode.core.io import json_safe
from trimode.modelling.evaluation import PrimaryScorer
from trimode.modelling.variants import Candidate

# Each round keeps a third of the variants and gives them three times the rows
# (scikit-learn's default factor).
FACTOR = 3


@dataclass(frozen=True)
class Halved:
    """One variant's result: its primary metric's mean and spread over the folds at the
    last size it reached, the times, and that size (rows each fold's subsample held)."""

    mean: float
    std: float
    fit_time: tuple[float, float]
    score_time: tuple[float, float]
    rows: int
    finalist: bool


def halve(
    estimator: BaseEstimator,
    candidates: list[Candidate],
    features: pd.DataFrame,
    y: pd.Series,
    folds: list[tuple[np.ndarray, np.ndarray]],
    scorer: PrimaryScorer,
    *,
    fit_params: dict[str, Any],
    n_jobs: int,
    seed: int,
) -> tuple[dict[str, Halved], list[dict[str, int]]]:
    """Successive halving of the candidates (variants of one model, built on `estimator`
    as configured); return each one's result and the rounds ({"candidates", "rows"})."""
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    grid = [{f"model__{key}": [value] for key, value in c.params.items()} for c in candidates]
    search = HalvingGridSearchCV(
        estimator,
        grid,
        factor=FACTOR,
        cv=folds,
        scoring=scorer,
        refit=False,
        n_jobs=n_jobs,
        random_state=seed,
        error_score="raise",
    )
    search.fit(features, y, **fit_params)
    results = pd.DataFrame(search.cv_results_)
    sign = 1 if scorer.task.metric(scorer.metric).greater_is_better else -1
    by_params = {_key(grid[place]): c.name for place, c in enumerate(candidates)}
    last_round = int(results["iter"].max())
    halved: dict[str, Halved] = {}
    for row in results.sort_values("iter").to_dict(orient="records"):
        name = by_params[_key({key: [value] for key, value in row["params"].items()})]
        halved[name] = Halved(  # a later round's row replaces an earlier one's
            mean=sign * float(row["mean_test_score"]),
            std=float(row["std_test_score"]),
            fit_time=(float(row["mean_fit_time"]), float(row["std_fit_time"])),
            score_time=(float(row["mean_score_time"]), float(row["std_score_time"])),
            rows=int(row["n_resources"]),
            finalist=int(row["iter"]) == last_round,
        )
    rounds = [
        {"candidates": int(count), "rows": int(rows)}
        for count, rows in zip(search.n_candidates_, search.n_resources_, strict=True)
    ]
    return halved, rounds


def _key(grid: dict[str, list[Any]]) -> str:
    """A variant's values as text that compares equal exactly when the values do."""
    return json.dumps(json_safe(grid), sort_keys=True)


def rounds_line(model: str, rounds: list[dict[str, int]]) -> str:
    """What halving did, in one line: "mlp: halving tried 12 variants on 1,111 rows, 4 on
    3,333, 2 on 10,000"."""
    steps = [f"{step['candidates']:,} on {step['rows']:,} rows" for step in rounds]
    first, *rest = steps
    count, _, size = first.partition(" on ")
    return f"{model}: halving tried {count} variants on {size}" + "".join(
        f", {step}" for step in rest
    )
