"""A derived column (features.py's add_features): computed inside the saved model, so
training, loading, the report and `predict` all derive it from the raw columns alike; the
run records the feature schema with it and the raw columns the model reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trimode.artifacts.model_file import load_model, read_manifest
from trimode.core.errors import DataError
from trimode.core.layout import MODEL_FILE
from trimode.core.specs import FeatureSchema
from trimode.data.synthetic import TARGETS, make_dataset
from trimode.workflows.predict import predict_file
from trimode.workflows.report import build_report
from trimode.workflows.session import load_data
from trimode.workflows.train import train

from .conftest import TASK
from .packages import package_config

pytestmark = pytest.mark.slow

DERIVED = "calls_per_month"
# features.py's add_features, made to derive a column from two others.
ADD_FEATURES = {
    "features.py": [
        (
            "    return frame\n",
            f'    return frame.assign({DERIVED}=frame["support_calls"] / '
            '(frame["tenure_months"] + 1))\n',
        )
    ]
}


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    """A project whose add_features derives a column, and its test-mode run."""
    # A linear model: its weights show what it reads.
    one_model = {"models": ["logistic_regression"]}
    config = package_config(
        tmp_path_factory.mktemp("derived"), "derived", ADD_FEATURES, train=one_model
    )
    return config, train(config)


def raw_rows(count: int = 200) -> pd.DataFrame:
    """Unseen rows as a source holds them: no target, no derived column."""
    return make_dataset(TASK, count, seed=7).drop(columns=TARGETS[TASK])


def test_the_record_holds_the_schema_with_the_derived_column_and_the_raw_inputs(derived):
    config, result = derived
    assert DERIVED in result.schema.numeric
    features = read_manifest(config.output_dir)["features"]
    assert FeatureSchema.from_record(features) == result.schema
    source_columns = [name for name in load_data(config).frame.columns if name != TARGETS[TASK]]
    assert features["inputs"] == source_columns
    assert DERIVED not in features["inputs"]
    assert (features["dtypes"][DERIVED], features["roles"][DERIVED]) == ("derived", "numeric")


def test_the_saved_model_derives_the_column_from_raw_rows(derived):
    config, result = derived
    manifest = read_manifest(config.output_dir)
    model = load_model(config.output_dir / MODEL_FILE, manifest, config.project)
    rows = raw_rows()
    assert model.steps[0][0] == "add_features"
    assert DERIVED in model[:1].transform(rows).columns
    assert DERIVED in model.named_steps["preprocess"].feature_names_in_
    expected = result.model.predict_proba(rows)
    np.testing.assert_allclose(model.predict_proba(rows), expected)
    # The model computes the column itself: a value given for it is replaced.
    np.testing.assert_allclose(model.predict_proba(rows.assign(**{DERIVED: 1e6})), expected)
    # And the model reads it: the logistic regression gives it a weight.
    names = list(model.named_steps["preprocess"].get_feature_names_out())
    assert model.named_steps["model"].coef_[0, names.index(DERIVED)] != 0


def test_predict_scores_raw_rows_and_names_a_missing_input(derived, tmp_path):
    config, result = derived
    rows = raw_rows()
    rows.to_csv(tmp_path / "rows.csv", index=False)
    scored = predict_file(
        config.project,
        str(tmp_path / "rows.csv"),
        tmp_path / "out.csv",
        config.output_dir,
        allow_non_production=True,
    )
    assert (scored.rows, scored.ignored_columns) == (len(rows), [])
    written = pd.read_csv(tmp_path / "out.csv")
    np.testing.assert_array_equal(written["prediction"], result.model.predict(rows))
    # A column the derived one is made from is an input like any other.
    rows.drop(columns="tenure_months").to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(DataError, match=r"missing column\(s\) the model needs: tenure_months"):
        predict_file(
            config.project,
            str(tmp_path / "short.csv"),
            tmp_path / "short-out.csv",
            config.output_dir,
            allow_non_production=True,
        )


def test_the_report_shows_the_derived_column(derived):
    config, _ = derived
    page = build_report(config).read_text(encoding="utf-8")
    assert f"<td>{DERIVED}</td>" in page or f"<th>{DERIVED}</th>" in page
