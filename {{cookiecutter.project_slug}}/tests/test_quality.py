"""Not-garbage checks on the test-mode model; the pre-commit hook runs them on every commit."""

from __future__ import annotations

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.data import load_dataset
from {{ cookiecutter.package_name }}.evaluation import lift
from {{ cookiecutter.package_name }}.models import build_model
from {{ cookiecutter.package_name }}.pipeline import split_rows
from {{ cookiecutter.package_name }}.preprocessing import FeatureSchema, infer_schema
from {{ cookiecutter.package_name }}.quality import (
    leaking_features,
    prediction_problems,
    single_feature_scores,
)

from .conftest import PROJECT_ROOT


def test_model_beats_dummy_baseline_by_the_configured_margin(test_run, test_config):
    record = test_run.record
    metric = record["primary_metric"]
    margin = lift(test_config.task, metric, record["metrics"][metric], record["baseline"][metric])
    assert margin >= test_config.evaluation.min_lift_over_baseline, (
        f"{record['model']} scores {metric} {record['metrics'][metric]:.4f} against the dummy "
        f"baseline's {record['baseline'][metric]:.4f}: a lift of {margin:.4f}, below the "
        f"required {test_config.evaluation.min_lift_over_baseline} "
        "(evaluation.min_lift_over_baseline)"
    )


def test_predictions_have_the_right_shape_type_and_range(test_run, test_config):
    assert prediction_problems(test_config.task, test_run.model, test_run.split.x_test) == []


def test_training_is_deterministic_for_a_fixed_seed(test_run, test_config):
    split = split_rows(load_dataset(test_config, workdir=PROJECT_ROOT).frame, test_config)
    assert split.x_test.index.equals(test_run.split.x_test.index)
    schema = infer_schema(split.x_train, target=test_config.data.target)
    model_name, seed = test_run.record["model"], test_config.train.seed
    refit = build_model(test_config.task, model_name, schema, seed, n_jobs=1)
    refit.fit(split.x_train, split.y_train)
    np.testing.assert_array_equal(refit.predict(split.x_test), test_run.model.predict(split.x_test))


@pytest.fixture(scope="module")
def feature_scores(test_run, test_config):
    split = test_run.split
    schema = infer_schema(split.x_train, target=test_config.data.target)
    return single_feature_scores(
        test_config.task, schema, (split.x_train, split.y_train), (split.x_test, split.y_test)
    )


def test_no_single_feature_predicts_the_target_almost_perfectly(feature_scores, test_config):
    threshold = test_config.evaluation.leakage_threshold
    leaks = leaking_features(feature_scores, threshold)
    assert not leaks, (
        f"these features alone predict the target with a score of at least {threshold} "
        f"(evaluation.leakage_threshold): {leaks}; is the target leaking into them?"
    )


def test_the_leakage_check_finds_a_planted_leak(test_run, test_config):
    split = test_run.split
    leak = FeatureSchema(numeric=("leak",), categorical=())
    scores = single_feature_scores(
        test_config.task,
        leak,
        (split.x_train.assign(leak=split.y_train.to_numpy()), split.y_train),
        (split.x_test.assign(leak=split.y_test.to_numpy()), split.y_test),
    )
    assert "leak" in leaking_features(scores, test_config.evaluation.leakage_threshold)


def test_the_prediction_check_finds_broken_probabilities(test_run, test_config):
    class Broken:
        classes_ = getattr(test_run.model, "classes_", None)

        def predict(self, features):
            return np.full(len(features), np.nan)

        def predict_proba(self, features):
            return np.full((len(features), len(self.classes_)), 0.9)

    problems = prediction_problems(test_config.task, Broken(), test_run.split.x_test)
    assert problems
