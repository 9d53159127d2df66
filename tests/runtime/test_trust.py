"""Loading a model (artifacts/trust.py): the types it may hold are derived from the class
and hyper-parameters its manifest records, not from what models.py says today, so a
model trained before a registry edit still loads; the derived list is cached, so a
repeated load fits nothing; and caching weakens no refusal."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn.pipeline
import skops.io as sio
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC

from trimode.artifacts.manifest import sealed
from trimode.artifacts.model_file import load_model, read_manifest
from trimode.cli.main import main
from trimode.core.cache import CACHE_VARIABLE
from trimode.core.errors import ArtifactError
from trimode.core.layout import MANIFEST_FILE, MODEL_FILE
from trimode.core.project import Project, find_project
from trimode.data.synthetic import TARGETS, make_dataset
from trimode.workflows.train import TrainingResult, train

from .conftest import TASK, machine_config, make_configs
from .packages import package_config, write_package

pytestmark = pytest.mark.slow

# The registry entry the runs below train, as the template's models.py writes it.
ENTRY = """        "logistic_regression": ModelSpec(
            make=lambda seed, n_jobs: LogisticRegression(max_iter=2_000, random_state=seed),
            search_space={"C": [0.01, 0.1, 1.0, 10.0]},
        ),
"""
# Two edits of it after training: other default hyper-parameters, or no entry at all.
REGISTRY_EDITS = {
    "defaults changed": [
        (
            "LogisticRegression(max_iter=2_000, random_state=seed)",
            "LogisticRegression(max_iter=50, C=0.2, class_weight='balanced', random_state=seed)",
        )
    ],
    "entry deleted": [(ENTRY, "")],
}
ONE_MODEL = {"models": ["logistic_regression"]}
# What the registry of the project around the current folder says of the entry.
READ_ENTRY = """
from trimode.core.project import find_project
from trimode.modelling.registry import make_estimator

project = find_project(".")
if "logistic_regression" in project.registry()["classification"]:
    print(f"C={make_estimator(project, 'classification', 'logistic_regression').C}")
else:
    print("deleted")
