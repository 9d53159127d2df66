"""`compare --learning-curve`: would more rows help? The leading models on growing shares
of the comparison's folds, and a line of reading that says what the numbers say."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape
from sklearn.exceptions import FitFailedWarning

from trimode.cli.main import main
from trimode.core.layout import LEADERBOARD_JSON
from trimode.data.sampling import fetch_sample
from trimode.modelling.learning_curve import (
    MIN_ROWS,
    UNLIKELY,
    ModelCurve,
    MoreRows,
    reading,
    train_sizes,
)
from trimode.workflows.compare import compare, production_rows

from .conftest import machine_config, make_configs
from .real_sets import real_set_settings

pytestmark = pytest.mark.slow

FAST = {
    "classification": ["logistic_regression", "hist_gradient_boosting"],
    "regression": ["ridge", "hist_gradient_boosting"],
}
FOLDS = 5
NOWHERE = MoreRows(here=1_000)


def curve(valid_mean: list[float], valid_std: list[float], rows: list[int] | None = None):
    """A hand-built curve (training scores do not enter the reading)."""
    rows = rows or [100 * 2**place for place in range(len(valid_mean))]
    zeros = [0.0] * len(valid_mean)
    return ModelCurve("m", rows, zeros, zeros, valid_mean, valid_std, "")


def expected(made: ModelCurve, greater: bool, folds: int) -> tuple[str, int]:
    """The rule, worked out again from the numbers alone: the kind of curve, and for a
    flat one the smallest size from which every later mean is within the last mean's
    standard error of it."""
    tolerance = made.valid_std[-1] / math.sqrt(folds - 1)
    sign = 1 if greater else -1
    gain = sign * (made.valid_mean[-1] - made.valid_mean[-2])
    kind = "improving" if gain > tolerance else "lower" if gain < -tolerance else "flat"
    since = next(
        made.rows[place]
        for place in range(len(made.rows))
        if all(abs(value - made.valid_mean[-1]) <= tolerance for value in made.valid_mean[place:])
    )
    return kind, since


def check_line(made: ModelCurve, line: str, metric: str, greater: bool, folds: int) -> str:
    """Assert the line says what the numbers say; return the kind of curve."""
    kind, since = expected(made, greater, folds)
    change = made.valid_mean[-1] - made.valid_mean[-2]
    tolerance = made.valid_std[-1] / math.sqrt(folds - 1)
    last = f"{made.rows[-1]:,} rows"
    if kind == "improving":
        assert line.startswith(f"{made.model}: still improving at {last} ({metric} ")
        assert f"{change:+.3g} over the last step from {made.rows[-2]:,}" in line
    elif kind == "lower":
        assert line.startswith(f"{made.model}: lower at {last} than at {made.rows[-2]:,}")
        assert f"{change:+.3g}" in line and line.endswith(UNLIKELY)
    else:
        assert line.startswith(f"{made.model}: flat since {since:,} rows ({metric} within ")
        assert f"of its {made.valid_mean[-1]:.4g} at {last}" in line and line.endswith(UNLIKELY)
    assert f"standard error {tolerance:.2g} across {folds} folds" in line
    return kind


# --- the rule, on hand-built curves ---


def test_a_curve_still_rising_beyond_its_spread_says_more_rows_help():
    made = curve([0.70, 0.75, 0.79, 0.82, 0.85], [0.02, 0.02, 0.01, 0.01, 0.01])
    more = MoreRows(here=2_000, rows=1_200_000)
    line = reading(made, "roc_auc", True, FOLDS, more)
    assert check_line(made, line, "roc_auc", True, FOLDS) == "improving"
    assert line == (
        "m: still improving at 1,600 rows (roc_auc +0.03 over the last step from 800, beyond "
        "its standard error 0.005 across 5 folds): production's 1,200,000 rows are likely to help"
    )


def test_production_is_named_only_with_what_the_project_knows():
    made = curve([0.70, 0.80], [0.01, 0.01])
    unknown = reading(made, "roc_auc", True, FOLDS, MoreRows(here=2_000))
    assert unknown.endswith(": production's data is likely to help")
    bound = reading(made, "roc_auc", True, FOLDS, MoreRows(2_000, 90_000, at_most=True))
    assert bound.endswith(": production's up to 90,000 rows are likely to help")
    same = reading(made, "roc_auc", True, FOLDS, MoreRows(2_000, 2_000))
    assert same.endswith(
        "more rows are likely to help, but production's 2,000 rows are no more than these"
    )


def test_a_flat_curve_says_since_which_size():
    # Within 0.01 / 2 = 0.005 of the last mean from the third size on, not before.
    made = curve([0.60, 0.78, 0.801, 0.799, 0.80], [0.02, 0.02, 0.01, 0.01, 0.01])
    line = reading(made, "roc_auc", True, FOLDS, NOWHERE)
    assert check_line(made, line, "roc_auc", True, FOLDS) == "flat"
    assert line.startswith("m: flat since 400 rows (roc_auc within its standard error 0.005")


def test_flat_since_the_first_size_when_every_mean_is_within_the_spread():
    made = curve([0.80, 0.81, 0.80], [0.0, 0.0, 0.04])
    line = reading(made, "roc_auc", True, FOLDS, NOWHERE)
    assert check_line(made, line, "roc_auc", True, FOLDS) == "flat"
    assert "flat since 100 rows" in line


def test_a_metric_where_lower_is_better_improves_as_it_falls():
    falling = curve([60.0, 50.0, 45.0], [2.0, 2.0, 2.0])
    line = reading(falling, "rmse", False, FOLDS, NOWHERE)
    assert check_line(falling, line, "rmse", False, FOLDS) == "improving"
    assert "(rmse -5 over the last step from 200" in line
    rising = curve([60.0, 50.0, 55.0], [2.0, 2.0, 2.0])
    line = reading(rising, "rmse", False, FOLDS, NOWHERE)
    assert check_line(rising, line, "rmse", False, FOLDS) == "lower"


def test_a_curve_of_one_size_has_no_reading():
    assert "no reading" in reading(curve([0.8], [0.01]), "roc_auc", True, FOLDS, NOWHERE)


def test_sizes_grow_from_a_tenth_with_enough_rows_of_the_rarest_class():
    assert train_sizes(10_000) == [1_000, 1_778, 3_162, 5_623, 10_000]
    assert train_sizes(200)[0] == MIN_ROWS and train_sizes(200)[-1] == 200
    # One row in 100 of a class: the smallest share is expected to hold 5 of them.
    rare = pd.Series(["a"] * 990 + ["b"] * 10)
    assert train_sizes(1_000, rare)[0] == 500
    assert train_sizes(40) == [40]  # too few rows for a smaller share


# --- real fits ---


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_compare_saves_a_curve_of_the_leading_models_whose_lines_match_it(tmp_path, task):
    config = machine_config(
        tmp_path, "human", task, compare={"models": FAST[task], "learning_curve": True}
    )
    leaderboard, _ = compare(config)
    saved = json.loads((config.output_dir / LEADERBOARD_JSON).read_text())["learning_curve"]
    assert saved["metric"] == leaderboard.primary_metric
    assert [model["model"] for model in saved["models"]] == leaderboard.leaders(2)
    for model, made in zip(saved["models"], leaderboard.learning_curve.models, strict=True):
        assert model["rows"] == sorted(set(model["rows"])) and len(model["rows"]) >= 2
        # The largest share is all of a fold's training rows.
        assert model["rows"][-1] == min(len(train) for train, _ in leaderboard.folds)
        check_line(made, model["reading"], saved["metric"], saved["greater_is_better"], 3)
        # The last size's mean is the metric on the same folds as the leaderboard ranks it.
        row = leaderboard.rows.set_index("model").loc[model["model"]]
        mean = row[f"{leaderboard.primary_metric}_mean"]
        assert model["valid_mean"][-1] == pytest.approx(mean, rel=0.05)


def test_the_flag_draws_the_curve_and_prints_its_lines(tmp_path, capsys):
    config_dir = make_configs(tmp_path, human={"compare": {"models": FAST["classification"]}})
    arguments = ["compare", "--mode", "human", "--config-dir", str(config_dir)]
    assert main(arguments) == 0
    saved = json.loads((tmp_path / "outputs" / "human" / LEADERBOARD_JSON).read_text())
    assert saved["learning_curve"] is None  # not asked for
    assert main([*arguments, "--learning-curve", "--models", "logistic_regression"]) == 0
    printed = capsys.readouterr()
    out = printed.out
    saved = json.loads((tmp_path / "outputs" / "human" / LEADERBOARD_JSON).read_text())
    (model,) = saved["learning_curve"]["models"]  # --models and --learning-curve together
    rows = model["rows"]
    assert (
        f"learning curve: logistic_regression on 5 sizes from {rows[0]:,} to {rows[-1]:,} rows, "
        "15 fits, about " in printed.err
    )
    assert model["model"] == "logistic_regression"
    # The line printed after the leaderboard is the one saved with the numbers.
    assert f"learning curve of {model['reading']}\n" in out
    assert out.index("learning curve of") > out.index("logistic_regression")


# --- what production's rows are said to be ---


def test_production_rows_are_what_the_sample_and_the_configs_say(tmp_path):
    # Human mode samples 1,000 of the built-in set's 3,000 rows; production reads them all.
    config = machine_config(tmp_path, "human", data={"max_rows": 1_000})
    meta = fetch_sample(config).meta
    labelled = meta["rows_seen"] - meta["rows_without_target"]
    assert production_rows(config, 1_000) == MoreRows(1_000, labelled)
    # Production's own sample size bounds it.
    capped = machine_config(tmp_path / "capped", "human", data={"max_rows": 1_000})
    (capped.config_dir / "production.toml").write_text("[data]\nmax_rows = 2000\n")
    fetch_sample(capped)
    assert production_rows(capped, 1_000) == MoreRows(1_000, 2_000)
    # Another source, whose size nothing recorded: unknown, or at most its sample size.
    (capped.config_dir / "production.toml").write_text(
        '[data]\nsource = "elsewhere.csv"\nmax_rows = 2000\n'
    )
    assert production_rows(capped, 1_000) == MoreRows(1_000, 2_000, at_most=True)
    (capped.config_dir / "production.toml").write_text('[data]\nsource = "elsewhere.csv"\n')
    assert production_rows(capped, 1_000) == MoreRows(1_000)


# --- real data sets that packages ship ---


def real_set(folder: Path, name: str) -> dict:
    """A real set's project settings, with the learning curve on."""
    settings = real_set_settings(folder, name)
    settings["compare"] |= {"cv_folds": FOLDS, "learning_curve": True}
    return settings


