"""The metric the user cares about: any scikit-learn scorer, or one of the project's own
(METRICS of its metrics.py), used alike by compare, train, the gate and the report."""

from __future__ import annotations

import pytest

from trimode.core.errors import ConfigError
from trimode.data.loading import load_dataset
from trimode.modelling.compare import compare_models
from trimode.modelling.splitting import split_rows
from trimode.workflows.train import train

from .conftest import machine_config


def test_a_scikit_learn_scorer_is_the_primary_metric_with_its_direction(tmp_path):
    config = machine_config(tmp_path, evaluation={"primary_metric": "neg_brier_score"})
    result = train(config)
    manifest = result.manifest
    assert manifest["primary_metric"] == "neg_brier_score"
    model, baseline = (
        manifest["metrics"]["neg_brier_score"],
        manifest["baseline"]["neg_brier_score"],
    )
    # The Brier score itself (lower is better), and the lift says how much lower.
    assert 0 <= model < baseline
    assert manifest["lift_over_baseline"] == pytest.approx(baseline - model)
    assert manifest["gate"]["checks"][0]["check"].startswith("lift of neg_brier_score")


def test_the_users_own_metric_ranks_compare_and_judges_train(tmp_path):
    config = machine_config(
        tmp_path,
        evaluation={"primary_metric": "cost", "thresholds": {"cost": 5.0}},
        train={"models": ["logistic_regression", "hist_gradient_boosting"]},
    )
    split = split_rows(load_dataset(config).frame, config)
    leaderboard = compare_models(config, split.x_train, split.y_train)
    costs = leaderboard.rows.set_index("model")["cost_mean"]
    # Lower is better: the best model first, the dummy baseline (never a positive) costly.
    assert list(costs) == sorted(costs)
    assert leaderboard.to_json()["greater_is_better"] is False
    manifest = train(config).manifest
    assert manifest["metrics"]["cost"] < manifest["baseline"]["cost"]
    assert manifest["lift_over_baseline"] > 0
    assert {"check": "cost", "required": "<= 5"}.items() <= manifest["gate"]["checks"][1].items()


def test_an_unknown_metric_is_one_line_saying_where_the_names_are(tmp_path):
    with pytest.raises(ConfigError) as error:
        machine_config(tmp_path, evaluation={"primary_metric": "nope"})
    message = str(error.value)
    assert "\n" not in message
    assert "evaluation.primary_metric" in message and "get_scorer_names()" in message
    assert "starter.metrics" in message
