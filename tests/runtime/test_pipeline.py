"""The pipeline runs end to end, writes what it promises, and handles every kind of
column and target: two or more classes (text or integer labels), IDs, dates, free text."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from trimode.artifacts.manifest import FIELDS, METRICS_FIELDS
from trimode.artifacts.model_file import load_model, read_manifest
from trimode.artifacts.skops_io import types_in
from trimode.core.layout import METRICS_FILE, MODEL_CARD_FILE, MODEL_FILE
from trimode.core.project import find_project
from trimode.core.specs import FeatureSchema
from trimode.data.synthetic import make_dataset, with_date_and_text
from trimode.modelling.evaluation import per_class, weak_classes
from trimode.modelling.timing import BudgetExceeded, StepTimer
from trimode.workflows.train import train

from .conftest import TASK, machine_config


# The runtime's own run; the plugin's checks (trimode.testing) check the same of a project's
# run on every commit.
@pytest.mark.slow
def test_writes_model_and_one_record_of_the_run(machine_run):
    manifest = read_manifest(machine_run.output_dir)
    assert list(manifest) == list(FIELDS)
    assert (manifest["mode"], manifest["task"], manifest["data"]["rows"]) == ("test", TASK, 3_000)
    assert manifest["split"]["n_train"] + manifest["split"]["n_test"] == 3_000
    assert manifest["metrics"].keys() == manifest["baseline"].keys()
    assert list(manifest["timings_s"]) == ["load", "split", "fit", "evaluate", "importance", "save"]
    assert (machine_run.output_dir / MODEL_FILE).stat().st_size > 0
    # Why the model decides: every input column's importance, on the held-out rows.
    importance = manifest["importance"]
    assert {item["feature"] for item in importance["features"]} == set(
        manifest["features"]["inputs"]
    )
    assert (importance["metric"], importance["rows"]) == (
        manifest["primary_metric"],
        manifest["split"]["n_test"],
    )


@pytest.mark.slow
def test_metrics_json_is_the_results_subset_of_the_manifest(machine_run):
    """One name per fact: every key of metrics.json is the manifest's, with its value."""
    text = (machine_run.output_dir / METRICS_FILE).read_text(encoding="utf-8")
    metrics = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in metrics.json"))
    manifest = read_manifest(machine_run.output_dir)
    assert list(metrics) == list(METRICS_FIELDS)
    assert metrics == {field: manifest[field] for field in METRICS_FIELDS}
    assert machine_run.manifest == manifest


@pytest.mark.slow
def test_the_model_card_beside_the_model_is_filled_from_its_manifest(machine_run):
    manifest = machine_run.manifest
    card = (machine_run.output_dir / MODEL_CARD_FILE).read_text(encoding="utf-8")
    assert card.startswith(f"# Model card: {manifest['model']} (test mode)")
    assert manifest["artifact"]["sha256"] in card
    assert manifest["data"]["content_hash"] in card
    for name, value in manifest["metrics"].items():
        assert f"| {name} | {value:.4g} | {manifest['baseline'][name]:.4g} |" in card
    assert "quality gate passed" in card


@pytest.mark.slow
def test_saved_model_predicts_like_the_trained_one(machine_run):
    project = find_project(machine_run.output_dir)
    manifest = read_manifest(machine_run.output_dir)
    loaded = load_model(machine_run.output_dir / MODEL_FILE, manifest, project)
    x_test = machine_run.split.x_test
    np.testing.assert_array_equal(loaded.predict(x_test), machine_run.model.predict(x_test))


def test_a_run_over_its_time_budget_fails_naming_the_budget(tmp_path):
    tight = machine_config(tmp_path, compute={"time_budget_s": 1e-6})
    # The watchdog stops it wherever it is (see test_hangs.py for a step it stops).
    with pytest.raises(BudgetExceeded, match=r"its budget of 1e-06 s") as info:
        train(tight)
    assert "compute.time_budget_s in" in str(info.value)
    assert not (tmp_path / "outputs").exists()  # nothing half-written


def test_a_step_that_ends_over_the_budget_fails_naming_it_and_the_slowest():
    timer = StepTimer(1e-6, "compute.time_budget_s")
    expected = r"by the end of step 'load', over its budget"
    with pytest.raises(BudgetExceeded, match=expected), timer.step("load"):
        pass


def user_table(rows: int = 1_200, seed: int = 0) -> pd.DataFrame:
    """The built-in customers as a user's export: an ID, a date, free text, and the plan
    they chose as a three-class target with text labels."""
    frame = with_date_and_text(make_dataset("classification", rows, seed=seed), seed=seed)
    frame.insert(0, "customer_id", np.arange(10_000, 10_000 + rows))
    # Dates as a CSV export writes them, not as a date type.
    frame["signup_date"] = frame["signup_date"].dt.strftime("%Y/%m/%d")
    return frame.drop(columns="churned")


