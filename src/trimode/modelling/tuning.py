"""Fit one registry model, tuning its hyper-parameters first when search.enabled.

The search covers the model's search space in the registry (models.py): the
parameters it searches replace those train.params sets (the others keep their
configured values). Candidates are scored on the primary metric by
cross-validation on the training rows only: the held-out rows still judge the
result. With search.iterations > 0 (and fewer than the grid's size) it tries
that many random candidates, else the whole grid. Its candidate fits run in
parallel through joblib, so on a Dask cluster (compute.engine = "dask") they
spread over the cluster's workers.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline

from trimode.config.model import Config
from trimode.core.io import json_safe
from trimode.core.progress import activity
from trimode.core.specs import FeatureSchema
from trimode.modelling.compare import compare_models
from trimode.modelling.compute import parallel_work
from trimode.modelling.evaluation import PrimaryScorer
from trimode.modelling.registry import build_model, model_params, search_space
from trimode.modelling.splitting import Split, make_folds
from trimode.modelling.threshold import fit_deciding
from trimode.modelling.weights import fit_params


def fit_model(
    config: Config, name: str, schema: FeatureSchema, x: pd.DataFrame, y: pd.Series
) -> tuple[Pipeline, dict[str, Any] | None, dict[str, Any] | None]:
    """Fit the named model on x, y; return it, its decision threshold's record and the
    search's record (None without either: see threshold.py)."""
    task, seed, n_jobs = config.rules, config.train.seed, config.compute.n_jobs
    project, params = config.project, model_params(config, name)
    space = search_space(project, task.name, name)
    if not (config.search.enabled and space):
        model = build_model(project, task.name, name, schema, seed, n_jobs, params)
        with activity(f"fitting {name} on {len(y):,} rows"):
            return (*fit_deciding(config, model, x, y), None)
    # The cores go to the candidates, fitted in parallel: each model gets one.
    model = build_model(project, task.name, name, schema, seed, 1, params)
    grid_size = math.prod(len(values) for values in space.values())
    iterations = config.search.iterations
    candidates = iterations if 0 < iterations < grid_size else grid_size
    primary = config.evaluation.primary_metric
    common = {
        "scoring": PrimaryScorer(task, primary, config.columns.weight),
        "cv": make_folds(config, x, y, "search.cv_folds"),
        "n_jobs": n_jobs,
        "error_score": "raise",
    }
    if candidates < grid_size:
        search = RandomizedSearchCV(model, space, n_iter=candidates, random_state=seed, **common)
    else:
        search = GridSearchCV(model, space, **common)
    folds = config.search.cv_folds
    with (
        activity(f"searching {candidates} {name} candidates x {folds} folds on {len(y):,} rows"),
        parallel_work(),
    ):
        search.fit(x, y, **fit_params(config, model, x))
    fitted, threshold = fit_deciding(config, search.best_estimator_, x, y, fitted=True)
    sign = 1 if task.metric(primary).greater_is_better else -1
    results = pd.DataFrame(search.cv_results_)
    record = {
        "method": type(search).__name__,
        "candidates": candidates,
        "cv_folds": folds,
        "metric": primary,
        "best_params": json_safe(search.best_params_),
        "best_score": sign * float(search.best_score_),
        "results": [
            {"params": json_safe(params), "mean": sign * mean, "std": std}
            for params, mean, std in zip(
                results["params"],
                results["mean_test_score"].astype(float),
                results["std_test_score"].astype(float),
                strict=True,
            )
        ],
    }
    return fitted, threshold, record


def fit_best(
    config: Config,
    names: list[str],
    schema: FeatureSchema,
    split: Split,
    ranking: tuple[str, dict[str, Any]] | None = None,
) -> tuple[
    str, Pipeline, dict[str, dict[str, float | None]], dict[str, Any] | None, dict[str, Any] | None
]:
    """Fit the named models' best (tuned when search.enabled); return its name, the
    fitted model, every candidate's cross-validated scores, its decision threshold's
    record and its search record.

    With several models, the best is the one `compare` would rank first: the same
    leaderboard, on the same folds of the training rows, by the primary metric (or
    `ranking`, that leaderboard's best and scores as compare wrote them with the same
    fingerprint: see compare.ranking_fingerprint). The held-out test rows judge only the model that
    was kept, refit on all training rows.
    """
    candidates: dict[str, dict[str, float | None]] = {}
    best = names[0]
    if len(names) > 1 and ranking is not None:
        best, candidates = ranking
    elif len(names) > 1:
        leaderboard = compare_models(config, split.x_train, split.y_train, names, variants=False)
        candidates = {name: leaderboard.scores(name) for name in names}
        best = leaderboard.best
    model, threshold, search = fit_model(config, best, schema, split.x_train, split.y_train)
    return best, model, candidates, threshold, search
