"""Generated projects pointed at real data sets, as a new user points them: the matrix.

Each data set ships with a package (nothing is downloaded): scikit-learn's breast
cancer (two classes), wine (three integer classes) and diabetes (regression, with a
patient ID and a visit date added here), and the Palmer penguins (three text
classes, categorical columns, missing values). Each is served as a CSV file, a
Parquet file or a SQLite table inside the project's data/ folder, and the project is
configured only through configs/base.toml, as the generated project's docs tell a
user: data.source, data.target (data.table), [columns], and evaluation.leakage_allow
when the leakage check prints the line to add. One more case gives the penguins a
derived column, in the one place for it: add_features in the project's features.py.

Then, for each: fetch-sample in test and human mode, compare, train in every mode,
report, promote, predict on rows the source never held (raw rows: a derived column is
the model's to compute), the project's tests (tests/test_pipeline.py, the checks of
trimode's pytest plugin, and tests/test_features.py), and a real `git commit` of what
the user changed through every hook. Each case starts from the project as it was
generated; each step's result and wall time is recorded (the session summary prints
the matrix).
"""

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from project_shell import Project, set_up_project

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("real-data")]

PACKAGE = "ml_project"
COMMAND = "ml-project"
FEATURES = f"src/{PACKAGE}/features.py"
# The tag of a project's first commit: each case starts from it.
FRESH = "as-generated"


@dataclass(frozen=True)
class RealData:
    """A real data set, how it is served, and the config lines a user writes for it."""

    name: str
    task: str
    # Which file or table under data/ serves it, and in what format.
    served_as: str
    source: str
    target: str
    table: str = ""
    # Extra lines of the [columns] section.
    columns: dict[str, list[str]] = field(default_factory=dict)
    # The classes predict must name, for classification.
    classes: tuple[str, ...] = ()
    # The body of features.py's add_features (the project's is `return frame`), and the
    # column it derives.
    add_features: str = ""
    derived: str = ""


DATA_SETS = [
    RealData(
        "breast-cancer",
        "classification",
        "csv",
        "data/breast_cancer.csv",
        "diagnosis",
        classes=("0", "1"),
    ),
    RealData(
        "wine",
        "classification",
        "parquet",
        "data/wine.parquet",
        "cultivar",
        classes=("0", "1", "2"),
    ),
    RealData(
        "penguins",
        "classification",
        "sqlite",
        "sqlite:///data/penguins.db",
        "species",
        table="penguins",
        classes=("Adelie", "Chinstrap", "Gentoo"),
    ),
    RealData(
        "diabetes-with-id-and-date",
        "regression",
        "csv",
        "data/diabetes.csv",
        "progression",
        columns={"ids": ["patient_id"], "dates": ["visit_date"]},
    ),
    RealData(
        "penguins-with-a-derived-column",
        "classification",
        "parquet",
        "data/penguins.parquet",
        "species",
        classes=("Adelie", "Chinstrap", "Gentoo"),
        # A ratio of two measured columns, both missing in two rows (so is the ratio).
        add_features='return frame.assign(bill_shape=frame["bill_length_mm"] / '
        'frame["bill_depth_mm"])',
        derived="bill_shape",
    ),
]

# Run by the project's own python: write the data set as served, minus the rows kept
# back for `predict` (every 10th row), and those rows, without their target, as new.csv.
WRITE_DATA = """
import sys
import sqlite3
import numpy as np
import pandas as pd
from sklearn import datasets

name, served_as, where, target, table = sys.argv[1:6]
name = name.removesuffix("-with-a-derived-column")
if name == "breast-cancer":
    frame = datasets.load_breast_cancer(as_frame=True).frame.rename(columns={"target": target})
elif name == "wine":
    frame = datasets.load_wine(as_frame=True).frame.rename(columns={"target": target})
elif name == "penguins":
    from palmerpenguins import load_penguins

    frame = load_penguins()
else:
    frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    frame = frame.rename(columns={"target": target})
    frame.insert(0, "patient_id", np.arange(100_000, 100_000 + len(frame)))
    days = np.random.default_rng(0).integers(0, 3 * 365, size=len(frame))
    visits = pd.Timestamp("2011-01-01") + pd.to_timedelta(days, unit="D")
    frame.insert(1, "visit_date", visits.strftime("%Y/%m/%d"))  # dates as a CSV export has them
kept_back = frame.index % 10 == 0
source, new_rows = frame[~kept_back], frame[kept_back]
if served_as == "csv":
    source.to_csv(where, index=False)
elif served_as == "parquet":
    source.to_parquet(where, index=False)
else:
    with sqlite3.connect(where) as connection:
        source.to_sql(table, connection, index=False)
new_rows.drop(columns=target).to_csv("data/new.csv", index=False)
new_rows[[target]].to_csv("data/new_truth.csv", index=False)
"""

