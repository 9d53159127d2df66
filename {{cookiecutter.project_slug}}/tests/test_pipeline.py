"""The whole pipeline in test mode runs end to end and writes what it promises."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.artifacts import METRICS_FILE, MODEL_FILE, load_model, read_manifest
from {{ cookiecutter.package_name }}.pipeline import train
from {{ cookiecutter.package_name }}.timing import BudgetExceeded

from .conftest import PROJECT_ROOT, with_outputs_in

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
    assert list(record["timings_s"]) == ["load", "split", "fit", "evaluate", "save"]
    assert test_run.output_dir.name == "test"
    assert test_run.record["source"] == test_config.data.source
    assert (test_run.output_dir / MODEL_FILE).stat().st_size > 0


def test_saved_model_predicts_like_the_trained_one(test_run):
    loaded = load_model(test_run.output_dir / MODEL_FILE, read_manifest(test_run.output_dir))
    x_test = test_run.split.x_test
    np.testing.assert_array_equal(loaded.predict(x_test), test_run.model.predict(x_test))


def test_a_run_over_its_time_budget_fails_naming_the_step_and_the_budget(test_config, tmp_path):
    tight = dataclasses.replace(
        test_config, compute=dataclasses.replace(test_config.compute, time_budget_s=1e-6)
    )
    outputs = tmp_path / "outputs"
    with pytest.raises(BudgetExceeded, match=r"by the end of step 'load', over its budget") as info:
        train(with_outputs_in(tight, outputs), workdir=PROJECT_ROOT)
    assert "compute.time_budget_s in" in str(info.value)
    assert not outputs.exists()  # nothing half-written