@pytest.fixture(scope="module")
def multiclass_source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("multiclass")
    user_table().to_csv(folder / "customers.csv", index=False)
    return folder


def customers_config(source_folder, name: str, **columns):
    """A test-mode config predicting the plan from the customers table, with these roles."""
    return machine_config(
        source_folder / name,
        task="classification",
        base={"data": {"source": str(source_folder / "customers.csv"), "target": "plan"}},
        columns=columns,
    )


@pytest.mark.slow
def test_an_undeclared_id_and_date_text_are_named_with_the_line_to_add(multiclass_source):
    config = customers_config(multiclass_source, "undeclared", text=["feedback"])
    notes = train(config).notes
    assert any("'customer_id' looks like an ID" in note for note in notes), notes
    assert any("'signup_date' looks like dates written as text" in note for note in notes)
    assert any(note.endswith('ids = ["customer_id"]') for note in notes), notes
    assert any(note.endswith('dates = ["signup_date"]') for note in notes), notes


@pytest.mark.slow
def test_ids_dates_and_text_take_their_roles_and_three_text_classes_load(multiclass_source):
    config = customers_config(
        multiclass_source, "declared", ids=["customer_id"], dates=["signup_date"], text=["feedback"]
    )
    result = train(config)
    assert not [note for note in result.notes if "looks like" in note], result.notes
    manifest = read_manifest(config.output_dir)
    roles = manifest["features"]["roles"]
    assert (roles["customer_id"], roles["signup_date"], roles["feedback"]) == ("id", "date", "text")
    assert roles["plan"] == "target" and roles["age"] == "numeric"
    assert manifest["classes"] == ["basic", "premium", "standard"]
    assert [row["class"] for row in manifest["per_class"]] == manifest["classes"]
    content = (config.output_dir / MODEL_FILE).read_bytes()
    assert not [kind for kind in types_in(content) if kind.startswith(("datetime", "pandas"))]
    model = load_model(config.output_dir / MODEL_FILE, manifest, config.project)
    rows = user_table(50, seed=1).drop(columns="plan")
    np.testing.assert_allclose(model.predict_proba(rows), result.model.predict_proba(rows))
    assert set(model.predict(rows)) <= set(manifest["classes"])
    # The schema the model was built for is recorded with it, the ID left out.
    assert "customer_id" not in result.schema.columns
    assert FeatureSchema.from_record(manifest["features"]) == result.schema
    assert "customer_id" not in manifest["features"]["inputs"]
    assert sio.get_untrusted_types(data=content)  # skops alone would not load it blindly


def test_a_class_the_model_never_predicts_is_named(tmp_path):
    y = pd.Series(["a"] * 40 + ["b"] * 50 + ["c"] * 10)
    predicted = np.array(["a"] * 45 + ["b"] * 55)
    table = per_class(y, predicted, ["a", "b", "c"])
    assert table.loc["c", ["rows", "predicted", "recall"]].tolist() == [10, 0, 0.0]
    warnings = list(weak_classes(table, machine_config(tmp_path)).values())
    assert len(warnings) == 1 and "class 'c' is never predicted" in warnings[0]
    assert "10 of them hold it" in warnings[0]


def test_a_class_predicted_only_where_it_is_not_is_named(tmp_path):
    y = pd.Series(["a"] * 45 + ["b"] * 45 + ["c"] * 10)
    predicted = np.array(["a"] * 43 + ["c"] * 2 + ["b"] * 55)  # 'c' twice, both wrong
    table = per_class(y, predicted, ["a", "b", "c"])
    assert table.loc["c", ["rows", "predicted", "recall"]].tolist() == [10, 2, 0.0]
    warnings = list(weak_classes(table, machine_config(tmp_path)).values())
    assert len(warnings) == 1 and "class 'c' is predicted 2 times" in warnings[0]
    assert "found in 0 of the 10 that hold it" in warnings[0]


@pytest.mark.slow
def test_a_run_warns_about_a_class_without_signal(tmp_path):
    frame = make_dataset("classification", 2_000, seed=4)
    noise = np.random.default_rng(0).random(len(frame)) < 0.04  # 4% of rows, at random
    frame["outcome"] = np.where(noise, "lost", np.where(frame["churned"] == 1, "left", "stayed"))
    frame.drop(columns="churned").to_parquet(tmp_path / "rows.parquet", index=False)
    config = machine_config(
        tmp_path,
        task="classification",
        base={"data": {"source": str(tmp_path / "rows.parquet"), "target": "outcome"}},
    )
    result = train(config)
    # Never, or almost never (at most a tenth of the rows that hold it).
    assert [w for w in result.warnings if w.startswith("class 'lost' is ")], result.warnings
    assert result.manifest["warnings"] == result.warnings
