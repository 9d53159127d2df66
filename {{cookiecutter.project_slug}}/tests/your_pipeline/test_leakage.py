"""No feature of your data gives the target away on its own, unless you accepted it."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.modelling.quality import (
    leak_message,
    leaking_features,
    planted_leak,
    single_feature_scores,
)
from {{ cookiecutter.package_name }}.yours.features import infer_schema


@pytest.fixture(scope="module")
def feature_scores(test_run, test_config, test_task):
    split = test_run.split
    schema = infer_schema(split.x_train, test_config.data.target, test_config.columns)
    return single_feature_scores(
        test_task, schema, (split.x_train, split.y_train), (split.x_test, split.y_test)
    )


def test_no_single_feature_predicts_the_target_almost_perfectly(feature_scores, test_config):
    evaluation = test_config.evaluation
    leaks = leaking_features(feature_scores, evaluation.leakage_threshold, evaluation.leakage_allow)
    if leaks:
        pytest.fail(leak_message(leaks, test_config), pytrace=False)


def test_the_leakage_check_finds_a_planted_leak(test_run, test_config, test_task):
    """A copy of the target, planted as a feature of your data, is caught."""
    split = test_run.split
    x_train = split.x_train.assign(planted_leak=planted_leak(split.y_train).to_numpy())
    x_test = split.x_test.assign(planted_leak=planted_leak(split.y_test).to_numpy())
    schema = infer_schema(x_train, test_config.data.target).only("planted_leak")
    scores = single_feature_scores(
        test_task, schema, (x_train, split.y_train), (x_test, split.y_test)
    )
    assert "planted_leak" in leaking_features(scores, test_config.evaluation.leakage_threshold)
