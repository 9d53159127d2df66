"""Production mode: the quality gate, the publish-all-or-nothing outputs, the manifest,
the trusted artifact, and batch prediction.

These runs use production settings of the runtime's own on a smaller built-in set
(the template's tests run the real thing on 200,000 rows), so they belong to the full
suite.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
import skops.io as sio
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC

from trimode.artifacts.manifest import FIELDS, sealed
from trimode.artifacts.model_file import load_model, read_manifest
from trimode.artifacts.publish import lock_path
from trimode.cli.main import main
from trimode.config.model import Config
from trimode.core.errors import ArtifactError, ConfigError, DataError, QualityGateFailed
from trimode.core.layout import (
    MANIFEST_FILE,
    MARKER_FILE,
    METRICS_FILE,
    MODEL_CARD_FILE,
    MODEL_FILE,
)
from trimode.core.project import Project, find_project, project_at
from trimode.core.tasks import task_named
from trimode.data.synthetic import make_dataset
from trimode.workflows import predict
from trimode.workflows import train as training
from trimode.workflows.predict import predict_file
from trimode.workflows.train import TrainingResult, train

from .conftest import TASK, machine_config, merged

pytestmark = pytest.mark.slow

ROWS = 6_000
PARAMS = {"learning_rate": 0.1, "max_leaf_nodes": 31}
PRODUCTION = {
    "data": {"synthetic_rows": ROWS, "max_rows": 0},
    "train": {"models": ["hist_gradient_boosting"], "params": {"hist_gradient_boosting": PARAMS}},
    "search": {"enabled": False, "iterations": 8},
    "evaluation": {
        "gate": True,
        "thresholds": {"primary": 0.7 if TASK == "classification" else 0.3},
    },
    "outputs": {"root": "outputs/production"},
}
# What makes production's threshold on the primary metric unreachable.
IMPOSSIBLE = {"evaluation": {"thresholds": {"primary": 0.9999}}}


def production_config(workspace: Path, name: str, **changes) -> Config:
    """A production config of the runtime's own in workspace/<name>/ (the project root
    stays workspace, so every such config publishes into workspace/outputs/production)."""
    return machine_config(workspace, "production", name=name, **merged(PRODUCTION, changes))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("production")


@pytest.fixture(scope="module")
def outputs(workspace: Path) -> Path:
    return workspace / "outputs" / "production"


@pytest.fixture(scope="module")
def project(workspace: Path) -> Project:
    """The project of the workspace: the code a model published there was trained with."""
    return project_at(workspace)


@pytest.fixture(scope="module")
def production_run(workspace: Path, outputs: Path) -> TrainingResult:
    """One production run, published into the workspace."""
    return train(production_config(workspace, "good"))


def published_files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def beside_outputs(outputs: Path) -> list[str]:
    """What the folder of the output root holds, but the lock's file, which stays there by
    design (artifacts/publish.py: removing it while a run waits on it would let a third
    run take a lock of its own)."""
    return sorted(path.name for path in outputs.parent.iterdir() if path != lock_path(outputs))


def test_manifest_records_every_field(production_run, outputs):
    manifest = json.loads((outputs / MANIFEST_FILE).read_text())
    assert list(manifest) == list(FIELDS)
    assert (manifest["mode"], manifest["task"]) == ("production", production_run.manifest["task"])
    assert manifest["artifact"]["file"] == MODEL_FILE
    model_bytes = (outputs / MODEL_FILE).read_bytes()
    assert manifest["artifact"]["sha256"] == hashlib.sha256(model_bytes).hexdigest()
    assert manifest["artifact"]["bytes"] == len(model_bytes)
    data = manifest["data"]
    assert data["rows"] == ROWS
    assert manifest["target"] in data["schema"]
    assert re.fullmatch(r"[0-9a-f]{64}", data["content_hash"])
    assert manifest["config"]["data"]["synthetic_rows"] == ROWS
    assert manifest["split"]["n_train"] + manifest["split"]["n_test"] == ROWS
    assert manifest["libraries"]["scikit-learn"] == sklearn.__version__
    assert set(manifest["git"]) == {"commit", "dirty"}
    assert manifest["compute"]["engine"] == "local"
    assert manifest["gate"]["enforced"] and manifest["gate"]["passed"]
    assert manifest == production_run.manifest
    assert manifest["started_at"] <= manifest["finished_at"]
    assert list(manifest["timings_s"]) == ["load", "split", "fit", "evaluate", "importance", "save"]
    features = manifest["features"]
    assert features["numeric"] + features["categorical"] == list(features["dtypes"])
    # The hyper-parameters the production config sets are the ones the model used.
    for name, value in PARAMS.items():
        assert manifest["params"][name] == value
    assert set(manifest["features"]["roles"].values()) <= {"target", "numeric", "categorical"}
    assert sorted(path.name for path in outputs.iterdir()) == sorted(
        [MANIFEST_FILE, METRICS_FILE, MODEL_FILE, MODEL_CARD_FILE, MARKER_FILE]
    )


def test_a_failed_gate_exits_3_and_leaves_the_last_good_model(
    production_run, workspace, outputs, capsys
):
    before = published_files(outputs)
    failing = production_config(workspace, "failing", **IMPOSSIBLE)
    argv = ["train", "--mode", "production", "--config-dir", str(failing.config_dir)]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "quality gate failed in production mode, nothing was published" in err
    assert "required >= 0.9999" in err
    assert published_files(outputs) == before
    assert beside_outputs(outputs) == ["production"]  # no leftovers


def test_an_interrupted_run_leaves_the_last_good_model(
    production_run, workspace, outputs, monkeypatch
):
    before = published_files(outputs)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    # The model is written; the run stops before its records are.
    monkeypatch.setattr(training, "write_json", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(production_config(workspace, "good"))
    assert published_files(outputs) == before
    assert beside_outputs(outputs) == ["production"]


def test_a_run_that_died_mid_swap_gets_the_last_good_model_back(production_run, workspace, outputs):
    before = published_files(outputs)
    # Killed between the swap's two renames: the last good outputs are only set aside.
    aside = outputs.parent / ".production.previous-killed"
    aside.mkdir()
    outputs.rename(aside / outputs.name)
    with pytest.raises(QualityGateFailed):
        train(production_config(workspace, "failing-2", **IMPOSSIBLE))
    assert published_files(outputs) == before
    assert beside_outputs(outputs) == ["production"]


def test_an_output_root_shared_with_other_folders_is_refused(production_run, workspace, outputs):
    before = published_files(outputs)
    shared = production_config(workspace, "shared", outputs={"root": "outputs"})
    with pytest.raises(ConfigError, match=r"was not made by this project .*it holds production/"):
        train(shared)
    assert published_files(outputs) == before


@pytest.fixture
def artifact_copy(production_run, outputs, tmp_path) -> Path:
    """A copy of the published outputs that a test may damage."""
    return Path(shutil.copytree(outputs, tmp_path / "artifact"))


def test_a_tampered_artifact_is_refused(artifact_copy, project, tmp_path):
    with (artifact_copy / MODEL_FILE).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ArtifactError, match=r"sha256 .* differs from .* in manifest\.json"):
        load_model(artifact_copy / MODEL_FILE, read_manifest(artifact_copy), project)
    rows = tmp_path / "rows.csv"
    make_dataset(read_manifest(artifact_copy)["task"], 10).to_csv(rows, index=False)
    with pytest.raises(ArtifactError, match="changed after training"):
        predict_file(project, str(rows), tmp_path / "out.csv", artifact_copy)
    assert not (tmp_path / "out.csv").exists()


def swap_model(folder: Path, model: Pipeline) -> dict:
    """Replace the published model with another, and its hash in the manifest to match."""
    (folder / MODEL_FILE).write_bytes(sio.dumps(model))
    manifest = read_manifest(folder)
    manifest["artifact"]["sha256"] = hashlib.sha256((folder / MODEL_FILE).read_bytes()).hexdigest()
    manifest = sealed(manifest)  # a forger who rewrites the record's digest too
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    return manifest


def test_an_artifact_holding_an_untrusted_type_is_refused(artifact_copy, project):
    # A pipeline that would run a shell command: its hash is right, its types are not.
    manifest = swap_model(artifact_copy, Pipeline([("run", FunctionTransformer(func=os.system))]))
    with pytest.raises(ArtifactError, match=r"do not produce: .*system.*; refusing"):
        load_model(artifact_copy / MODEL_FILE, manifest, project)


def test_an_artifact_holding_a_type_the_registry_does_not_produce_is_refused(
    artifact_copy, project
):
    # A support-vector machine: a type skops itself trusts, but not this model's.
    manifest = swap_model(artifact_copy, Pipeline([("model", SVC())]))
    with pytest.raises(ArtifactError, match=r"do not produce: sklearn\.svm\._classes\.SVC"):
        load_model(artifact_copy / MODEL_FILE, manifest, project)


LOAD_IN_A_FRESH_PROCESS = """
import sys
from pathlib import Path

