"""The metric the user cares about: any scikit-learn scorer, or one of the project's own
(METRICS of its metrics.py), used alike by compare, train, the gate and the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from trimode.cli.main import main
from trimode.core.errors import ConfigError, DataError, ProjectError
from trimode.data.loading import load_dataset
from trimode.modelling.compare import compare_models
from trimode.modelling.registry import class_weight_warning, model_params
from trimode.modelling.splitting import split_rows
from trimode.modelling.threshold import fit_deciding
from trimode.workflows.predict import predict_file
from trimode.workflows.report import build_report, published_model
from trimode.workflows.session import load_config
from trimode.workflows.train import train

from .conftest import machine_config, make_configs, write_pyproject


def test_a_scikit_learn_scorer_is_the_primary_metric_with_its_direction(tmp_path):
    config = machine_config(tmp_path, evaluation={"primary_metric": "neg_brier_score"})
    result = train(config)
    manifest = result.manifest
    assert manifest["primary_metric"] == "neg_brier_score"
    model, baseline = (
        manifest["metrics"]["neg_brier_score"],
        manifest["baseline"]["neg_brier_score"],
    )
    # The Brier score itself (lower is better), and the lift says how much lower.
    assert 0 <= model < baseline
    assert manifest["lift_over_baseline"] == pytest.approx(baseline - model)
    assert manifest["gate"]["checks"][0]["check"].startswith("lift of neg_brier_score")


def test_the_users_own_metric_ranks_compare_and_judges_train(tmp_path):
    config = machine_config(
        tmp_path,
        evaluation={"primary_metric": "cost", "thresholds": {"cost": 5.0}},
        train={"models": ["logistic_regression", "hist_gradient_boosting"]},
    )
    split = split_rows(load_dataset(config).frame, config)
    leaderboard = compare_models(config, split.x_train, split.y_train)
    costs = leaderboard.rows.set_index("model")["cost_mean"]
    # Lower is better: the best model first, the dummy baseline (never a positive) costly.
    assert list(costs) == sorted(costs)
    assert leaderboard.to_json()["greater_is_better"] is False
    manifest = train(config).manifest
    assert manifest["metrics"]["cost"] < manifest["baseline"]["cost"]
    assert manifest["lift_over_baseline"] > 0
    assert {"check": "cost", "required": "<= 5"}.items() <= manifest["gate"]["checks"][1].items()


def test_an_unknown_metric_is_one_line_saying_where_the_names_are(tmp_path):
    with pytest.raises(ConfigError) as error:
        machine_config(tmp_path, evaluation={"primary_metric": "nope"})
    message = str(error.value)
    assert "\n" not in message
    assert "evaluation.primary_metric" in message and "get_scorer_names()" in message
    assert "starter.metrics" in message


def test_a_misspelled_metric_is_told_the_close_names(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown metric 'rocauc' \(did you mean 'roc_auc'"):
        machine_config(tmp_path, evaluation={"primary_metric": "rocauc"})


OWN_METRICS = """
from sklearn.metrics import make_scorer


def broken(y_true, y_pred):
    raise ValueError("oops")


def plain(y_true, y_pred):
    return 0.0


def nothing(y_true, y_pred):
    return float("nan")


