"""`compare`: every model and the dummy baseline on identical folds, saved as CSV and JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from trimode.cli.printing import print_leaderboard
from trimode.core.tasks import task_named
from trimode.data.synthetic import TARGETS, make_dataset
from trimode.modelling.compare import BASELINE, compare_models, folds_hash
from trimode.modelling.evaluation import lift
from trimode.modelling.registry import feature_schema, model_names
from trimode.modelling.splitting import split_rows
from trimode.modelling.tuning import fit_best
from trimode.workflows.compare import save_leaderboard

from .conftest import TASK, machine_config

# Cross-validation is human mode's tool, not the test-mode pipeline's: slow tests (-m
# "not slow" leaves them out).
pytestmark = pytest.mark.slow

FAST_MODELS = {
    "classification": ["logistic_regression", "hist_gradient_boosting"],
    "regression": ["ridge", "hist_gradient_boosting"],
}


@pytest.fixture(scope="module")
def test_config(tmp_path_factory):
    return machine_config(tmp_path_factory.mktemp("compare"))


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_dataset(TASK, 1_500)


def features_and_target(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    target = TARGETS[TASK]
    labelled = frame[frame[target].notna()]
    return labelled.drop(columns=target), labelled[target]


@pytest.fixture(scope="module")
def leaderboard(test_config, frame):
    return compare_models(test_config, *features_and_target(frame), FAST_MODELS[TASK])


def check_leaderboard(leaderboard, config, models):
    assert sorted(leaderboard.rows["model"]) == sorted([*models, BASELINE])
    names = task_named(config.task).metric_names
    columns = [f"{name}_{stat}" for name in names for stat in ("mean", "std")]
    values = leaderboard.rows[[*columns, "fit_time_mean", "score_time_mean"]].to_numpy(float)
    assert np.isfinite(values).all()
    # Every model, the baseline included, was scored on the very folds compare made.
    assert len(leaderboard.folds) == config.compare.cv_folds
    assert set(leaderboard.fold_hashes) == set(leaderboard.rows["model"])
    assert set(leaderboard.fold_hashes.values()) == {folds_hash(leaderboard.folds)}
    primary = leaderboard.primary_metric
    best = leaderboard.rows.iloc[0]
    baseline = leaderboard.rows.set_index("model").loc[BASELINE]
    assert best["model"] != BASELINE
    task = task_named(config.task)
    assert lift(task, primary, best[f"{primary}_mean"], baseline[f"{primary}_mean"]) > 0


def test_every_model_and_the_baseline_are_scored_on_the_same_folds(leaderboard, test_config):
    check_leaderboard(leaderboard, test_config, FAST_MODELS[test_config.task])


def test_folds_cover_every_labelled_row_once_and_repeat_for_the_seed(
    leaderboard, test_config, frame
):
    labelled = frame[test_config.data.target].notna().sum()
    tested = np.concatenate([test for _, test in leaderboard.folds])
    assert sorted(tested) == list(range(labelled))
    again = compare_models(test_config, *features_and_target(frame), FAST_MODELS[TASK][:1])
    assert folds_hash(again.folds) == folds_hash(leaderboard.folds)


def test_train_with_several_models_keeps_the_model_compare_ranks_first(test_config, frame):
    """compare and train see the same training rows and folds: one best."""
    split = split_rows(frame, test_config)
    models = model_names(test_config.project, TASK)
    board = compare_models(test_config, split.x_train, split.y_train, models)
    schema = feature_schema(test_config, frame)
    name, _, candidates, _, _ = fit_best(test_config, models, schema, split)
    assert name == board.best == board.rows.iloc[0]["model"]
    primary = test_config.evaluation.primary_metric
    assert candidates[name][primary] == pytest.approx(board.rows.iloc[0][f"{primary}_mean"])


def test_the_leaderboard_is_saved_as_csv_and_json(leaderboard, tmp_path):
    csv_path, json_path = save_leaderboard(leaderboard, tmp_path / "outputs")
    table = pd.read_csv(csv_path)
    assert list(table["model"]) == list(leaderboard.rows["model"])
    record = json.loads(json_path.read_text())
    assert record["cv_folds"] == leaderboard.cv_folds
    assert record["primary_metric"] == leaderboard.primary_metric
    assert record["folds_sha256"] == folds_hash(leaderboard.folds)
    assert [row["model"] for row in record["rows"]] == list(table["model"])


def test_the_table_shows_every_model_with_mean_and_spread(leaderboard, capsys):
    print_leaderboard(leaderboard)
    lines = capsys.readouterr().out.splitlines()
    for model in leaderboard.rows["model"]:
        row = next(line for line in lines if f" {model} " in line)
        assert row.count(" ± ") == len(task_named(leaderboard.task).metric_names) + 2


def test_every_registry_model_can_be_compared(test_config, frame):
    models = model_names(test_config.project, TASK)
    board = compare_models(test_config, *features_and_target(frame), models)
    check_leaderboard(board, test_config, models)


class CrossValidated(Exception):
    """`train` cross-validated its models (instead of reusing compare's leaderboard)."""


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """A human-mode project whose code is its own package (so that its models.py can
    change), and the leaderboard `compare` wrote there for three models."""
    from trimode.workflows.compare import compare

    from .packages import package_config

    models = ["logistic_regression", "hist_gradient_boosting", "random_forest"]
    fast = {"hist_gradient_boosting": {"max_iter": 20}, "random_forest": {"n_estimators": 20}}
    root = tmp_path_factory.mktemp("reuse")
    config = package_config(
        root, "reuse_project", mode="human", train={"models": models, "params": fast}
    )
    leaderboard, _ = compare(config, models)
    return config, leaderboard


@pytest.fixture
def no_cross_validation(monkeypatch):
    """`train` may not cross-validate: it raises CrossValidated if it tries."""
    from trimode.modelling import tuning

    def cross_validated(*args, **kwargs):
        raise CrossValidated

    monkeypatch.setattr(tuning, "compare_models", cross_validated)


@pytest.mark.parametrize(
    "models", [None, ["hist_gradient_boosting", "logistic_regression"]], ids=["all", "two"]
)
def test_train_after_compare_reuses_its_leaderboard(compared, no_cross_validation, models):
    """After `compare`, `train` on the same rows with the same settings and code keeps
    the model the leaderboard ranks first among its models (all it compared, or some)
    without cross-validating again, and says so."""
    from trimode.workflows.train import train

    config, leaderboard = compared
    names = models or config.train.models
    result = train(config, models)
    best = next(name for name in leaderboard.rows["model"] if name in names)
    assert result.manifest["model"] == best
    assert result.manifest["candidates"] == {name: leaderboard.scores(name) for name in names}
    assert any("not run again" in note for note in result.manifest["notes"])


@pytest.mark.parametrize(
    "changes",
    [
        {"train.params": {"random_forest": {"n_estimators": 20, "max_depth": 3}}},
        {"columns.drop": ["region"]},  # another feature set
        {"data.synthetic_rows": 2_900},  # other rows: another sample
        {"data.test_fraction": 0.3},  # another split
        {"compare.cv_folds": 4},  # other folds
        {"evaluation.primary_metric": "balanced_accuracy"},  # another ranking
    ],
    ids=["params", "columns", "sample", "split", "folds", "metric"],
)
def test_train_cross_validates_again_when_a_setting_or_the_rows_changed(
    compared, no_cross_validation, changes
):
    from trimode.workflows.session import load_config
    from trimode.workflows.train import train

    config, _ = compared
    with pytest.raises(CrossValidated):
        train(load_config("human", config.config_dir, changes))


def test_train_cross_validates_again_when_the_registry_code_changed(compared, no_cross_validation):
    from trimode.workflows.train import train

    config, _ = compared
    models = config.project.package_dir / "models.py"
    text = models.read_text(encoding="utf-8")
    models.write_text(text + "\n# an edit: the pipelines may differ now\n", encoding="utf-8")
    try:
        with pytest.raises(CrossValidated):
            train(config)
    finally:
        models.write_text(text, encoding="utf-8")