from trimode.artifacts.model_file import load_model, read_manifest
from trimode.core.errors import ArtifactError
from trimode.core.layout import MODEL_FILE
from trimode.core.project import project_at

assert "skops.io" not in sys.modules, "skops is imported on first use only"
good, foreign, project = Path(sys.argv[1]), Path(sys.argv[2]), project_at(Path(sys.argv[3]))
print(type(load_model(good / MODEL_FILE, read_manifest(good), project)).__name__)
try:
    load_model(foreign / MODEL_FILE, read_manifest(foreign), project)
except ArtifactError as error:
    print("refused:", error)
print("pytest imported:", "pytest" in sys.modules)
"""


def test_a_fresh_process_loads_the_model_and_still_refuses_foreign_types(
    artifact_copy, project, starter_package, tmp_path
):
    """Outside the tests skops is imported without its own estimator list (skops_io.py):
    the model's types load, any other is refused, and no test library is imported."""
    foreign = Path(shutil.copytree(artifact_copy, tmp_path / "foreign"))
    swap_model(foreign, Pipeline([("model", SVC())]))
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_IN_A_FRESH_PROCESS,
            str(artifact_copy),
            str(foreign),
            str(project.root),
        ],
        capture_output=True,
        text=True,
        check=True,
        # The project's package is importable there as it is here.
        env={**os.environ, "PYTHONPATH": str(starter_package.parent)},
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "Pipeline", result.stdout
    assert re.match(r"refused: .* do not produce: sklearn\.svm\._classes\.SVC", lines[1])
    assert lines[2] == "pytest imported: False"