# Run by the project's python: how good the predictions on the kept-back rows are,
# against the majority class or the mean of the training rows.
JUDGE = """
import json, sys
import pandas as pd
from sklearn import metrics

task, target = sys.argv[1:3]
predicted = pd.read_csv("outputs/predictions.csv")
truth = pd.read_csv("data/new_truth.csv")[target]
if task == "classification":
    labels = truth.astype(str)
    print(json.dumps({
        "accuracy": metrics.accuracy_score(labels, predicted["prediction"].astype(str)),
        "majority_share": float(labels.value_counts(normalize=True).iloc[0]),
        "columns": list(predicted.columns),
        "rows": len(predicted),
        "probability_sums": [float(predicted.filter(like="probability_").sum(axis=1).min()),
                             float(predicted.filter(like="probability_").sum(axis=1).max())],
    }))
else:
    print(json.dumps({
        "r2": metrics.r2_score(truth, predicted["prediction"]),
        "columns": list(predicted.columns),
        "rows": len(predicted),
    }))
"""


@pytest.fixture(scope="module")
def projects(template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Project]:
    """A project per task, set up as its README says (uv sync, hooks), first commit made."""
    made = {}
    for task in ("classification", "regression"):
        project = set_up_project(
            template_repo, tmp_path_factory.mktemp(f"real-{task}"), {"task": task}
        )
        project.run("git", "add", "--all")
        project.run("git", "commit", "--quiet", "--no-verify", "--message", "Fresh project")
        project.run("git", "tag", FRESH)
        made[task] = project
    return made


def as_generated(project: Project) -> None:
    """Put the project back as it was generated: its first commit, no data, no outputs, no
    tracking store (its environment stays), whatever an earlier case committed or wrote."""
    project.run("git", "reset", "--hard", "--quiet", FRESH)
    project.run("git", "clean", "-d", "-x", "--force", "--quiet", "--exclude=/.venv/")
    assert project.run("git", "status", "--porcelain").stdout == ""
    assert not (project.folder / "outputs").exists()
    assert [path.name for path in (project.folder / "data").iterdir()] == ["README.md"]


def with_add_features(text: str, body: str) -> str:
    """features.py's text with add_features returning what body says, as a user edits it."""
    generated = "    return frame\n"
    assert text.count(generated) == 1, "features.py's add_features changed: update this test"
    return text.replace(generated, f"    {body}\n")


def set_key(text: str, section: str, key: str, value: object) -> str:
    """Set `key = value` in [section] of a config file's text, as a user edits it."""
    line = f"{key} = {json.dumps(value)}"
    start = text.index(f"[{section}]\n")
    end = text.find("\n[", start + 1)
    end = len(text) if end < 0 else end
    body, count = re.subn(rf"(?m)^{re.escape(key)} = .*$", line, text[start:end], count=1)
    if not count:
        body = body.replace(f"[{section}]\n", f"[{section}]\n{line}\n", 1)
    return text[:start] + body + text[end:]


class Steps:
    """Run a project's commands one by one, recording each step's result and time."""

    def __init__(self, project: Project, data: RealData, record_property):
        self.project, self.data, self.record = project, data, record_property

    def run(self, step: str, *command: str, check: bool = True):
        start = time.perf_counter()
        result = self.project.run(*command, check=False)
        self.line(step, "ok" if result.returncode == 0 else f"exit {result.returncode}", start)
        assert not check or result.returncode == 0, f"{step}: {command}\n{result.stdout}"
        return result

    def line(self, step: str, verdict: str, start: float, detail: str = "") -> None:
        """Record one row of the matrix: data set, step, result, seconds, what it gave."""
        seconds = time.perf_counter() - start
        row = f"{self.data.name:26} {step:44} {verdict:8} {seconds:6.1f} s  {detail}"
        self.record("real_data", row.rstrip())

    def cli(self, step: str, *arguments: str):
        return self.run(step, "uv", "run", "--quiet", COMMAND, *arguments)


