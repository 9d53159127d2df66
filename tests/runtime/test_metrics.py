"""The metric the user cares about: any scikit-learn scorer, or one of the project's own
(METRICS of its metrics.py), used alike by compare, train, the gate and the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def test_a_threshold_tuned_for_f1_is_recorded_and_applied_by_the_loaded_model(tmp_path):
    config = machine_config(tmp_path, evaluation={"threshold": "f1"})
    result = train(config)
    threshold = result.manifest["decision_threshold"]
    assert threshold["tuned_for"] == "f1" and 0 < threshold["value"] < 1
    x = result.split.x_test
    positive = threshold["positive_class"]
    probability = result.model.predict_proba(x)[:, list(result.model.classes_).index(positive)]
    assert ((result.model.predict(x) == positive) == (probability >= threshold["value"])).all()


@pytest.fixture(scope="module")
def breast_cancer_csv(tmp_path_factory) -> Path:
    """scikit-learn's bundled breast cancer set, its target named by the diagnosis."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.rename(columns={"target": "diagnosis"})
    frame["diagnosis"] = np.asarray(bunch.target_names)[bunch.target]  # benign < malignant
    path = tmp_path_factory.mktemp("breast-cancer") / "breast_cancer.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_threshold_tuned_for_a_cost_lowers_the_cost_on_held_out_rows(tmp_path, breast_cancer_csv):
    """The template's cost (a missed malignant tumour costs 10 false alarms) on real data:
    the threshold tuned for it on the training rows is not 0.5, and on the held-out rows
    the model costs less at it than at 0.5."""
    from starter.metrics import cost

    config = machine_config(
        tmp_path,
        base={
            "data": {"source": str(breast_cancer_csv), "target": "diagnosis"},
            "train": {"models": ["logistic_regression"]},
            "evaluation": {"primary_metric": "cost", "threshold": "cost"},
        },
    )
    result = train(config)
    threshold = result.manifest["decision_threshold"]
    assert threshold["tuned_for"] == "cost" and threshold["positive_class"] == "malignant"
    assert threshold["value"] != pytest.approx(0.5, abs=0.01)
    x, y = result.split.x_test, result.split.y_test
    at_threshold = cost(y, result.model.predict(x))
    at_half = cost(y, result.model.model.predict(x))
    assert at_threshold < at_half
    assert result.manifest["metrics"]["cost"] == pytest.approx(at_threshold)