def test_an_artifact_without_a_manifest_is_refused(artifact_copy):
    (artifact_copy / MANIFEST_FILE).unlink()
    with pytest.raises(ArtifactError, match=r"no manifest\.json"):
        read_manifest(artifact_copy)


def scoring_input(task: str, rows: int) -> pd.DataFrame:
    """Unseen rows (another seed) with an ID column in front and the target kept."""
    frame = make_dataset(task, rows, seed=3)
    frame.insert(0, "customer_id", np.arange(rows))
    return frame


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_predict_streams_batches_and_matches_the_model(
    production_run, outputs, project, tmp_path, suffix, monkeypatch
):
    task, target = production_run.manifest["task"], production_run.manifest["target"]
    frame = scoring_input(task, 2_500)
    source = tmp_path / f"rows{suffix}"
    output = tmp_path / f"predictions{suffix}"
    if suffix == ".csv":
        frame.to_csv(source, index=False)
    else:
        frame.to_parquet(source, index=False)
    # 1,000-row batches: the input spans three of them.
    batches = []
    monkeypatch.setattr(predict, "conform", spy(predict.conform, batches))
    result = predict_file(
        project, str(source), output, outputs, batch_rows=1_000, keep=("customer_id",)
    )
    assert [len(batch) for batch in batches] == [1_000, 1_000, 500]
    assert result.rows == len(frame)
    assert result.ignored_columns == [target]
    written = pd.read_csv(output) if suffix == ".csv" else pd.read_parquet(output)
    assert len(written) == len(frame)
    np.testing.assert_array_equal(written["customer_id"], frame["customer_id"])
    features = frame.drop(columns=["customer_id", target])
    expected = production_run.model.predict(features)
    if task_named(task).has_classes:
        np.testing.assert_array_equal(written["prediction"], expected)
        classes = production_run.manifest["classes"]
        probabilities = written[[f"probability_{label}" for label in classes]].to_numpy()
        np.testing.assert_allclose(probabilities, production_run.model.predict_proba(features))
    else:
        np.testing.assert_allclose(written["prediction"], expected)


