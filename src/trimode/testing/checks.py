"""The test-mode checks of a project's pipeline, on its configured data: a project lists
the ones it runs in tests/test_pipeline.py (`test_x = checks.x`), so each can be read,
switched off (delete its line) or joined by the project's own. Their fixtures and
parameters come from the plugin (plugin.py). Those marked slow run in CI, not on commit.

A test-mode model is not expected to be good, but it must not be garbage: it runs on the
data, saves a model that loads, beats the dummy baseline, predicts sane values, is the
same for the same seed, and no feature gives the target away on its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from trimode.testing.plugin import outputs_in

if TYPE_CHECKING:
    from trimode.config.model import Config
    from trimode.core.project import Project
    from trimode.core.tasks import Task
    from trimode.modelling.behaviour import Outcome
    from trimode.workflows.train import TrainingResult


def every_mode_loads(mode: str, trimode_project: Project) -> None:
    """Each mode's config (base.toml and <mode>.toml) loads and passes its checks."""
    from trimode.workflows.session import load_config

    assert load_config(mode, trimode_project.config_dir).mode == mode


def modes_keep_to_their_jobs(trimode_project: Project) -> None:
    """Test and human mode run on a local sample; production reads every row; no two modes
    share an output folder (one would replace the other's)."""
    from trimode.core.layout import MODES
    from trimode.workflows.session import load_config

    configs = {mode: load_config(mode, trimode_project.config_dir) for mode in MODES}
    rows = {mode: config.data.max_rows for mode, config in configs.items()}
    assert rows["test"] > 0, "test mode must run on a sample (data.max_rows > 0) to be fast"
    assert rows["human"] > 0, "human mode works on a local sample (data.max_rows > 0)"
    assert rows["production"] == 0, "production trains on every row (data.max_rows = 0)"
    roots = {config.output_dir for config in configs.values()}
    assert len(roots) == len(MODES), "two modes share outputs.root: one would replace the other"


def writes_model_metrics_and_manifest(test_run: TrainingResult, test_config: Config) -> None:
    """The run publishes its model, metrics and record, for the configured task and model."""
    from trimode.artifacts.model_file import read_manifest
    from trimode.core.layout import METRICS_FILE, MODEL_FILE

    record = read_manifest(test_run.output_dir)
    assert (record["mode"], record["task"]) == ("test", test_config.task)
    assert record["model"] in test_config.train.models
    assert 0 < record["data"]["rows"] <= test_config.data.max_rows
    assert record["metrics"].keys() == record["baseline"].keys()
    assert (test_run.output_dir / METRICS_FILE).is_file()
    assert (test_run.output_dir / MODEL_FILE).stat().st_size > 0


def saved_model_loads_and_predicts_like_the_trained_one(
    test_run: TrainingResult, trimode_project: Project
) -> None:
    """The artifact's types are trusted for the data's classes and columns, and the loaded
    model predicts what the trained one does."""
    import numpy as np

    from trimode.artifacts.model_file import load_model, read_manifest
    from trimode.core.layout import MODEL_FILE

    manifest = read_manifest(test_run.output_dir)
    loaded = load_model(test_run.output_dir / MODEL_FILE, manifest, trimode_project)
    x_test = test_run.split.x_test
    np.testing.assert_array_equal(loaded.predict(x_test), test_run.model.predict(x_test))


def beats_the_dummy_baseline(
    test_run: TrainingResult, test_config: Config, test_task: Task
) -> None:
    """The model beats the dummy baseline on the primary metric by the configured margin."""
    from trimode.modelling.evaluation import lift

    record = test_run.manifest
    metric = record["primary_metric"]
    margin = lift(test_task, metric, record["metrics"][metric], record["baseline"][metric])
    required = test_config.evaluation.min_lift_over_baseline
    assert margin >= required, (
        f"{record['model']} scores {metric} {record['metrics'][metric]:.4f} against the dummy "
        f"baseline's {record['baseline'][metric]:.4f}: a lift of {margin:.4f}, below the "
        f"required {required} ({test_config.where('evaluation.min_lift_over_baseline')})"
    )


def predictions_are_sane(test_run: TrainingResult, test_task: Task) -> None:
    """Predictions have the right shape, type and range (probabilities in [0, 1] summing
    to 1; finite numbers for a regression)."""
    from trimode.modelling.quality import prediction_problems

    assert prediction_problems(test_task, test_run.model, test_run.split.x_test) == []


