"""The whole pipeline in test mode: it runs end to end and its model is not garbage."""

from __future__ import annotations

import json

import numpy as np
import skops.io as sio

from {{ cookiecutter.package_name }}.artifacts import METRICS_FILE, MODEL_FILE
from {{ cookiecutter.package_name }}.evaluation import lift

REQUIRED_KEYS = {
    "mode",
    "model",
    "task",
    "n_rows",
    "metrics",
    "baseline",
    "primary_metric",
    "git_commit",
    "duration_s",
}


def test_writes_model_and_metrics(test_run, test_config):
    record = json.loads((test_run.output_dir / METRICS_FILE).read_text())
    assert record.keys() >= REQUIRED_KEYS
    assert record["mode"] == "test"
    assert record["task"] == test_config.task
    assert record["model"] in test_config.train.models
    assert 0 < record["n_rows"] <= test_config.data.max_rows
    assert record["metrics"].keys() == record["baseline"].keys()
    assert set(record["timings_s"]) == {"load", "split", "fit", "evaluate"}
    assert test_run.output_dir.name == "test"
    assert (test_run.output_dir / MODEL_FILE).stat().st_size > 0


def test_model_beats_dummy_baseline_by_the_configured_margin(test_run, test_config):
    record = test_run.record
    metric = record["primary_metric"]
    margin = lift(test_config.task, metric, record["metrics"][metric], record["baseline"][metric])
    assert margin >= test_config.evaluation.min_lift_over_baseline, record


def test_saved_model_predicts_like_the_trained_one(test_run):
    path = test_run.output_dir / MODEL_FILE
    # Trust exactly the types skops lists: all come from the libraries the project uses.
    untrusted = sio.get_untrusted_types(file=path)
    assert all(name.split(".")[0] in {"sklearn", "numpy", "builtins"} for name in untrusted)
    loaded = sio.load(path, trusted=untrusted)
    x_test = test_run.split.x_test
    np.testing.assert_array_equal(loaded.predict(x_test), test_run.model.predict(x_test))


def test_predictions_have_the_right_shape_and_range(test_run, test_config):
    x_test = test_run.split.x_test
    predictions = test_run.model.predict(x_test)
    assert predictions.shape == (len(x_test),)
    if test_config.task == "classification":
        probabilities = test_run.model.predict_proba(x_test)
        assert probabilities.shape == (len(x_test), len(test_run.model.classes_))
        assert np.all((probabilities >= 0) & (probabilities <= 1))
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
        assert set(np.unique(predictions)) <= set(test_run.model.classes_)
    else:
        assert np.all(np.isfinite(predictions))