@pytest.mark.parametrize(
    ("name", "task"), [("breast-cancer", "classification"), ("diabetes", "regression")]
)
def test_the_reading_on_real_data_sets_matches_their_numbers(tmp_path, name, task):
    config = machine_config(tmp_path, "human", task, base=real_set(tmp_path, name))
    leaderboard, _ = compare(config)
    made = leaderboard.learning_curve
    assert made is not None and made.stopped is None and len(made.models) == 2
    for model in made.models:
        assert len(model.rows) == 5 and model.rows == sorted(model.rows)
        check_line(model, model.reading, made.metric, made.greater_is_better, FOLDS)
        # Production reads the same file whole, as this mode does: no more rows there.
        assert model.reading.endswith(UNLIKELY) or "are no more than these" in model.reading


# --- tracked ---


def test_the_curve_is_tracked_on_the_compare_run(tmp_path):
    from .test_tracking import client_of, runs_of, store, tracked

    uri = store(tmp_path)
    variants = {"hist_gradient_boosting": {"max_iter": [20, 40]}}
    settings = {"learning_curve": True, "variants": variants}
    config = machine_config(tmp_path, "human", base=tracked(uri), compare=settings)
    leaderboard, _ = compare(config)
    client = client_of(uri)
    (parent,) = [
        run for run in runs_of(client, "compare") if "mlflow.parentRunId" not in run.data.tags
    ]
    made = leaderboard.learning_curve.models
    assert len(made) == 2 and any("#" in model.model for model in made)  # a variant leads
    for model in made:
        key = "learning_curve." + model.model.replace("#", "_")
        assert parent.data.tags[key] == model.reading
        for side, values in (("valid", model.valid_mean), ("train", model.train_mean)):
            history = client.get_metric_history(parent.info.run_id, f"{key}.{side}")
            assert sorted((point.step, point.value) for point in history) == pytest.approx(
                list(zip(model.rows, values, strict=True))
            )


