"""The task objects (core/tasks.py): every task has every member, its metrics agree
with their ranges and directions, and no module outside tasks.py tests a task's name."""

from __future__ import annotations

import dataclasses
import pickle
import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import numpy as np
import pandas as pd
import pytest
from sklearn.base import is_classifier, is_regressor

import trimode
from trimode.config.loading import default_primary_metric
from trimode.config.model import Task as ConfigTask
from trimode.core.errors import ConfigError
from trimode.core.tasks import CLASSIFICATION, REGRESSION, TASKS, Task, task_named
from trimode.modelling.evaluation import score

from .conftest import STARTER_FILES

PACKAGE = Path(trimode.__file__).parent
TASKS_MODULE = PACKAGE / "core" / "tasks.py"
# A test of a task's name: `task == ...`, `task != ...`, `task in (...)`, or a comparison
# with a task's name (`... == "regression"`).
NAME_TEST = re.compile(
    r"\btask\s*[!=]=|[!=]=\s*[\"'](?:classification|regression)[\"']"
    r"|\btask\s+(?:not\s+)?in\s*[(\[{]"
)

# Lines allowed to test a task's name outside tasks.py: none.
ALLOWED: set[tuple[str, str]] = set()


class Oracle:
    """A fitted model that predicts these rows' targets exactly (a one-hot probability
    for the actual class)."""

    def __init__(self, y: pd.Series, classes: list[object] | None = None) -> None:
        self.y = y
        if classes is not None:
            self.classes_ = np.asarray(classes)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.y.to_numpy()

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return (self.y.to_numpy()[:, None] == self.classes_[None, :]).astype(float)


def targets(task: Task, n_classes: int = 2) -> tuple[pd.DataFrame, pd.Series]:
    """A few rows of one feature, and a target for the task (classes 0, 1, ... in turn)."""
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"feature": rng.normal(size=60)})
    if task.has_classes:
        return x, pd.Series(np.arange(60) % n_classes)
    return x, pd.Series(rng.lognormal(3, 1, size=60))


CASES = [(CLASSIFICATION, 2), (CLASSIFICATION, 3), (REGRESSION, 0)]
IDS = ["binary", "multiclass", "regression"]


def test_task_named_finds_every_task_and_the_config_knows_them():
    assert set(TASKS) == set(get_args(ConfigTask)) == {"classification", "regression"}
    for name, task in TASKS.items():
        assert task_named(name) is task
        assert task.name == name


@pytest.mark.parametrize("name", ["clustering", "", "Classification"])
def test_task_named_refuses_an_unknown_name_naming_it(name):
    expected = r"\(expected one of: classification, regression\)"
    with pytest.raises(ConfigError, match=rf"^unknown task {re.escape(repr(name))} {expected}$"):
        task_named(name)


@pytest.mark.parametrize("task", list(TASKS.values()), ids=list(TASKS))
def test_every_task_has_every_member(task):
    for member in dataclasses.fields(Task):
        value = getattr(task, member.name)
        assert value is not None and value not in ("", ()), member.name
    assert task.metric_names and len(set(task.metric_names)) == len(task.metrics)
    assert task.primary_metric in task.metric_names
    assert task.leakage_metric in task.metric_names
    # One leakage threshold reads the same for every task: its score is at most 1.
    assert task.metric(task.leakage_metric).high == 1.0
    with pytest.raises(KeyError):
        task.metric("no_such_metric")
    # The estimators a task makes are of its kind.
    of_its_kind = is_classifier if task.has_classes else is_regressor
    assert of_its_kind(task.make_baseline())
    assert of_its_kind(task.make_tree(max_depth=2))
    # A task travels to worker processes as itself.
    assert pickle.loads(pickle.dumps(task)) is task


@pytest.mark.parametrize("task", list(TASKS.values()), ids=list(TASKS))
def test_the_config_asks_the_task(task):
    assert default_primary_metric(task.name) == task.primary_metric