def training_is_deterministic(test_run: TrainingResult, test_config: Config) -> None:
    """The same rows, split and model come back for the same seed."""
    import numpy as np

    from trimode.modelling.registry import build_model, feature_schema
    from trimode.modelling.splitting import split_rows
    from trimode.workflows.session import load_data

    split = split_rows(load_data(test_config).frame, test_config)
    assert split.x_test.index.equals(test_run.split.x_test.index)
    schema = feature_schema(test_config, split.x_train)
    name, seed = test_run.manifest["model"], test_config.train.seed
    params = test_config.train.params.get(name)
    project, task = test_config.project, test_config.task
    refit = build_model(project, task, name, schema, seed, n_jobs=1, params=params)
    refit.fit(split.x_train, split.y_train)
    np.testing.assert_array_equal(refit.predict(split.x_test), test_run.model.predict(split.x_test))


def no_feature_leaks_the_target(test_run: TrainingResult, test_config: Config) -> None:
    """No feature predicts the target almost perfectly on its own (a leak), unless the
    config accepts it (evaluation.leakage_allow): each feature's score alone, as the run
    recorded it (quality.near_leaks)."""
    from trimode.modelling.quality import leak_message, leaking_features

    evaluation = test_config.evaluation
    scores = test_run.manifest["findings"]["single_feature_scores"]
    leaks = leaking_features(scores, evaluation.leakage_threshold, evaluation.leakage_allow)
    if leaks:
        pytest.fail(leak_message(leaks, test_config), pytrace=False)


def the_leakage_check_finds_a_planted_leak(
    test_run: TrainingResult, test_config: Config, test_task: Task
) -> None:
    """A copy of the target, planted as a feature of the data, is caught."""
    from trimode.data.schema import infer_schema
    from trimode.modelling.quality import leaking_features, planted_leak, single_feature_scores

    split = test_run.split
    x_train = split.x_train.assign(planted_leak=planted_leak(split.y_train).to_numpy())
    x_test = split.x_test.assign(planted_leak=planted_leak(split.y_test).to_numpy())
    schema = infer_schema(x_train[["planted_leak"]])
    scores = single_feature_scores(
        test_config.project, test_task, schema, (x_train, split.y_train), (x_test, split.y_test)
    )
    assert "planted_leak" in leaking_features(scores, test_config.evaluation.leakage_threshold)


def expectation_holds(expectation: int, expectation_outcomes: list[Outcome]) -> None:
    """One expectation of the project's expectations.py, on the held-out rows of the run: a
    failure names the rows that broke it and their values; one written for the built-in
    data that names a column the data lacks is skipped, saying why."""
    from trimode.modelling.behaviour import FAILED, NOT_APPLICABLE

    outcome = expectation_outcomes[expectation]
    if outcome.status == NOT_APPLICABLE:
        pytest.skip(outcome.message())
    if outcome.status == FAILED:
        pytest.fail(outcome.message(), pytrace=False)


def notebook_is_committed_without_outputs(notebook: Path) -> None:
    """A notebook is committed without outputs, its first cell tagged `parameters`."""
    content = json.loads(notebook.read_text(encoding="utf-8"))
    code = [cell for cell in content["cells"] if cell["cell_type"] == "code"]
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    assert "parameters" in code[0]["metadata"].get("tags", [])


@pytest.mark.slow
def notebook_runs_in_test_mode(notebook: Path, test_run: TrainingResult) -> None:
    """A notebook runs top to bottom in test mode on the data, reading the run's published
    outputs without changing them."""
    import nbformat
    from nbclient import NotebookClient

    content = nbformat.read(notebook, as_version=4)
    # Its parameters cell, as papermill would set it: test mode, reading the outputs the
    # test-mode run published into a temporary folder.
    parameters = next(cell for cell in content.cells if cell.cell_type == "code")
    outputs = test_run.output_dir
    before = _files_in(outputs)
    parameters.source = f'MODE = "test"\nCONFIG_OVERRIDES = {outputs_in(outputs)!r}\n'
    client = NotebookClient(
        content,
        kernel_name="python3",
        timeout=300,
        # Run from notebooks/, as Jupyter does: the configs' paths must still hold.
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on an error
    errors = [
        output
        for cell in content.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert errors == []
    assert _files_in(outputs) == before  # read, never written


@pytest.mark.slow
def report_is_written(test_run: TrainingResult, test_task: Task, trimode_project: Project) -> None:
    """The report of the test-mode run is written, with its sections."""
    from trimode.core.layout import REPORT_FILE
    from trimode.workflows.report import build_report
    from trimode.workflows.session import load_config

    config = load_config("test", trimode_project.config_dir, outputs_in(test_run.output_dir))
    page = build_report(config).read_text(encoding="utf-8")
    assert (test_run.output_dir / REPORT_FILE).is_file()
    assert page.lstrip().lower().startswith("<!doctype html")
    for section in ("Metrics on the held-out rows", "Error analysis", "Worst predictions"):
        assert section in page
    if test_task.has_classes:
        assert "Per class (held-out rows)" in page


def _files_in(folder: Path) -> dict[str, bytes]:
    """Every file under folder, by its relative path, with its content."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