def spy(function, calls: list):
    """Wrap function so that each call's first argument is recorded in calls."""

    def recorded(first, *args, **kwargs):
        calls.append(first)
        return function(first, *args, **kwargs)

    return recorded


def test_predict_reads_a_csv_by_the_training_schema_not_by_its_first_rows(
    production_run, outputs, project, tmp_path
):
    """pyarrow guesses CSV types from the first block (about 1 MB): a categorical column
    empty there, or a bad number after it, must not trip it."""
    features = production_run.manifest["features"]
    categorical, numeric = features["categorical"][0], features["numeric"][0]
    frame = scoring_input(production_run.manifest["task"], 30_000)
    frame.loc[:25_000, categorical] = np.nan  # a null-typed column, for a guesser
    frame.to_csv(tmp_path / "rows.csv", index=False)
    result = predict_file(project, str(tmp_path / "rows.csv"), tmp_path / "out.parquet", outputs)
    assert result.rows == len(frame) == len(pd.read_parquet(tmp_path / "out.parquet"))

    frame[numeric] = frame[numeric].astype(object)
    frame.loc[29_000, numeric] = "unknown"
    frame.to_csv(tmp_path / "rows.csv", index=False)
    expected = f"column '{numeric}' must hold numbers .* 'unknown' in data row 29001"
    with pytest.raises(DataError, match=expected):
        predict_file(project, str(tmp_path / "rows.csv"), tmp_path / "bad.parquet", outputs)
    assert not (tmp_path / "bad.parquet").exists()


def test_predict_names_missing_columns_and_writes_nothing(
    production_run, outputs, project, tmp_path
):
    features = production_run.manifest["features"]
    dropped = [features["numeric"][0], features["categorical"][0]]
    frame = scoring_input(production_run.manifest["task"], 50).drop(columns=dropped)
    frame.to_csv(tmp_path / "rows.csv", index=False)
    with pytest.raises(
        DataError, match=f"missing column\\(s\\) the model needs: {', '.join(dropped)}"
    ):
        predict_file(project, str(tmp_path / "rows.csv"), tmp_path / "out.csv", outputs)
    assert list(tmp_path.iterdir()) == [tmp_path / "rows.csv"]


def test_predict_names_a_value_that_is_not_a_number(production_run, outputs, project, tmp_path):
    column = production_run.manifest["features"]["numeric"][0]
    frame = scoring_input(production_run.manifest["task"], 50)
    frame[column] = frame[column].astype(object)
    frame.loc[7, column] = "seven"
    frame.to_csv(tmp_path / "rows.csv", index=False)
    with pytest.raises(
        DataError, match=f"column '{column}' must hold numbers .* 'seven' in data row 8"
    ):
        predict_file(
            project, str(tmp_path / "rows.csv"), tmp_path / "out.parquet", outputs, batch_rows=5
        )
    assert not (tmp_path / "out.parquet").exists()