METRICS = {"broken": make_scorer(broken), "plain": plain, "nothing": make_scorer(nothing)}
"""


def own_metrics(tmp_path: Path, package: str) -> Path:
    """A project whose metrics module is package.metrics (OWN_METRICS), importable."""
    (tmp_path / package).mkdir(parents=True)
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "metrics.py").write_text(OWN_METRICS)
    return tmp_path


def test_a_metric_of_the_users_without_a_direction_raising_or_nan_is_one_line(
    tmp_path, monkeypatch
):
    monkeypatch.syspath_prepend(str(own_metrics(tmp_path / "code", "careless")))
    root = tmp_path / "project"
    configs = make_configs(root)
    text = (root / "pyproject.toml").read_text().replace("starter.metrics", "careless.metrics")
    (root / "pyproject.toml").write_text(text)
    (configs / "test.toml").write_text('[evaluation]\nprimary_metric = "plain"\n')
    # A plain function says not which way is better.
    with pytest.raises(
        ConfigError, match=r"METRICS\['plain'\] of careless\.metrics must be a scorer"
    ):
        load_config("test", configs)
    (configs / "test.toml").write_text('[evaluation]\nprimary_metric = "broken"\n')
    with pytest.raises(ProjectError) as error:
        train(load_config("test", configs))
    assert str(error.value).endswith("metrics.py: METRICS['broken'] raised ValueError: oops")
    # One that returns no number on rows of both classes: its function is at fault, not
    # the rows (more rows would not help).
    (configs / "test.toml").write_text('[evaluation]\nprimary_metric = "nothing"\n')
    with pytest.raises(ProjectError) as error:
        train(load_config("test", configs))
    assert "metrics.py: METRICS['nothing'] returned nan on the " in str(error.value)
    assert "(2 classes)" in str(error.value) and "more rows" not in str(error.value)
    assert not (root / "outputs").exists()


def test_a_threshold_tuned_for_f1_is_recorded_and_applied_by_the_loaded_model(tmp_path):
    config = machine_config(tmp_path, evaluation={"threshold": "f1"})
    result = train(config)
    threshold = result.manifest["decision_threshold"]
    assert threshold["tuned_for"] == "f1" and 0 < threshold["value"] < 1
    x = result.split.x_test
    positive = threshold["positive_class"]
    probability = result.model.predict_proba(x)[:, list(result.model.classes_).index(positive)]
    assert ((result.model.predict(x) == positive) == (probability >= threshold["value"])).all()


def test_train_says_how_rows_were_split_and_where_the_threshold_lies(tmp_path, capsys):
    configs = make_configs(tmp_path, test={"evaluation": {"threshold": "f1"}})
    assert main(["train", "--mode", "test", "--config-dir", str(configs)]) == 0
    said = capsys.readouterr().out
    manifest = json.loads((tmp_path / "outputs" / "test" / "manifest.json").read_text())
    split, threshold = manifest["split"], manifest["decision_threshold"]
    assert f"rows split: random, by each row's values: {split['n_train']} rows" in said
    assert (
        f"decision threshold: class {threshold['positive_class']!r} when its probability "
        f"reaches {threshold['value']:.3f} (tuned for f1)"
    ) in said


@pytest.fixture(scope="module")
def breast_cancer_csv(tmp_path_factory) -> Path:
    """scikit-learn's bundled breast cancer set, its target named by the diagnosis."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.rename(columns={"target": "diagnosis"})
    frame["diagnosis"] = np.asarray(bunch.target_names)[bunch.target]  # benign < malignant
    path = tmp_path_factory.mktemp("breast-cancer") / "breast_cancer.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_threshold_tuned_for_a_cost_lowers_the_cost_on_held_out_rows(tmp_path, breast_cancer_csv):
    """The template's cost (a missed malignant tumour costs 10 false alarms) on real data:
    the threshold tuned for it on the training rows is not 0.5, and on held-out rows the
    model costs less at it than at 0.5. A held-out set of a hundred rows differs by a
    tumour or two, so the costs are summed over three splits (seeds) of 40% held out."""
    from starter.metrics import cost

    totals = {"tuned": 0.0, "at 0.5": 0.0}
    for seed in range(3):
        config = machine_config(
            tmp_path / str(seed),
            base={
                "data": {
                    "source": str(breast_cancer_csv),
                    "target": "diagnosis",
                    "test_fraction": 0.4,
                },
                "train": {"models": ["logistic_regression"], "seed": seed},
                "evaluation": {"primary_metric": "cost", "threshold": "cost"},
            },
        )
        result = train(config)
        threshold = result.manifest["decision_threshold"]
        assert threshold["tuned_for"] == "cost" and threshold["positive_class"] == "malignant"
        assert threshold["value"] != pytest.approx(0.5, abs=0.01)
        x, y = result.split.x_test, result.split.y_test
        at_threshold = cost(y, result.model.predict(x))
        assert result.manifest["metrics"]["cost"] == pytest.approx(at_threshold)
        totals["tuned"] += at_threshold * len(y)
        totals["at 0.5"] += cost(y, result.model.model.predict(x)) * len(y)
    assert totals["tuned"] < totals["at 0.5"], totals


