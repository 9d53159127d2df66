"""Checks that a trained model is not garbage, used by the tests on every commit.

Test mode does not expect a good model, but it must not be garbage: better than
a dummy baseline, predictions of the right shape and range, the same model for
the same seed, and no feature that gives the answer away on its own.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from trimode.config.model import Config
from trimode.core.project import Project
from trimode.core.specs import FeatureSchema
from trimode.core.tasks import Task, task_named
from trimode.modelling.registry import feature_frame
from trimode.modelling.splitting import Split


def prediction_problems(task: Task, model: BaseEstimator, features: pd.DataFrame) -> list[str]:
    """What is wrong with the model's predictions on these rows; empty when nothing is."""
    problems = []
    predictions = np.asarray(model.predict(features))
    if predictions.shape != (len(features),):
        problems.append(f"predict returned shape {predictions.shape}, expected ({len(features)},)")
    if not task.has_classes:
        if not np.issubdtype(predictions.dtype, np.number):
            problems.append(f"regression predictions have dtype {predictions.dtype}")
        elif not np.all(np.isfinite(predictions)):
            problems.append("some regression predictions are NaN or infinite")
        return problems
    classes = model.classes_
    if not set(np.unique(predictions)) <= set(classes):
        problems.append("predict returned labels that are not among the model's classes")
    probabilities = model.predict_proba(features)
    if probabilities.shape != (len(features), len(classes)):
        problems.append(
            f"predict_proba returned shape {probabilities.shape}, "
            f"expected ({len(features)}, {len(classes)})"
        )
    elif not np.all((probabilities >= 0) & (probabilities <= 1)):
        problems.append("some probabilities lie outside [0, 1]")
    elif not np.allclose(probabilities.sum(axis=1), 1.0):
        problems.append("class probabilities do not sum to 1")
    return problems


def single_feature_scores(
    project: Project,
    task: Task,
    schema: FeatureSchema,
    train: tuple[pd.DataFrame, pd.Series],
    test: tuple[pd.DataFrame, pd.Series],
    seed: int = 0,
) -> dict[str, float]:
    """How well each feature alone predicts the target on held-out rows.

    A shallow decision tree per feature (after the project's preprocessing of that one
    column, derived columns included) catches thresholds and category lookups, not only
    linear relations. The score is the task's leakage metric (task.leakage_metric), on
    the target's ranks where the task says so.
    """
    metric = task.metric(task.leakage_metric).compute
    build_preprocessor = project.module("features").build_preprocessor
    train = (feature_frame(project, train[0]), train[1])
    test = (feature_frame(project, test[0]), test[1])
    if task.leakage_on_ranks:
        train, test = _as_ranks(train, test)
    scores = {}
    for column in schema.columns:
        model = Pipeline(
            [
                ("preprocess", build_preprocessor(schema.only(column))),
                ("model", task.make_tree(max_depth=6, min_samples_leaf=10, random_state=seed)),
            ]
        )
        model.fit(train[0][[column]], train[1])
        scores[column] = float(metric(test[1], model, test[0][[column]]))
    return scores


def leaking_features(
    scores: dict[str, float], threshold: float, allowed: list[str] | tuple[str, ...] = ()
) -> dict[str, float]:
    """The features whose score alone reaches the threshold (likely leakage), except the
    allowed ones (evaluation.leakage_allow: known to be that strong for real)."""
    return {
        column: score
        for column, score in scores.items()
        if score >= threshold and column not in allowed
    }


def leak_message(leaks: dict[str, float], config: Config) -> str:
    """Why the leakage check failed, and the config line that accepts these features."""
    return (
        f"{_strong_alone(leaks, config, 'evaluation.leakage_threshold')}. A feature known "
        f"only after the outcome (or the target in disguise) must go: drop it in [columns]. "
        f"If it is truly known when predicting and that strong, {_accept(leaks, config)}"
    )


def _strong_alone(leaks: dict[str, float], config: Config, key: str) -> str:
    """ "alone, these features predict <target> with a <metric> of at least <key's value>
    (<key>): <each feature and its score>"."""
    metric = task_named(config.task).leakage_label
    found = ", ".join(f"{column!r} ({score:.3f})" for column, score in leaks.items())
    level = getattr(config.evaluation, key.partition(".")[2])
    return (
        f"alone, these features predict {config.data.target!r} with a {metric} of at least "
        f"{level} ({config.where(key)}): {found}"
    )


def _accept(leaks: dict[str, float], config: Config) -> str:
    """The config line that accepts these features as known when predicting."""
    accepted = [*config.evaluation.leakage_allow, *leaks]
    return (
        f"accept it in {config.file_of('evaluation.leakage_allow')}, section [evaluation]: "
        f"leakage_allow = {json.dumps(accepted, ensure_ascii=False)}"
    )


# Rows the run's near-leak check fits and scores each feature on, at most (a sample of
# each side): enough to tell 0.85 from 0.9, and production does not pay for every row.
NEAR_LEAK_ROWS = 20_000


def near_leaks(
    config: Config, task: Task, schema: FeatureSchema, split: Split
) -> tuple[dict[str, float], dict[str, float]]:
    """Each feature's score alone on (a sample of) the held-out rows, and those at or above
    evaluation.near_leak_threshold the config has not accepted (leakage_allow)."""
    rows = np.random.default_rng(config.train.seed)

    def sample(x: pd.DataFrame, y: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
        if len(y) <= NEAR_LEAK_ROWS:
            return x, y
        keep = np.sort(rows.choice(len(y), NEAR_LEAK_ROWS, replace=False))
        return x.iloc[keep], y.iloc[keep]

    train = sample(split.x_train, split.y_train)
    test = sample(split.x_test, split.y_test)
    scores = single_feature_scores(config.project, task, schema, train, test, config.train.seed)
    evaluation = config.evaluation
    return scores, leaking_features(
        scores, evaluation.near_leak_threshold, evaluation.leakage_allow
    )


def near_leak_warning(leaks: dict[str, float], config: Config) -> str:
    """The warning naming features that alone predict the target suspiciously well, and
    the question to answer about each: is it known when you predict?"""
    return (
        f"{_strong_alone(leaks, config, 'evaluation.near_leak_threshold')}. Is it known "
        f"when you predict? One known only after the outcome must go (drop it in "
        f"[columns]); if it is known in time, {_accept(leaks, config)}"
    )


def planted_leak(y: pd.Series) -> pd.Series:
    """A feature that is the target in disguise (the target's numbers as floats, or its
    labels as text), to check that the leakage check finds one."""
    if pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y):
        return y.astype(float)
    return y.astype(str)


def _as_ranks(
    train: tuple[pd.DataFrame, pd.Series], test: tuple[pd.DataFrame, pd.Series]
) -> tuple[tuple[pd.DataFrame, pd.Series], tuple[pd.DataFrame, pd.Series]]:
    """Replace the target by its rank among the training targets, a share in [0, 1]."""
    ordered = np.sort(train[1].to_numpy())

    def rank(y: pd.Series) -> pd.Series:
        return pd.Series(
            np.searchsorted(ordered, y.to_numpy(), side="right") / len(ordered), y.index
        )

    return (train[0], rank(train[1])), (test[0], rank(test[1]))
