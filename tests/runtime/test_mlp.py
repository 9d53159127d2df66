"""The registry's neural network (`mlp`, both tasks): it ranks in compare's leaderboard
beside the other models, its published artifact loads through the trusted load and
predicts exactly what the trained model predicted, and the regressor learns a target of
any size (trimode's ScaledTargetMLPRegressor standardises it) with MLPRegressor's own,
flat hyper-parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor

from trimode import ScaledTargetMLPRegressor
from trimode.artifacts.model_file import load_model
from trimode.config.model import ColumnsConfig
from trimode.core.layout import MODEL_FILE
from trimode.core.tasks import task_named
from trimode.data.schema import infer_schema
from trimode.data.synthetic import TARGETS, make_dataset, with_date_and_text
from trimode.modelling.behaviour import PASSED
from trimode.modelling.compare import BASELINE, compare_models
from trimode.modelling.evaluation import lift
from trimode.modelling.registry import build_model, class_path, feature_schema, make_estimator
from trimode.modelling.splitting import split_rows
from trimode.workflows.compare import compare
from trimode.workflows.report import published_model
from trimode.workflows.session import check_expectations
from trimode.workflows.train import train

from .conftest import machine_config
from .real_sets import real_set_settings

TASKS = ["classification", "regression"]
# A model compare ranks the network beside, per task.
BESIDE = {"classification": "logistic_regression", "regression": "ridge"}


def labelled(task: str, rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Rows of the built-in data set whose target is known: features, target."""
    frame = make_dataset(task, rows, seed=seed)
    frame = frame[frame[TARGETS[task]].notna()]
    return frame.drop(columns=TARGETS[task]), frame[TARGETS[task]]


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_the_mlp_ranks_in_the_leaderboard_above_the_baseline(task, tmp_path):
    config = machine_config(tmp_path, task=task)
    board = compare_models(config, *labelled(task, 3_000), ["mlp", BESIDE[task]])
    rows = board.rows.set_index("model")
    assert set(rows.index) == {"mlp", BESIDE[task], BASELINE}
    primary = board.primary_metric
    value, baseline = rows.loc["mlp", f"{primary}_mean"], rows.loc[BASELINE, f"{primary}_mean"]
    assert np.isfinite(rows.loc["mlp", f"{primary}_std"])
    assert lift(task_named(task), primary, value, baseline) > 0.05
    # Its hyper-parameters, as the leaderboard keeps them: the registry's, flat.
    assert board.params["mlp"]["hidden_layer_sizes"] == (64, 32)


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_the_published_mlp_loads_trusted_and_predicts_exactly(task, tmp_path):
    config = machine_config(tmp_path, task=task, train={"models": ["mlp"]})
    result = train(config)
    loaded, record = published_model(config)  # the trusted load predict and serve use
    assert record["model"] == "mlp"
    assert record["estimator"] == class_path(result.model.named_steps["model"])
    assert record["params"]["hidden_layer_sizes"] == [64, 32]
    new_rows = make_dataset(task, 300, seed=7).drop(columns=TARGETS[task])
    np.testing.assert_array_equal(loaded.predict(new_rows), result.model.predict(new_rows))
    if task == "classification":
        np.testing.assert_array_equal(
            loaded.predict_proba(new_rows), result.model.predict_proba(new_rows)
        )
    # Trusted from the class and hyper-parameters recorded (trimode's regressor, too):
    # a registry entry renamed since training breaks no published network.
    renamed = load_model(result.output_dir / MODEL_FILE, {**record, "model": "old"}, config.project)
    np.testing.assert_array_equal(renamed.predict(new_rows), result.model.predict(new_rows))


@pytest.mark.slow
def test_the_regressor_learns_a_target_in_millions_in_its_units(tmp_path):
    """The built-in target times 1e6: the registry's network still explains most of it,
    in the target's units; scikit-learn's MLPRegressor with the same settings, on the
    same features, does not (what standardising is for)."""
    config = machine_config(tmp_path, task="regression")
    x, y = labelled("regression", 4_000)
    y = y * 1e6
    x_train, x_test, y_train, y_test = train_test_split(x, y, random_state=0)
    schema = infer_schema(x_train, TARGETS["regression"])
    network = build_model(config.project, "regression", "mlp", schema, seed=0, n_jobs=1)
    predicted = network.fit(x_train, y_train).predict(x_test)
    assert r2_score(y_test, predicted) > 0.5  # the mean's R² is about 0
    assert abs(predicted.mean() - y_test.mean()) < 0.2 * y_test.std()
    raw = build_model(config.project, "regression", "mlp", schema, seed=0, n_jobs=1)
    raw.steps[-1] = ("model", MLPRegressor(**network.named_steps["model"].get_params()))
    assert r2_score(y_test, raw.fit(x_train, y_train).predict(x_test)) < 0.5


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_the_network_holds_the_projects_expectations_on_the_built_in_data(task, tmp_path):
    """The expectations the project ships (the device does not matter, more support calls
    mean more churn and less value) hold for the registry's network as for its boosting:
    without its penalty (alpha) the regressor's predictions moved with the device."""
    config = machine_config(tmp_path, task=task, base={"data": {"synthetic_rows": 5_000}})
    split = split_rows(make_dataset(task, 5_000, seed=config.train.seed), config)
    schema = feature_schema(config, split.x_train)
    network = build_model(config.project, task, "mlp", schema, config.train.seed, n_jobs=1)
    network.fit(split.x_train, split.y_train)
    outcomes = check_expectations(config, network, split.x_test, schema)
    assert len(outcomes) == 3
    assert all(outcome.status == PASSED for outcome in outcomes), [o.summary for o in outcomes]


