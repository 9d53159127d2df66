"""`compare` with variants: a grid per model ranked in one leaderboard, halving, a time
budget that keeps what finished, Ctrl-C that does too, and `promote --variant`."""

from __future__ import annotations

import json
import os
import signal
import threading

import numpy as np
import pytest

from trimode.cli.main import main
from trimode.core.errors import ConfigError
from trimode.core.layout import LEADERBOARD_JSON
from trimode.modelling.compare import BASELINE
from trimode.modelling.fold_fits import BUDGET, INTERRUPTED
from trimode.workflows.compare import compare
from trimode.workflows.session import load_config

from .conftest import machine_config, make_configs
from .real_sets import real_set_settings

pytestmark = pytest.mark.slow

C_VALUES = [0.01, 1.0, 100.0]


def rows_of(leaderboard) -> dict[str, dict]:
    return {row["model"]: row for row in leaderboard.rows.to_dict(orient="records")}


def test_a_three_variant_grid_yields_three_rows_with_their_parameters(tmp_path, capsys):
    config = machine_config(
        tmp_path,
        "human",
        compare={
            "models": ["logistic_regression", "hist_gradient_boosting"],
            "variants": {"logistic_regression": {"C": C_VALUES}},
        },
    )
    leaderboard, _ = compare(config)
    rows = rows_of(leaderboard)
    names = [f"logistic_regression#{place}" for place in (1, 2, 3)]
    assert sorted(rows) == sorted([*names, "hist_gradient_boosting", BASELINE])
    for name, value in zip(names, C_VALUES, strict=True):
        assert rows[name]["params"] == f"C={value!r}"
        assert leaderboard.params[name]["C"] == value  # the estimator it fitted had it
        assert np.isfinite(rows[name]["roc_auc_mean"])
    # The variants differ: C from 0.01 to 100 changes the fitted model's scores.
    assert len({rows[name]["log_loss_mean"] for name in names}) == 3
    # Every row, variants included, on the very same folds.
    assert len(set(leaderboard.fold_hashes.values())) == 1
    # Announced once every candidate had its first fold: the estimate of all 15 fits.
    assert leaderboard.estimate_s is not None and leaderboard.estimate_s > 0
    assert "compare: 15 fits on 1 worker, about " in capsys.readouterr().err
    saved = json.loads((config.output_dir / LEADERBOARD_JSON).read_text())
    assert saved["variants"]["logistic_regression#2"] == {
        "model": "logistic_regression",
        "params": {"C": 1.0},
    }
    assert saved["partial"] is False and saved["unfinished"] == []


def test_a_list_of_tables_is_one_variant_each(tmp_path):
    config = machine_config(
        tmp_path,
        "human",
        compare={
            "models": ["hist_gradient_boosting"],
            "variants": {
                "hist_gradient_boosting": [
                    {"max_leaf_nodes": 7, "learning_rate": 0.3},
                    {"max_leaf_nodes": 31},
                ]
            },
        },
    )
    leaderboard, _ = compare(config)
    rows = rows_of(leaderboard)
    assert rows["hist_gradient_boosting#1"]["params"] == "learning_rate=0.3, max_leaf_nodes=7"
    assert rows["hist_gradient_boosting#2"]["params"] == "max_leaf_nodes=31"
    assert leaderboard.params["hist_gradient_boosting#2"]["learning_rate"] == 0.1


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ({"nope": {"C": [1.0]}}, "key 'compare.variants.nope' names unknown model 'nope'"),
        (
            {"logistic_regression": {"colour": [1]}},
            "key 'compare.variants.logistic_regression' sets unknown hyper-parameter(s) 'colour'",
        ),
        (
            {"logistic_regression": {"C": [1.0, -5.0]}},
            "key 'compare.variants.logistic_regression' refuses C = -5.0: ",
        ),
        ({"logistic_regression": {"C": []}}, "lists no value for 'C'"),
        ({"logistic_regression": {"C": 1.0}}, "key 'compare.variants' must be a table"),
    ],
)
def test_a_mistaken_variant_is_one_line_naming_the_key(tmp_path, variants, message):
    with pytest.raises(ConfigError) as raised:
        machine_config(tmp_path, "human", compare={"variants": variants})
    assert message in str(raised.value)
    assert "configs/human.toml" in str(raised.value)