# --- in the report ---


def test_the_report_shows_the_curve_only_when_the_leaderboard_has_one(tmp_path):
    from trimode.workflows.report import build_report
    from trimode.workflows.train import train

    from .test_report import parse, section_of

    models = {"models": FAST["classification"]}
    config = machine_config(tmp_path, compare=models)
    compare(config)
    train(config)
    assert "Would more rows help?" not in build_report(config).read_text()
    config = machine_config(tmp_path, compare={**models, "learning_curve": True})
    leaderboard, _ = compare(config)
    page = build_report(config).read_text()
    assert not parse(page).problems
    section = section_of(page, "learning-curve")
    assert section.count('<img src="data:image/png;base64,') == 1
    for model in leaderboard.learning_curve.models:
        assert f"<li>{escape(model.reading)}</li>" in section


# --- a rare class, a partial leaderboard, Ctrl-C ---


def test_a_share_too_small_to_hold_both_classes_is_left_out_with_a_note(
    tmp_path, monkeypatch, recwarn
):
    # 3% of the rows in class "b": a share of 10 rows often holds none, and a classifier
    # given one class cannot be fitted. The smallest share is forced down to 10 rows.
    from trimode.modelling import learning_curve

    monkeypatch.setattr(learning_curve, "MIN_ROWS", 10)
    monkeypatch.setattr(learning_curve, "SMALLEST_SHARE", 0.01)
    monkeypatch.setattr(learning_curve, "MIN_PER_CLASS", 0)
    rng = np.random.default_rng(0)
    label = np.where(np.arange(1_000) % 33 == 0, "b", "a")
    frame = pd.DataFrame(
        {"x1": rng.normal(size=1_000) + (label == "b") * 2, "x2": rng.normal(size=1_000)}
    )
    frame.assign(label=label).to_csv(tmp_path / "rare.csv", index=False)
    base = {"data": {"source": str(tmp_path / "rare.csv"), "target": "label"}}
    config = machine_config(
        tmp_path,
        "human",
        base=base,
        compare={"models": ["logistic_regression"], "learning_curve": True},
    )
    leaderboard, _ = compare(config)
    made = leaderboard.learning_curve
    (model,) = made.models
    (note,) = made.notes
    found = re.fullmatch(
        r"learning curve of logistic_regression: left out the sizes of ([\d, ]+) rows, where "
        r"a fit failed on some fold \(a share that small may miss a class\)",
        note,
    )
    assert found is not None, note
    left_out = [int(size.replace(",", "")) for size in found[1].split(", ")]
    assert 10 in left_out and not set(left_out) & set(model.rows)
    assert len(model.rows) >= 2 and model.rows[-1] > max(left_out)  # the rest is there
    assert np.isfinite(model.valid_mean).all() and np.isfinite(model.train_mean).all()
    check_line(model, model.reading, made.metric, made.greater_is_better, 3)
    # scikit-learn's warnings of the failed fits (tracebacks) are not shown: the note says it.
    assert not [w for w in recwarn if issubclass(w.category, FitFailedWarning)]