"""


class Fitted(Exception):
    """Raised by a fit the test forbids."""


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> TrainingResult:
    """A logistic regression trained in test mode in a project of the template's code."""
    return train(machine_config(tmp_path_factory.mktemp("trained"), train=ONE_MODEL))


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache of derived type lists, for this test alone."""
    folder = tmp_path / "trusted-types"
    monkeypatch.setenv(CACHE_VARIABLE, str(folder))
    return folder


def project_of(result: TrainingResult) -> Project:
    """The project a run was made in."""
    project = find_project(result.output_dir)
    assert project is not None
    return project


def rows(count: int = 40) -> pd.DataFrame:
    """Unseen rows of the built-in data set, without the target."""
    return make_dataset(TASK, count, seed=5).drop(columns=TARGETS[TASK])


def fresh_process(cache: Path) -> dict[str, str]:
    """The environment of a process that imports only the code of the project it runs in
    (not the tests' package `starter`), with the given cache of derived type lists."""
    variables = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return {**variables, CACHE_VARIABLE: str(cache)}


@pytest.mark.parametrize("edit", REGISTRY_EDITS)
def test_a_model_trained_before_a_registry_edit_still_loads(trained, tmp_path, edit):
    """A second project, whose package `starter` is the first's with the entry edited, scores
    and reports the first project's model (its own process: one `starter` per process)."""
    edited = tmp_path / "edited"
    outputs = {"root": str(trained.output_dir), "allow_outside_project": True}
    write_package(edited, "starter", {"models.py": REGISTRY_EDITS[edit]})
    make_configs(edited, base={"outputs": outputs})
    rows().to_csv(tmp_path / "rows.csv", index=False)
    environment = fresh_process(tmp_path / "cache")

    def command(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "trimode", *arguments],
            cwd=edited,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )

    scored = command(
        "predict",
        *("--input", str(tmp_path / "rows.csv"), "--output", str(tmp_path / "out.csv")),
        *("--model", str(trained.output_dir), "--allow-non-production"),
    )
    assert scored.returncode == 0, scored.stderr
    written = pd.read_csv(tmp_path / "out.csv")
    np.testing.assert_array_equal(written["prediction"], trained.model.predict(rows()))
    reported = command("report", "--mode", "test")
    assert reported.returncode == 0, reported.stderr
    assert (trained.output_dir / "report.html").is_file()
    # The edit is the registry that process read.
    entry = subprocess.run(
        [sys.executable, "-c", READ_ENTRY],
        cwd=edited,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert entry == ("deleted" if edit == "entry deleted" else "C=0.2")


def test_an_older_record_of_a_deleted_entry_is_refused_naming_it(trained, tmp_path):
    """A manifest without the model's class (written before 5.0) is rebuilt from the registry:
    when its entry is gone, one line names the entry and what to do."""
    folder = Path(shutil.copytree(trained.output_dir, tmp_path / "older"))
    manifest = read_manifest(folder)
    del manifest["estimator"]
    manifest["model"] = "retired_model"
    with pytest.raises(ArtifactError) as refused:
        load_model(folder / MODEL_FILE, manifest, project_of(trained))
    message = str(refused.value)
    assert "\n" not in message
    assert "model 'retired_model' records no estimator class and is not in this project's" in (
        message
    )
    assert "put the entry back, or train again" in message


def test_an_older_record_whose_registry_factory_fails_is_refused_in_one_line(
    trained, tmp_path, monkeypatch
):
    """A manifest without the model's class is rebuilt from the registry; a registry entry
    whose factory raises (the project's code) is one refusal line, not a traceback."""
    folder = Path(shutil.copytree(trained.output_dir, tmp_path / "older"))
    manifest = read_manifest(folder)
    del manifest["estimator"]
    project = project_of(trained)
    spec = project.registry()["classification"][manifest["model"]]

    def broken(seed: int, n_jobs: int):
        raise RuntimeError("the vendor library is not installed")

    monkeypatch.setitem(
        project.registry()["classification"],
        manifest["model"],
        dataclasses.replace(spec, make=broken),
    )
    with pytest.raises(ArtifactError) as refused:
        load_model(folder / MODEL_FILE, manifest, project)
    message = str(refused.value)
    assert "\n" not in message and "cannot be rebuilt" in message and "train again" in message


def test_a_repeated_load_fits_nothing(trained, tmp_path, cache, monkeypatch):
    project, folder = project_of(trained), trained.output_dir
    manifest = read_manifest(folder)
    fits = []
    fit = sklearn.pipeline.Pipeline.fit

    def counted(self, *args, **kwargs):
        fits.append(self)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(sklearn.pipeline.Pipeline, "fit", counted)
    load_model(folder / MODEL_FILE, manifest, project)
    assert fits, "the first load derives the list of types by fitting"
    assert len(list((cache / "trusted-types").glob("*.json"))) == 1

    def forbidden(self, *args, **kwargs):
        raise Fitted

    monkeypatch.setattr(sklearn.pipeline.Pipeline, "fit", forbidden)
    loaded = load_model(folder / MODEL_FILE, manifest, project)
    np.testing.assert_array_equal(loaded.predict(rows()), trained.model.predict(rows()))
    # The list is kept per estimator and hyper-parameters: another C is derived anew.
    monkeypatch.setattr(sklearn.pipeline.Pipeline, "fit", fit)
    other = train(
        machine_config(
            tmp_path / "other-c", train={**ONE_MODEL, "params": {"logistic_regression": {"C": 0.5}}}
        )
    )
    monkeypatch.setattr(sklearn.pipeline.Pipeline, "fit", forbidden)
    with pytest.raises(Fitted):
        load_model(other.output_dir / MODEL_FILE, other.manifest, project)


LOAD_WITHOUT_FITTING = """
import sys
from pathlib import Path

import sklearn.pipeline

from trimode.artifacts.model_file import load_model, read_manifest
from trimode.core.layout import MODEL_FILE
from trimode.core.project import project_at


def forbidden(self, *args, **kwargs):
    raise RuntimeError("fitted")


sklearn.pipeline.Pipeline.fit = forbidden
folder, project = Path(sys.argv[1]), project_at(Path(sys.argv[2]))
try:
    model = load_model(folder / MODEL_FILE, read_manifest(folder), project)
except RuntimeError as error:
    print(error)
else:
    print("loaded", type(model).__name__)
"""


def test_a_fresh_process_loads_from_the_cache_without_fitting(
    trained, cache, tmp_path, starter_package
):
    project = project_of(trained)
    load_model(trained.output_dir / MODEL_FILE, read_manifest(trained.output_dir), project)

    def load_in_a_fresh_process(folder: Path) -> str:
        done = subprocess.run(
            [sys.executable, "-c", LOAD_WITHOUT_FITTING, str(trained.output_dir), project.root],
            capture_output=True,
            text=True,
            check=True,
            env={
                **os.environ,
                "PYTHONPATH": str(starter_package.parent),
                CACHE_VARIABLE: str(folder),
            },
        )
        return done.stdout.strip()

    assert load_in_a_fresh_process(cache) == "loaded Pipeline"
    # With an empty cache the same load must fit: the forbidden fit is in force there.
    assert load_in_a_fresh_process(tmp_path / "empty") == "fitted"


def swap_model(folder: Path, model: Pipeline) -> dict:
    """Replace the model with another, and its hash in the manifest to match."""
    (folder / MODEL_FILE).write_bytes(sio.dumps(model))
    manifest = read_manifest(folder)
    manifest["artifact"]["sha256"] = hashlib.sha256((folder / MODEL_FILE).read_bytes()).hexdigest()
    manifest = sealed(manifest)  # a forger who rewrites the record's digest too
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    return manifest


def tampered(folder: Path) -> None:
    with (folder / MODEL_FILE).open("ab") as handle:
        handle.write(b"\0")


HOSTILE = {
    "changed after training": (tampered, r"sha256 .* differs from .* in manifest\.json"),
    "a shell command": (
        lambda folder: swap_model(folder, Pipeline([("run", FunctionTransformer(func=os.system))])),
        r"do not produce: .*system.*; refusing",
    ),
    "a type its model does not hold": (
        lambda folder: swap_model(folder, Pipeline([("model", SVC())])),
        r"do not produce: sklearn\.svm\._classes\.SVC",
    ),
    "no manifest": (lambda folder: (folder / MANIFEST_FILE).unlink(), r"no manifest\.json"),
}


@pytest.mark.parametrize("hostile", HOSTILE)
def test_with_the_types_cached_a_hostile_artifact_is_still_refused(
    trained, cache, tmp_path, hostile
):
    project = project_of(trained)
    load_model(trained.output_dir / MODEL_FILE, read_manifest(trained.output_dir), project)
    assert list((cache / "trusted-types").glob("*.json"))
    folder = Path(shutil.copytree(trained.output_dir, tmp_path / "artifact"))
    damage, refusal = HOSTILE[hostile]
    damage(folder)
    with pytest.raises(ArtifactError, match=refusal):
        load_model(folder / MODEL_FILE, read_manifest(folder), project)


@pytest.mark.parametrize("estimator", ["subprocess.Popen", "builtins.eval", "vendor.Classifier"])
def test_a_record_naming_a_class_from_elsewhere_is_refused_in_one_line(
    trained, tmp_path, estimator, capsys, monkeypatch
):
    folder = Path(shutil.copytree(trained.output_dir, tmp_path / "artifact"))
    manifest = read_manifest(folder)
    manifest["estimator"] = estimator
    manifest = sealed(manifest)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError) as refused:
        load_model(folder / MODEL_FILE, manifest, project_of(trained))
    message = str(refused.value)
    assert "\n" not in message
    neither = "which is neither a scikit-learn or trimode class"
    assert f"names estimator {estimator!r}, {neither}" in message
    assert "refusing to load it" in message
    # The command line says the same, in one line, and exits 2 (bad input).
    rows().to_csv(tmp_path / "rows.csv", index=False)
    monkeypatch.chdir(project_of(trained).root)
    arguments = ["predict", "--input", str(tmp_path / "rows.csv"), "--model", str(folder)]
    code = main([*arguments, "--output", str(tmp_path / "out.csv"), "--allow-non-production"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and estimator in err, err
    assert not (tmp_path / "out.csv").exists()


# A classifier of another library than scikit-learn (scikit-learn's logistic regression
# under another name), which a registry entry makes.
VENDOR_MODULE = '''"""Another library's estimator."""

from sklearn.linear_model import LogisticRegression


class VendorClassifier(LogisticRegression):
    """A logistic regression of another library."""
'''
VENDOR_ENTRY = """    "classification": {
        "vendor": ModelSpec(
            make=lambda seed, n_jobs: VendorClassifier(max_iter=500, random_state=seed),
        ),
"""


def test_another_librarys_class_loads_when_the_registry_entry_makes_it(tmp_path):
    root = tmp_path / "vendored"
    (root / "src").mkdir(parents=True)
    (root / "src" / "trimode_test_vendor.py").write_text(VENDOR_MODULE)
    edits = {
        "models.py": [
            ('    "classification": {\n', VENDOR_ENTRY),
            (
                "from trimode import ModelSpec",
                "from trimode_test_vendor import VendorClassifier\nfrom trimode import ModelSpec",
            ),
        ]
    }
    config = package_config(root, "vendored", edits, train={"models": ["vendor"]})
    result = train(config)
    manifest = read_manifest(config.output_dir)
    assert manifest["estimator"] == "trimode_test_vendor.VendorClassifier"
    loaded = load_model(config.output_dir / MODEL_FILE, manifest, config.project)
    np.testing.assert_array_equal(loaded.predict(rows()), result.model.predict(rows()))
    # The same class recorded for an entry that makes another is not trusted.
    manifest["model"] = "logistic_regression"
    with pytest.raises(
        ArtifactError, match=r"nor the class its registry entry 'logistic_regression'"
    ):
        load_model(config.output_dir / MODEL_FILE, manifest, config.project)
