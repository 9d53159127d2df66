"""The report and the tracking store after a compare with variants: the parameters per
leaderboard row, one plot per varied hyper-parameter with a point per variant, a partial
leaderboard marked as such, halving's rounds, and each variant a tracked child run that
the report's panel lists with its values and scores."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

from trimode.core.layout import LEADERBOARD_JSON
from trimode.modelling.compare import BASELINE
from trimode.modelling.fold_fits import BUDGET
from trimode.modelling.halving import rounds_line
from trimode.workflows.compare import compare, save_leaderboard

from .conftest import machine_config
from .test_report import parse, section_of, table_after
from .test_tracking import client_of, runs_of, store, tracked

pytestmark = pytest.mark.slow

C_VALUES = [0.01, 1.0, 100.0]
VARIANTS = [f"logistic_regression#{place}" for place in (1, 2, 3)]
SETTINGS = {
    "compare": {
        "models": ["logistic_regression", "hist_gradient_boosting"],
        "variants": {"logistic_regression": {"C": C_VALUES}},
    },
    "train": {"params": {"hist_gradient_boosting": {"max_iter": 20}}},
}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A human-mode project tracked in a SQLite store: compare with three variants of C,
    train, and the report."""
    from trimode.workflows.report import build_report
    from trimode.workflows.train import train

    folder = tmp_path_factory.mktemp("variants-report")
    uri = store(folder)
    config = machine_config(folder, "human", base=tracked(uri), **SETTINGS)
    leaderboard, _ = compare(config)
    train(config)
    page = build_report(config).read_text(encoding="utf-8")
    return {"config": config, "uri": uri, "leaderboard": leaderboard, "page": page}


def leaderboard_json(config) -> dict:
    return json.loads((config.output_dir / LEADERBOARD_JSON).read_text(encoding="utf-8"))


def variants_section(page: str) -> str:
    """The page's "Variants" part of the leaderboard section."""
    start = page.index('<h3 id="variants">')
    return page[start : page.index("<h2", start)]


def test_the_leaderboard_shows_each_rows_parameters(project):
    page = project["page"]
    headings = re.findall(r"<th>([^<]*)</th>", page[page.index("<h2>Leaderboard</h2>") :])
    assert headings[:2] == ["model", "params"]
    cells = {row[0]: row[1] for row in table_after(page, "<h2>Leaderboard</h2>")}
    for name, value in zip(VARIANTS, C_VALUES, strict=True):
        assert cells[name] == f"C={value!r}"
    assert cells["hist_gradient_boosting"] == "" and cells[BASELINE] == ""
    # A leaderboard that stopped at nothing says nothing of it.
    assert 'id="leaderboard-partial"' not in page


def test_one_plot_per_varied_parameter_with_a_point_per_variant(project):
    from trimode.reporting import plots
    from trimode.reporting.variants import variant_plots

    saved = leaderboard_json(project["config"])
    primary = saved["primary_metric"]
    rows = {row["model"]: row for row in saved["rows"]}
    (plot,) = variant_plots(saved)  # C is the one hyper-parameter varied
    assert (plot.model, plot.param, plot.metric) == ("logistic_regression", "C", primary)
    assert plot.numeric and plot.log  # 0.01 to 100: four orders of magnitude
    assert list(plot.points["variant"]) == VARIANTS
    assert list(plot.points["x"]) == C_VALUES
    assert list(plot.points["mean"]) == [rows[name][f"{primary}_mean"] for name in VARIANTS]
    assert list(plot.points["std"]) == [rows[name][f"{primary}_std"] for name in VARIANTS]
    # The figure plots those very points, the spread across folds as error bars.
    axes = plots.variant_metric(plot).axes[0]
    (bars,) = axes.containers
    line, _, (vertical,) = bars
    assert list(line.get_xdata()) == C_VALUES
    assert list(line.get_ydata()) == list(plot.points["mean"])
    heights = [segment[1][1] - segment[0][1] for segment in vertical.get_segments()]
    assert heights == pytest.approx([2 * std for std in plot.points["std"]])
    assert axes.get_xscale() == "log" and axes.get_xlabel() == "C"
    # The page shows the plot, and the points it plots as a table.
    section = variants_section(project["page"])
    assert "<h4>logistic_regression: " + f"{primary} by C</h4>" in section
    assert section.count("<img") == 1
    table = table_after(section, "variants plotted")
    assert [row[:2] for row in table] == [
        [name, repr(value)] for name, value in zip(VARIANTS, C_VALUES, strict=True)
    ]
    means = [float(row[2]) for row in table]
    expected = [rows[name][f"{primary}_mean"] for name in VARIANTS]
    assert means == pytest.approx(expected, rel=1e-3)