def test_halving_says_how_many_it_tried_at_which_size(tmp_path):
    values = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
    config = machine_config(
        tmp_path,
        "human",
        compare={
            "models": ["logistic_regression"],
            "strategy": "halving",
            "variants": {"logistic_regression": {"C": values}},
        },
    )
    leaderboard, _ = compare(config)
    rounds = leaderboard.halving["logistic_regression"]
    assert [step["candidates"] for step in rounds] == [9, 3, 1]
    sizes = [step["rows"] for step in rounds]
    assert sizes == sorted(sizes) and sizes[-1] > 2 * sizes[0]
    assert f"logistic_regression: halving tried 9 variants on {sizes[0]:,} rows" in (
        " ".join(leaderboard.notes)
    )
    rows = leaderboard.rows.to_dict(orient="records")
    variants = [row for row in rows if row["model"] != BASELINE]
    assert len(variants) == 9
    # The finalist first; the others by how far they went, each with the rows it saw.
    assert variants[0]["rows"] == sizes[-1]
    assert [row["rows"] for row in variants] == sorted(
        (row["rows"] for row in variants), reverse=True
    )


def slow_grid(**compare_settings):
    """A grid whose first variants fit in a moment and whose last take many seconds."""
    return {
        "models": ["hist_gradient_boosting"],
        "variants": {
            "hist_gradient_boosting": [
                {"max_iter": 5},
                {"max_iter": 10},
                {"max_iter": 3_000, "early_stopping": False, "max_leaf_nodes": 63},
            ]
        },
        **compare_settings,
    }


def test_a_spent_budget_leaves_a_partial_leaderboard(tmp_path):
    config = machine_config(tmp_path, "human", compare=slow_grid(time_budget_s=4))
    leaderboard, _ = compare(config)
    assert leaderboard.stopped == BUDGET and leaderboard.partial
    assert leaderboard.unfinished == ["hist_gradient_boosting#3"]
    assert sorted(rows_of(leaderboard)) == [
        BASELINE,
        "hist_gradient_boosting#1",
        "hist_gradient_boosting#2",
    ]
    saved = json.loads((config.output_dir / LEADERBOARD_JSON).read_text())
    assert saved["partial"] is True and saved["stopped"] == BUDGET
    assert saved["unfinished"] == ["hist_gradient_boosting#3"]
    assert any(
        note.startswith("partial leaderboard: the budget of 4 s (compare.time_budget_s in ")
        and note.endswith("not finished: hist_gradient_boosting#3")
        for note in leaderboard.notes
    )


