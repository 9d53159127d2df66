"""columns.weight: a column of sample weights, not a feature, that fits (where the
estimator takes sample_weight) and every metric weigh each row by."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trimode.core.errors import ConfigError, DataError
from trimode.data.synthetic import TARGETS, make_dataset
from trimode.modelling.evaluation import PredictedOnce, score
from trimode.modelling.registry import feature_schema
from trimode.modelling.splitting import split_rows
from trimode.modelling.tuning import fit_model
from trimode.workflows.train import train

from .conftest import TASK, machine_config

WEIGHT = "importance"


def weighted_config(tmp_path, weights: np.ndarray | None = None, rows: int = 1_500, **settings):
    """A test-mode config reading the built-in rows from a CSV with a weight column."""
    frame = make_dataset(TASK, rows)
    frame[WEIGHT] = weights if weights is not None else np.arange(len(frame)) % 2 + 1.0
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    base = {"data": {"source": str(path)}, "columns": {"weight": WEIGHT}}
    return machine_config(tmp_path / "project", base=base, **settings)


def test_the_weight_is_no_feature_and_predict_does_not_need_it(tmp_path):
    manifest = train(weighted_config(tmp_path)).manifest
    assert manifest["features"]["roles"][WEIGHT] == "dropped"
    assert WEIGHT not in manifest["features"]["inputs"]


def test_fits_and_metrics_weigh_each_row(tmp_path):
    """Fitting: rows of one class weighted 10 make the model predict that class more
    often; scoring: a row of weight 2 counts as two rows, on every metric."""
    frame = make_dataset(TASK, 1_500)
    target = TARGETS[TASK]
    positive = sorted(frame[target].unique())[1]
    config = weighted_config(tmp_path, weights=np.where(frame[target] == positive, 10.0, 1.0))
    rows = pd.read_csv(config.data.source.reveal())
    split = split_rows(rows, config)
    schema = feature_schema(config, rows)
    weighted = fit_model(config, "logistic_regression", schema, split.x_train, split.y_train)[0]
    plain_config = config.model_copy(
        update={"columns": config.columns.model_copy(update={"weight": ""})}
    )
    plain = fit_model(plain_config, "logistic_regression", schema, split.x_train, split.y_train)[0]
    x_test, y_test = split.x_test, split.y_test
    share = {
        name: float((model.predict(x_test) == positive).mean())
        for name, model in (("weighted", weighted), ("plain", plain))
    }
    assert share["weighted"] > share["plain"], share

    x_test = x_test.assign(**{WEIGHT: np.arange(len(x_test)) % 2 + 1.0})
    task = config.rules
    scores = score(task, PredictedOnce(weighted, x_test), x_test, y_test, WEIGHT)
    repeated = x_test.index.repeat(x_test[WEIGHT].astype(int))
    assert scores == pytest.approx(
        score(task, weighted, x_test.loc[repeated], y_test.loc[repeated])
    )
    assert scores != pytest.approx(score(task, weighted, x_test, y_test))


@pytest.mark.parametrize(("bad", "shown"), [(-1.0, "-1.0"), (np.nan, "no value")])
def test_a_weight_that_is_no_weight_is_one_line(tmp_path, bad, shown):
    weights = np.ones(1_500)
    weights[7] = bad
    with pytest.raises(
        DataError, match=rf"^columns\.weight.*'{WEIGHT}' must hold a finite"
    ) as error:
        train(weighted_config(tmp_path, weights=weights))
    # The value as the user wrote it, and how many rows hold such.
    assert str(error.value).endswith(f"got {shown} on 1 of 1500 rows")


def test_the_weight_is_not_the_target(tmp_path):
    with pytest.raises(ConfigError, match=r"key 'columns\.weight' names column .* data\.target"):
        machine_config(tmp_path, columns={"weight": TARGETS[TASK]})