def test_lists_are_categories_and_other_varied_values_make_series():
    from trimode.reporting import plots
    from trimode.reporting.variants import variant_plots

    sizes = [[32], [64, 64], [32], [64, 64]]
    alphas = [0.001, 0.001, 0.1, 0.1]
    names = [f"mlp#{place}" for place in range(1, 5)]
    saved = {
        "primary_metric": "roc_auc",
        "variants": {
            name: {"model": "mlp", "params": {"hidden_layer_sizes": size, "alpha": alpha}}
            for name, size, alpha in zip(names, sizes, alphas, strict=True)
        },
        "rows": [
            {"model": name, "roc_auc_mean": 0.7 + place / 100, "roc_auc_std": 0.01}
            for place, name in enumerate(names)
        ],
    }
    by_size, by_alpha = variant_plots(saved)
    assert (by_size.param, by_size.numeric) == ("hidden_layer_sizes", False)
    assert by_size.values == ["[32]", "[64, 64]"]
    assert list(by_size.points["x"]) == [0.0, 1.0, 0.0, 1.0]
    assert list(by_size.points["series"]) == ["alpha=0.001"] * 2 + ["alpha=0.1"] * 2
    assert (by_alpha.param, by_alpha.numeric, by_alpha.log) == ("alpha", True, True)
    axes = plots.variant_metric(by_size).axes[0]
    assert [label.get_text() for label in axes.get_xticklabels()] == ["[32]", "[64, 64]"]
    assert axes.get_legend_handles_labels()[1] == ["alpha=0.001", "alpha=0.1"]
    # An older leaderboard, without variants, plots nothing.
    assert variant_plots({"rows": saved["rows"]}) == []


def copy_of(project, folder: Path, base: dict | None = None, **settings):
    """A project in folder with the fixture's published model and leaderboard (the same
    built-in rows), the human mode's settings replaced; tracking off unless base says."""
    config = machine_config(folder, "human", base=base, **{**SETTINGS, **settings})
    shutil.copytree(project["config"].output_dir, config.output_dir)
    return config


def test_a_partial_leaderboard_is_marked_in_the_page(project, tmp_path):
    from trimode.workflows.report import build_report

    config = copy_of(project, tmp_path)
    # What compare leaves when its budget runs out: the rows that finished, the rest listed.
    leaderboard = project["leaderboard"]
    kept = leaderboard.rows[leaderboard.rows["model"] != "logistic_regression#3"]
    stopped = dataclasses.replace(
        leaderboard,
        rows=kept.reset_index(drop=True),
        stopped=BUDGET,
        unfinished=["logistic_regression#3"],
        budget_s=30,
        elapsed_s=31,
    )
    save_leaderboard(stopped, config.output_dir)
    page = build_report(config).read_text(encoding="utf-8")
    marked = re.search(r'<p class="bad" id="leaderboard-partial">([^<]*)</p>', page)
    assert marked, "a partial leaderboard is not marked"
    assert "the budget of 30 s (compare.time_budget_s) ran out after 31 s" in marked.group(1)
    assert "not finished: logistic_regression#3" in marked.group(1)
    assert "The 2 variants plotted" in variants_section(page)