@pytest.mark.slow
def test_variants_of_the_regressor_name_mlpregressors_parameters(tmp_path):
    """The issue's grid, on the regressor: its parameters are flat (no `regressor__`), so
    `[compare.variants.mlp]` names them as for the classifier, one row each."""
    sizes = [[16], [32, 16], [64, 32, 16]]
    config = machine_config(
        tmp_path,
        "human",
        task="regression",
        compare={"models": ["mlp"], "variants": {"mlp": {"hidden_layer_sizes": sizes}}},
    )
    leaderboard, _ = compare(config)
    rows = leaderboard.rows.set_index("model")
    for place, size in enumerate(sizes, start=1):
        assert leaderboard.params[f"mlp#{place}"]["hidden_layer_sizes"] == size
        assert np.isfinite(rows.loc[f"mlp#{place}", "r2_mean"])


def test_its_hyper_parameters_are_mlpregressors_own(tmp_path):
    config = machine_config(tmp_path, task="regression")
    network = make_estimator(config.project, "regression", "mlp")
    assert isinstance(network, ScaledTargetMLPRegressor)
    assert network.get_params().keys() == MLPRegressor().get_params().keys()


def numbers(rows: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Features and a target in the thousands."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    return x, 5_000 + 2_000 * x[:, 0] + rng.normal(size=rows)


def test_the_target_is_standardised_with_the_sample_weights():
    x, y = numbers()
    weights = np.linspace(0.0, 2.0, len(y))
    network = ScaledTargetMLPRegressor(max_iter=20, random_state=0)
    with pytest.warns(UserWarning, match="Maximum iterations"):  # 20 iterations: on purpose
        network.fit(x, y, sample_weight=weights)
    mean = np.average(y, weights=weights)
    np.testing.assert_allclose(network.y_mean_, [mean])
    np.testing.assert_allclose(
        network.y_scale_, [np.sqrt(np.average((y - mean) ** 2, weights=weights))]
    )


def test_a_constant_target_is_predicted_as_itself():
    x, _ = numbers()
    network = ScaledTargetMLPRegressor(random_state=0).fit(x, np.full(len(x), 7.5))
    assert network.y_scale_.tolist() == [1.0]  # not 0: nothing is divided by it
    np.testing.assert_allclose(network.predict(x), 7.5, atol=0.1)


def test_warm_start_keeps_the_first_fits_scale():
    x, y = numbers()
    network = ScaledTargetMLPRegressor(max_iter=500, warm_start=True, random_state=0).fit(x, y)
    first = network.y_mean_.copy(), network.y_scale_.copy()
    network.fit(x, y + 1_000)
    np.testing.assert_array_equal(network.y_mean_, first[0])
    np.testing.assert_array_equal(network.y_scale_, first[1])


def test_partial_fit_is_refused_not_fitted_on_the_raw_target():
    x, y = numbers()
    network = ScaledTargetMLPRegressor()
    assert not hasattr(network, "partial_fit")  # tools that probe for it see none
    with pytest.raises(AttributeError, match=r"standardises its target .* use fit"):
        network.partial_fit(x, y)


@pytest.mark.parametrize("task", TASKS)
def test_the_network_sees_every_kind_of_column_scaled(task, tmp_path):
    """Its preprocessing (features.py's build_preprocessor) leaves no column on its raw
    scale: numbers and the parts of dates standardised, categories one-hot, text TF-IDF
    weights (0 to 1). A year of 2020 or a count in thousands would swamp a network."""
    config = machine_config(tmp_path, task=task)
    frame = with_date_and_text(make_dataset(task, 2_000))
    schema = infer_schema(frame, TARGETS[task], ColumnsConfig(text=["feedback"]))
    assert schema.numeric and schema.categorical and schema.dates and schema.text
    network = build_model(config.project, task, "mlp", schema, seed=0, n_jobs=1)
    features = network[:-1].fit_transform(frame.drop(columns=TARGETS[task]), frame[TARGETS[task]])
    matrix = features.toarray() if scipy.sparse.issparse(features) else np.asarray(features)
    assert np.isfinite(matrix).all()
    within_0_and_1 = (matrix.min(axis=0) >= 0) & (matrix.max(axis=0) <= 1)
    standardised = matrix[:, ~within_0_and_1]
    # The numbers and the five parts of each date; a constant part (one year) is all 0.
    assert standardised.shape[1] >= len(schema.numeric) + 4
    np.testing.assert_allclose(standardised.mean(axis=0), 0, atol=1e-9)
    assert np.all((np.abs(standardised.std(axis=0) - 1) < 1e-6) | (standardised.std(axis=0) == 0))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "task"), [("breast-cancer", "classification"), ("diabetes", "regression")]
)
def test_on_real_data_the_network_ranks_and_its_artifact_predicts_exactly(tmp_path, name, task):
    """Data nobody here made: the network beats the baseline in the leaderboard, and the
    model it publishes loads trusted and predicts what the fitted one did."""
    settings = real_set_settings(tmp_path, name)
    settings["compare"]["models"].append("mlp")
    settings["train"] = {"models": ["mlp"]}
    config = machine_config(tmp_path, "human", task, base=settings)
    board = compare(config)[0]
    rows = board.rows.set_index("model")[f"{board.primary_metric}_mean"]
    greater = board.rules.metric(board.primary_metric).greater_is_better
    assert (rows["mlp"] > rows[BASELINE]) if greater else (rows["mlp"] < rows[BASELINE])
    result = train(config)
    loaded, record = published_model(config)
    assert record["model"] == "mlp"
    held_out = result.split.x_test
    np.testing.assert_array_equal(loaded.predict(held_out), result.model.predict(held_out))
    if task == "classification":
        np.testing.assert_array_equal(
            loaded.predict_proba(held_out), result.model.predict_proba(held_out)
        )