def test_predict_refuses_a_test_mode_model_unless_allowed(machine_run, tmp_path):
    frame = scoring_input(machine_run.manifest["task"], 20)
    frame.to_parquet(tmp_path / "rows.parquet", index=False)
    output = tmp_path / "out.parquet"
    project = find_project(machine_run.output_dir)
    with pytest.raises(ArtifactError, match="trained in test mode, not production"):
        predict_file(project, str(tmp_path / "rows.parquet"), output, machine_run.output_dir)
    assert not output.exists()
    result = predict_file(
        project,
        str(tmp_path / "rows.parquet"),
        output,
        machine_run.output_dir,
        allow_non_production=True,
    )
    assert result.rows == len(pd.read_parquet(output)) == 20


def test_predict_command_line(production_run, workspace, outputs, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(workspace)  # the command finds the project from the current folder
    frame = scoring_input(production_run.manifest["task"], 30)
    frame.to_csv(tmp_path / "rows.csv", index=False)
    common = ["predict", "--input", str(tmp_path / "rows.csv"), "--model", str(outputs)]
    assert main([*common, "--output", str(tmp_path / "out.csv")]) == 0
    captured = capsys.readouterr()
    assert "predicted 30 rows" in captured.out
    assert "note: ignored input column(s) the model does not use: customer_id" in captured.err
    assert main([*common, "--output", str(tmp_path / "out.txt")]) == 2
    assert "expected a .csv or .parquet file name" in capsys.readouterr().err
    assert not (tmp_path / "out.txt").exists()


def test_search_tunes_within_the_registry_space(tmp_path):
    config = production_config(tmp_path, "configs", search={"enabled": True, "iterations": 2})
    result = train(config)
    search = result.manifest["search"]
    assert (search["candidates"], search["cv_folds"], len(search["results"])) == (2, 3, 2)
    space = config.project.registry()[config.task][result.manifest["model"]].search_space
    for key, value in search["best_params"].items():
        assert value in space[key.removeprefix("model__")]
        assert result.model.get_params()[key] == value
    assert search["best_score"] in [row["mean"] for row in search["results"]]


def test_refit_on_all_rows_uses_the_held_out_rows_too(tmp_path):
    # A model whose preprocessing scales numbers: its scaler counts the rows it saw.
    refit = {"refit_on_all_rows": True, "models": ["logistic_regression"]}
    result = train(production_config(tmp_path, "configs", train=refit))
    assert "refit" in result.manifest["timings_s"]
    scaler = result.model.named_steps["preprocess"].named_transformers_["numeric"]["scale"]
    split = result.manifest["split"]
    assert scaler.n_samples_seen_ == split["n_train"] + split["n_test"]


def test_predict_keeps_id_columns_and_names_one_probability_per_class(tmp_path):
    """Three text classes, an ID column: predict writes the ID, the class and one
    probability column per class, named after it."""
    frame = make_dataset("classification", 3_000, seed=6).drop(columns="churned")
    frame.insert(0, "customer_id", np.arange(len(frame)))
    frame.iloc[:2_500].to_csv(tmp_path / "rows.csv", index=False)
    config = machine_config(
        tmp_path,
        "production",
        task="classification",
        base={"data": {"source": "rows.csv", "target": "plan"}},
        columns={"ids": ["customer_id"]},
        outputs={"root": "outputs/production"},
    )
    train(config)
    new_rows = frame.iloc[2_500:].drop(columns="plan")
    new_rows.to_csv(tmp_path / "new.csv", index=False)
    result = predict_file(
        config.project, str(tmp_path / "new.csv"), tmp_path / "out.csv", config.output_dir
    )
    written = pd.read_csv(tmp_path / "out.csv")
    assert list(written.columns) == [
        "customer_id",
        "prediction",
        "probability_basic",
        "probability_premium",
        "probability_standard",
    ]
    np.testing.assert_array_equal(written["customer_id"], new_rows["customer_id"])
    assert set(written["prediction"]) <= {"basic", "premium", "standard"}
    np.testing.assert_allclose(written.filter(like="probability_").sum(axis=1), 1.0)
    assert result.ignored_columns == []
