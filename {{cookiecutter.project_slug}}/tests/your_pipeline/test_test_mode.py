"""Your pipeline in test mode: it runs on your data, saves a model that loads, and the
model is not garbage. The commit hook runs these on every commit."""

from __future__ import annotations

import numpy as np

from {{ cookiecutter.package_name }}.ingest.loading import load_dataset
from {{ cookiecutter.package_name }}.modelling.evaluation import lift
from {{ cookiecutter.package_name }}.modelling.pipeline import split_rows
from {{ cookiecutter.package_name }}.modelling.quality import prediction_problems
from {{ cookiecutter.package_name }}.publishing.artifacts import METRICS_FILE, MODEL_FILE, load_model, read_manifest
from {{ cookiecutter.package_name }}.yours.features import infer_schema
from {{ cookiecutter.package_name }}.yours.models import build_model


def test_writes_model_metrics_and_manifest(test_run, test_config):
    record = read_manifest(test_run.output_dir)
    assert (record["mode"], record["task"]) == ("test", test_config.task)
    assert record["model"] in test_config.train.models
    assert 0 < record["data"]["rows"] <= test_config.data.max_rows
    assert record["metrics"].keys() == record["baseline"].keys()
    assert (test_run.output_dir / METRICS_FILE).is_file()
    assert (test_run.output_dir / MODEL_FILE).stat().st_size > 0


def test_the_saved_model_loads_and_predicts_like_the_trained_one(test_run):
    """The artifact's types are trusted for your data's classes and columns."""
    loaded = load_model(test_run.output_dir / MODEL_FILE, read_manifest(test_run.output_dir))
    x_test = test_run.split.x_test
    np.testing.assert_array_equal(loaded.predict(x_test), test_run.model.predict(x_test))


def test_model_beats_dummy_baseline_by_the_configured_margin(test_run, test_config, test_task):
    record = test_run.manifest
    metric = record["primary_metric"]
    margin = lift(test_task, metric, record["metrics"][metric], record["baseline"][metric])
    assert margin >= test_config.evaluation.min_lift_over_baseline, (
        f"{record['model']} scores {metric} {record['metrics'][metric]:.4f} against the dummy "
        f"baseline's {record['baseline'][metric]:.4f}: a lift of {margin:.4f}, below the "
        f"required {test_config.evaluation.min_lift_over_baseline} "
        f"({test_config.where('evaluation.min_lift_over_baseline')})"
    )


def test_predictions_have_the_right_shape_type_and_range(test_run, test_task):
    assert prediction_problems(test_task, test_run.model, test_run.split.x_test) == []


def test_training_is_deterministic_for_a_fixed_seed(test_run, test_config):
    split = split_rows(load_dataset(test_config).frame, test_config)
    assert split.x_test.index.equals(test_run.split.x_test.index)
    schema = infer_schema(split.x_train, test_config.data.target, test_config.columns)
    name, seed = test_run.manifest["model"], test_config.train.seed
    params = test_config.train.params.get(name)
    refit = build_model(test_config.task, name, schema, seed, n_jobs=1, params=params)
    refit.fit(split.x_train, split.y_train)
    np.testing.assert_array_equal(refit.predict(split.x_test), test_run.model.predict(split.x_test))


def test_the_prediction_check_would_find_broken_predictions(test_run, test_task):
    class Broken:
        classes_ = getattr(test_run.model, "classes_", None)

        def predict(self, features):
            return np.full(len(features), np.nan)

        def predict_proba(self, features):
            return np.full((len(features), len(self.classes_)), 0.9)

    assert prediction_problems(test_task, Broken(), test_run.split.x_test)