def test_ctrl_c_keeps_the_finished_rows_and_exits_130(tmp_path, capsys):
    config_dir = make_configs(tmp_path, human={"compare": slow_grid()})
    # Ctrl-C as a terminal sends it, once the quick variants had time to finish.
    timer = threading.Timer(4.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        status = main(["compare", "--mode", "human", "--config-dir", str(config_dir)])
    finally:
        timer.cancel()
    out = capsys.readouterr()
    assert status == 130, out.err
    assert "PARTIAL" in out.out
    saved = json.loads((tmp_path / "outputs" / "human" / LEADERBOARD_JSON).read_text())
    assert saved["partial"] is True and saved["stopped"] == INTERRUPTED
    assert saved["unfinished"] == ["hist_gradient_boosting#3"]
    assert {row["model"] for row in saved["rows"]} == {
        BASELINE,
        "hist_gradient_boosting#1",
        "hist_gradient_boosting#2",
    }
    assert "partial leaderboard: it was interrupted after " in out.err + out.out


def test_promote_takes_a_variant_from_the_leaderboard(tmp_path, capsys):
    config_dir = make_configs(
        tmp_path,
        human={
            "compare": {
                "models": ["logistic_regression", "hist_gradient_boosting"],
                "variants": {"logistic_regression": {"C": C_VALUES}},
            }
        },
    )
    assert main(["compare", "--mode", "human", "--config-dir", str(config_dir)]) == 0
    argv = ["promote", "--variant", "logistic_regression#3", "--config-dir", str(config_dir)]
    assert main(argv) == 0
    production = load_config("production", config_dir)
    assert production.train.models == ["logistic_regression"]
    assert production.train.params == {"logistic_regression": {"C": 100.0}}
    text = (config_dir / "production.toml").read_text()
    assert "promoted from human mode's leaderboard: logistic_regression#3 (C=100.0), roc_auc " in (
        text
    )
    # A model as compared is a row too; a name the leaderboard lacks is one line naming them.
    assert main([*argv[:2], "hist_gradient_boosting", *argv[3:]]) == 0
    assert load_config("production", config_dir).train.models == ["hist_gradient_boosting"]
    capsys.readouterr()
    assert main([*argv[:2], "mlp#9", *argv[3:]]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ranks no variant 'mlp#9' (it ranks: " in err, err
    assert "logistic_regression#1" in err and BASELINE not in err


def test_variants_from_the_command_line(tmp_path, capsys):
    config_dir = make_configs(tmp_path, human={"compare": {"models": ["logistic_regression"]}})
    argv = ["compare", "--mode", "human", "--config-dir", str(config_dir)]
    argv += ["--set", "compare.variants.logistic_regression.C=[0.1, 10.0]"]
    argv += ["--set", "compare.variants.logistic_regression.fit_intercept=[true, false]"]
    assert main(argv) == 0
    saved = json.loads((tmp_path / "outputs" / "human" / LEADERBOARD_JSON).read_text())
    assert sorted(
        (variant["params"]["C"], variant["params"]["fit_intercept"])
        for variant in saved["variants"].values()
    ) == [(0.1, False), (0.1, True), (10.0, False), (10.0, True)]
    assert "fit_intercept=False" in capsys.readouterr().out


def test_halving_tries_more_variants_than_a_grid_within_the_same_budget(tmp_path):
    # A forest's fit grows with its rows (a boosting's 100 rounds cost much the same on
    # few rows as on many: halving saves little there).
    grid = {
        "n_estimators": [20],
        "max_depth": [6, 12, 24],
        "min_samples_leaf": [1, 5, 20],
        "max_features": ["sqrt", 0.5, 1.0],
    }
    settings = {"models": ["random_forest"], "variants": {"random_forest": grid}}
    base = {"data": {"synthetic_rows": 12_000}}

    def compared(folder, **more):
        folder.mkdir()
        config = machine_config(folder, "human", base=base, compare={**settings, **more})
        return compare(config)[0]

    def tried(leaderboard):
        return len(leaderboard.rows) - 1  # the baseline left out

    # Halving tries all 27 variants; a quarter more than the time it took is the budget
    # (on these rows the grid's fits take about 2.5 times halving's) ...
    halving = compared(tmp_path / "halving", strategy="halving")
    assert tried(halving) == 27 and not halving.partial
    budget = max(1.25 * halving.elapsed_s, 1.0)
    # ... in which the grid, every variant on every fold, tries fewer: a partial leaderboard.
    grid_run = compared(tmp_path / "grid", time_budget_s=budget)
    assert grid_run.partial and grid_run.stopped == BUDGET
    assert tried(grid_run) < 27 and tried(grid_run) + len(grid_run.unfinished) == 27, (
        halving.elapsed_s,
        grid_run.elapsed_s,
    )


@pytest.mark.parametrize(
    ("name", "task"), [("breast-cancer", "classification"), ("diabetes", "regression")]
)
def test_the_networks_layers_as_variants_on_real_data(tmp_path, name, task):
    """How many layers, on data nobody here made: one row per architecture, each with its
    layers, each beating the dummy baseline."""
    settings = real_set_settings(tmp_path, name)
    layers = [[16], [32, 16], [64, 32, 16]]
    settings["compare"] = {"models": ["mlp"], "variants": {"mlp": {"hidden_layer_sizes": layers}}}
    leaderboard, _ = compare(machine_config(tmp_path, "human", task, base=settings))
    rows = rows_of(leaderboard)
    primary = f"{leaderboard.primary_metric}_mean"
    greater = leaderboard.rules.metric(leaderboard.primary_metric).greater_is_better
    for place, sizes in enumerate(layers, start=1):
        row = rows[f"mlp#{place}"]
        assert row["params"] == f"hidden_layer_sizes={sizes!r}"
        assert list(leaderboard.params[f"mlp#{place}"]["hidden_layer_sizes"]) == sizes
        baseline = rows[BASELINE][primary]
        assert (row[primary] > baseline) if greater else (row[primary] < baseline)