def test_a_partial_leaderboard_gets_no_curve(tmp_path):
    from .test_variants import slow_grid

    config = machine_config(
        tmp_path, "human", compare=slow_grid(time_budget_s=4, learning_curve=True)
    )
    leaderboard, _ = compare(config)
    assert leaderboard.partial and leaderboard.learning_curve is None
    assert "learning curve: not drawn, the leaderboard is partial" in leaderboard.notes
    saved = json.loads((config.output_dir / LEADERBOARD_JSON).read_text())
    assert saved["learning_curve"] is None


def test_ctrl_c_during_the_curve_keeps_the_leaderboard_and_exits_130(tmp_path, monkeypatch, capsys):
    from trimode.modelling import learning_curve

    def interrupted(*arguments, **settings):
        raise KeyboardInterrupt  # as Ctrl-C arriving while the curve's models are fitted

    monkeypatch.setattr(learning_curve, "learning_curve", interrupted)
    config_dir = make_configs(tmp_path, human={"compare": {"models": ["logistic_regression"]}})
    arguments = ["compare", "--mode", "human", "--config-dir", str(config_dir)]
    assert main([*arguments, "--learning-curve"]) == 130
    out = capsys.readouterr().out
    saved = json.loads((tmp_path / "outputs" / "human" / LEADERBOARD_JSON).read_text())
    assert not saved["partial"] and {row["model"] for row in saved["rows"]} >= {
        "logistic_regression"
    }
    assert saved["learning_curve"]["stopped"] == "interrupted"
    assert saved["learning_curve"]["models"] == []
    assert (
        "learning curve: none kept, it was interrupted; the leaderboard is saved without it" in out
    )