@pytest.mark.parametrize(("task", "n_classes"), CASES, ids=IDS)
def test_a_perfect_prediction_scores_every_metric_at_its_best_end(task, n_classes):
    x, y = targets(task, n_classes)
    classes = sorted(y.unique()) if task.has_classes else None
    scores = score(task, Oracle(y, classes), x, y)
    assert list(scores) == task.metric_names
    for metric in task.metrics:
        assert scores[metric.name] == pytest.approx(metric.best, abs=1e-6), metric.name
        assert metric.best in (metric.low, metric.high)
    assert not task.row_errors(y, y.to_numpy()).any()


@pytest.mark.parametrize(("task", "n_classes"), CASES, ids=IDS)
def test_a_constant_prediction_scores_the_constant_level_within_the_range(task, n_classes):
    x, y = targets(task, n_classes)
    constant = task.make_baseline().fit(x, y)  # class priors, or the mean, of these rows
    scores = score(task, constant, x, y)
    for metric in task.metrics:
        value = scores[metric.name]
        assert metric.low <= value <= metric.high, metric.name
        if metric.constant is not None:
            assert value == pytest.approx(metric.constant, abs=1e-9), metric.name
            # A constant model is no better than the level: the level is not the best end.
            assert metric.constant != metric.best


@pytest.mark.parametrize(("task", "n_classes"), CASES, ids=IDS)
def test_the_worst_predictions_come_first(task, n_classes):
    x, y = targets(task, n_classes)
    model = task.make_baseline().fit(x, y)
    predicted = model.predict(x)
    name, values, order = task.how_wrong(model, x, y, predicted)
    assert name in {"p_actual", "residual"} and len(values) == len(order) == len(y)
    errors = task.row_errors(y, predicted)
    assert errors.index.equals(y.index) and (errors >= 0).all()
    if task.has_classes:  # the lowest probability of the actual class first
        assert np.all(np.diff(values[order]) >= 0)
    else:  # the largest absolute residual first
        assert np.all(np.diff(np.abs(values[order])) <= 0)
        np.testing.assert_allclose(np.abs(values), errors)


def test_classes_decide_stratification_and_what_a_fitted_model_holds():
    _, classes = targets(CLASSIFICATION, 3)
    assert CLASSIFICATION.stratify_by(classes, rows_per_class=20) is classes
    assert CLASSIFICATION.stratify_by(classes, rows_per_class=21) is None
    assert REGRESSION.stratify_by(classes, rows_per_class=1) is None
    assert type(CLASSIFICATION.folds_splitter(5, 0, classes)).__name__ == "StratifiedKFold"
    assert type(CLASSIFICATION.folds_splitter(30, 0, classes)).__name__ == "KFold"
    assert type(REGRESSION.folds_splitter(5, 0, classes)).__name__ == "KFold"
    assert [CLASSIFICATION.class_kind(n) for n in (1, 2, 3, 7)] == [2, 2, 3, 3]
    assert REGRESSION.class_kind(0) == 0


def test_importing_the_tasks_imports_no_scikit_learn():
    """The configuration may read a task without the cost of scikit-learn (`--help`)."""
    code = (
        "import sys; import trimode.core.tasks; "
        "print(sorted({'sklearn', 'pandas', 'numpy'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("package", [PACKAGE, STARTER_FILES], ids=["runtime", "starter"])
def test_no_module_but_tasks_py_tests_a_task_by_name(package):
    """Whatever differs between tasks is a member of the task (core/tasks.py): in the
    runtime, and in the project files a new project starts with."""
    found = []
    for path in sorted(package.rglob("*.py")):
        if path == TASKS_MODULE:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            where = f"{path.relative_to(package).as_posix()}:{number}"
            if NAME_TEST.search(line.split("#")[0]) and (where, line.strip()) not in ALLOWED:
                found.append(f"{package.name}/{where}: {line.strip()}")
    assert not found, "a task tested by name, not asked (core/tasks.py):\n" + "\n".join(found)