def test_halving_rounds_and_the_variants_it_left_behind_are_said(project, tmp_path):
    from trimode.workflows.report import build_report

    values = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
    halving = {
        "models": ["logistic_regression"],
        "strategy": "halving",
        "variants": {"logistic_regression": {"C": values}},
    }
    uri = store(tmp_path)
    config = copy_of(project, tmp_path, base=tracked(uri), compare=halving)
    halved, _ = compare(config)
    rounds = halved.halving["logistic_regression"]
    assert len(rounds) >= 2
    page = build_report(config).read_text(encoding="utf-8")
    steps = ", ".join(f"{step['candidates']:,} on {step['rows']:,} rows" for step in rounds[1:])
    line = f"logistic_regression: halving tried {rounds[0]['candidates']} variants on "
    assert f"{line}{rounds[0]['rows']:,} rows, {steps}" in page
    section = variants_section(page)
    behind = int(halved.rows["rows"].lt(halved.rows["rows"].max()).sum())
    assert behind > 0
    assert f"{behind} of the {len(values)} variants were left behind by halving" in section
    table = table_after(section, "variants plotted")
    assert len(table) == len(values)
    assert sum(row[-1] == "yes" for row in table) == behind
    # Tracked: the rounds on the compare run, the rows each variant was scored on on its own.
    runs = runs_of(client_of(uri), "compare")
    (parent,) = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    assert parent.data.params["strategy"] == "halving"
    assert parent.data.params["halving.logistic_regression"] == rounds_line(
        "logistic_regression", rounds
    )
    children = [run for run in runs if run is not parent]
    sizes = {run.data.tags["model"]: run.data.metrics.get("rows") for run in children}
    for row in halved.rows.to_dict(orient="records"):
        if row["model"] != BASELINE:
            assert sizes[row["model"]] == row["rows"]


def test_each_variant_is_a_tracked_child_run_of_the_compare_run(project):
    client = client_of(project["uri"])
    leaderboard = project["leaderboard"]
    primary = leaderboard.primary_metric
    runs = runs_of(client, "compare")
    (parent,) = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    assert parent.data.params["strategy"] == "grid"
    assert parent.data.params["partial"] == "False" and parent.data.tags["partial"] == "false"
    children = {run.data.tags["model"]: run for run in runs if run is not parent}
    rows = {row["model"]: row for row in leaderboard.rows.to_dict(orient="records")}
    for name, value in zip(VARIANTS, C_VALUES, strict=True):
        child = children[name]
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.tags["variant_of"] == "logistic_regression"
        assert child.data.tags["mlflow.runName"] == f"{name} (C={value!r})"
        assert child.data.params["variant.C"] == str(value)
        assert child.data.params["model.C"] == str(value)  # the estimator it fitted had it
        for statistic in ("mean", "std"):
            key = f"{primary}_{statistic}"
            assert child.data.metrics[key] == pytest.approx(rows[name][key])
    # A model as configured is no variant.
    assert "variant_of" not in children["hist_gradient_boosting"].data.tags
    assert not [key for key in children["hist_gradient_boosting"].data.params if "variant." in key]


def test_the_tracked_runs_panel_lists_the_variants_with_their_values(project):
    page, leaderboard = project["page"], project["leaderboard"]
    primary = leaderboard.primary_metric
    section = section_of(page, "tracked-runs")
    assert parse(page).problems == []
    candidates = section[section.index('<h3 id="tracked-candidates">') :]
    assert f"The {len(leaderboard.rows)} child runs of compare human" in candidates
    headings = re.findall(r"<th>([^<]*)</th>", candidates[: candidates.index("</thead>")])
    assert headings[:5] == ["compare_run", "run_id", "started", "model", "variant_of"]
    assert {"C", "rank", f"{primary}_mean", f"{primary}_std"} <= set(headings)
    cells = table_after(candidates, "child runs of")
    by_model = {row[headings.index("model")]: row for row in cells}
    assert set(by_model) == set(leaderboard.rows["model"])
    rows = {row["model"]: row for row in leaderboard.rows.to_dict(orient="records")}
    for name, value in zip(VARIANTS, C_VALUES, strict=True):
        row = by_model[name]
        assert row[headings.index("variant_of")] == "logistic_regression"
        assert row[headings.index("C")] == str(value)
        mean = float(row[headings.index(f"{primary}_mean")])
        assert mean == pytest.approx(rows[name][f"{primary}_mean"], rel=1e-3)
    # Best first, as the leaderboard ranks them.
    assert [row[headings.index("model")] for row in cells] == list(leaderboard.rows["model"])
    # The train run is listed above them.
    assert "1 runs, as the tracking store lists them" in section