def test_the_report_shows_the_threshold_and_counts_at_it(tmp_path):
    config = machine_config(tmp_path, evaluation={"threshold": 0.3})
    result = train(config)
    assert result.manifest["decision_threshold"]["value"] == 0.3
    page = build_report(config).read_text()
    assert "Decision threshold" in page and "chosen" in page
    model, record = published_model(config)
    x = result.split.x_test
    positive = record["decision_threshold"]["positive_class"]
    probability = model.predict_proba(x)[:, list(model.classes_).index(positive)]
    assert ((model.predict(x) == positive) == (probability >= 0.3)).all()
    # What predict writes is what the model decides at the threshold.
    assert (model.predict(x) == result.model.predict(x)).all()
    x.to_csv(tmp_path / "rows.csv", index=False)
    predict_file(
        config.project,
        str(tmp_path / "rows.csv"),
        tmp_path / "out.csv",
        config.output_dir,
        allow_non_production=True,
    )
    written = pd.read_csv(tmp_path / "out.csv")["prediction"].astype(str)
    assert (written.to_numpy() == model.predict(x).astype(str)).all()
    assert not (written.to_numpy() == model.model.predict(x).astype(str)).all()


@pytest.mark.parametrize(
    ("task", "section", "key", "value"),
    [
        ("regression", "evaluation", "threshold", "f1"),
        ("regression", "train", "class_weight", "balanced"),
        ("classification", "evaluation", "threshold", 1.5),
    ],
)
def test_a_decision_setting_that_does_not_fit_is_one_line(tmp_path, task, section, key, value):
    with pytest.raises(ConfigError) as error:
        machine_config(tmp_path, task=task, **{section: {key: value}})
    assert "\n" not in str(error.value) and f"{section}.{key}" in str(error.value)


def test_a_threshold_on_more_than_two_classes_is_one_line(tmp_path):
    config = machine_config(tmp_path, evaluation={"threshold": "f1"})
    x = pd.DataFrame({"x": np.arange(30.0)})
    y = pd.Series(np.arange(30) % 3, name=config.data.target)
    with pytest.raises(DataError, match=r"^evaluation\.threshold .* holds 3: remove it$"):
        fit_deciding(config, LogisticRegression(), x, y)


def test_balanced_class_weight_reaches_the_models_that_take_it(tmp_path, monkeypatch):
    """A project whose registry adds k nearest neighbours (no class_weight) to the
    template's models: the run's warning names it, and only it."""
    package = tmp_path / "with_knn"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module in ("features", "expectations", "metrics"):
        (package / f"{module}.py").write_text(f"from starter.{module} import *  # noqa: F403\n")
    (package / "models.py").write_text(
        "from sklearn.neighbors import KNeighborsClassifier\n"
        "from starter.models import MODELS as TEMPLATE\n"
        "from trimode import ModelSpec\n"
        "KNN = ModelSpec(make=lambda seed, n_jobs: KNeighborsClassifier())\n"
        "MODELS = {**TEMPLATE, 'classification': {**TEMPLATE['classification'], 'knn': KNN}}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    root = tmp_path / "project"
    configs = make_configs(root, base={"train": {"class_weight": "balanced"}})
    write_pyproject(root, package="with_knn")
    config = load_config("test", configs)
    assert model_params(config, "logistic_regression") == {"class_weight": "balanced"}
    assert model_params(config, "knn") == {}
    warnings = class_weight_warning(config, ["logistic_regression", "knn"])
    assert len(warnings) == 1 and "knn" in warnings[0] and "logistic" not in warnings[0]
    assert class_weight_warning(config, ["logistic_regression"]) == []


def test_a_threshold_is_tuned_on_time_ordered_folds_too(tmp_path):
    # Forward folds leave the earliest rows unscored (cross_val_predict refuses them):
    # the threshold is tuned on the rows the folds do score.
    from trimode.data.synthetic import make_dataset

    frame = make_dataset("classification", 2_000, seed=3)
    frame["day"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(len(frame)) // 10, "D")
    frame.to_parquet(tmp_path / "rows.parquet", index=False)
    config = machine_config(
        tmp_path,
        base={
            "data": {"source": str(tmp_path / "rows.parquet"), "target": "churned"},
            "columns": {"time": "day"},
            "evaluation": {"threshold": "f1"},
        },
    )
    result = train(config)
    threshold = result.manifest["decision_threshold"]
    assert result.manifest["split"]["kind"] == "time"
    assert threshold["tuned_for"] == "f1" and 0 < threshold["value"] < 1
    x = result.split.x_test
    probability = result.model.predict_proba(x)[:, 1]
    assert ((result.model.predict(x) == 1) == (probability >= threshold["value"])).all()