@pytest.mark.parametrize("data", DATA_SETS, ids=[data.name for data in DATA_SETS])
def test_a_real_data_set_through_every_mode_its_tests_and_a_commit(data, projects, record_property):
    project = projects[data.task]
    as_generated(project)
    steps = Steps(project, data, record_property)
    where = data.source.removeprefix("sqlite:///")
    # The penguins come with the palmerpenguins package, added for this one command only.
    script = ["uv", "run", "--quiet", "--with", "palmerpenguins", "python", "-c", WRITE_DATA]
    arguments = [data.name, data.served_as, where, data.target, data.table]
    steps.run("write the data set into data/", *script, *arguments)

    # Only the config, as the README's "Use your own data" says.
    text = project.read("configs/base.toml")
    text = set_key(text, "data", "source", data.source)
    text = set_key(text, "data", "target", data.target)
    text = set_key(text, "data", "table", data.table)
    for key, names in data.columns.items():
        text = set_key(text, "columns", key, names)
    text = set_key(text, "evaluation", "leakage_allow", [])  # nothing accepted yet
    project.write("configs/base.toml", text)
    if data.add_features:  # the one place for a derived column
        project.write(FEATURES, with_add_features(project.read(FEATURES), data.add_features))

    fetched = steps.cli("fetch-sample --mode test", "fetch-sample", "--mode", "test")
    assert "rows from" in fetched.stdout
    steps.cli("fetch-sample --mode human", "fetch-sample", "--mode", "human")

    # The leakage check names features strong enough to look like leaks, with the line
    # that accepts them: a user reads it, decides they are real, and adds it.
    leakage = steps.run(
        "leakage check, first run",
        "uv",
        "run",
        "--quiet",
        "pytest",
        "-q",
        "tests/test_pipeline.py",
        "-k",
        "test_no_feature_leaks_the_target",
        check=False,
    )
    accepted = re.search(r"leakage_allow = (\[.*?\])", leakage.stdout)
    if leakage.returncode != 0:
        assert accepted, leakage.stdout
        text = project.read("configs/base.toml")
        project.write(
            "configs/base.toml",
            text.replace("leakage_allow = []", f"leakage_allow = {accepted.group(1)}", 1),
        )
        steps.line("  accepted, as the failure says", "-", time.perf_counter(), accepted.group(1))

    compared = steps.cli("compare --mode human", "compare", "--mode", "human")
    assert "dummy_baseline" in compared.stdout
    steps.cli("train --mode test", "train", "--mode", "test")
    human = steps.cli("train --mode human", "train", "--mode", "human")
    leaderboard = json.loads(project.read("outputs/human/leaderboard.json"))
    best = leaderboard["rows"][0]["model"]
    assert f"[human] {best} on" in human.stdout  # one best: compare's first is train's choice
    if data.columns:  # declared roles: no advice to give about those columns
        assert "looks like" not in human.stdout
        roles = json.loads(project.read("outputs/human/manifest.json"))["features"]["roles"]
        assert roles["patient_id"] == "id" and roles["visit_date"] == "date"
    steps.cli("report --mode human", "report", "--mode", "human")
    report = project.read("outputs/human/report.html")
    assert "Error analysis" in report and "Worst slices" in report
    if data.derived:  # the report looks at the features the model sees
        assert f"<td>{data.derived}</td>" in report
    promoted = steps.cli("promote --from human", "promote")
    assert f"train.models = [{best!r}]" in promoted.stdout
    production = steps.cli("train --mode production", "train", "--mode", "production")
    assert "quality gate passed" in production.stdout
    manifest = json.loads(project.read("outputs/production/manifest.json"))
    assert manifest["model"] == best
    if data.derived:  # computed by the model from raw rows: a feature, never an input
        features = manifest["features"]
        assert data.derived in features["numeric"], features
        assert data.derived not in features["inputs"], features
        assert features["dtypes"][data.derived] == "derived", features
    primary = manifest["primary_metric"]
    steps.line(
        "  production model (held-out rows)",
        "-",
        time.perf_counter(),
        f"{best}: {primary} {manifest['metrics'][primary]:.4f}, "
        f"baseline {manifest['baseline'][primary]:.4f}",
    )
    steps.cli(
        "predict (rows the source never held)",
        "predict",
        "--input",
        "data/new.csv",
        "--output",
        "outputs/predictions.csv",
    )
    judged = json.loads(
        steps.run(
            "judge the predictions",
            "uv",
            "run",
            "--quiet",
            "python",
            "-c",
            JUDGE,
            data.task,
            data.target,
        ).stdout
    )
    unseen = (
        f"accuracy {judged['accuracy']:.3f} vs majority share {judged['majority_share']:.3f}"
        if data.task == "classification"
        else f"R² {judged['r2']:.3f}"
    )
    steps.line("  on the rows the source never held", "-", time.perf_counter(), unseen)
    if data.task == "classification":
        assert judged["columns"] == ["prediction", *[f"probability_{c}" for c in data.classes]]
        assert judged["accuracy"] > judged["majority_share"] + 0.1, judged
        assert judged["probability_sums"][0] == pytest.approx(1.0)
        assert judged["probability_sums"][1] == pytest.approx(1.0)
    else:
        assert judged["columns"] == ["patient_id", "prediction"]  # the ID comes along
        assert judged["r2"] > 0.2, judged

    # The project's tests on this data, all of them (the plugin's checks listed in
    # tests/test_pipeline.py, the slow ones too, and tests/test_features.py).
    pipeline = steps.run("the project's tests", "uv", "run", "--quiet", "pytest", "-q")
    # The expectations the project ships are about the built-in data set, whose columns
    # this one lacks: skipped, with the reason in the summary, neither failed nor passed.
    not_applicable = re.findall(r"SKIPPED \[1\] .*: not applicable: (.*)", pipeline.stdout)
    assert len(not_applicable) == 3, pipeline.stdout
    assert all(re.match(r"column '\w+' is not in your data", line) for line in not_applicable)
    project.run("git", "add", "configs", "src")
    start = time.perf_counter()
    commit = project.commit(f"Point the project at {data.name}")
    verdict = "ok" if commit.returncode == 0 else "refused"
    steps.line("git commit (every hook)", verdict, start, f"test-mode {commit.status('test-mode')}")
    assert commit.returncode == 0, commit.output
    assert commit.status("test-mode") == "Passed", commit.output
