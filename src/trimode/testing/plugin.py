"""The pytest plugin every project that depends on trimode gets (the `pytest11` entry
point): fixtures of the project's test-mode run, and the parameters of the checks in
trimode.testing.checks. Outside a trimode project (no [tool.trimode] in the pyproject.toml
of pytest's root folder) it does nothing.

Fixtures (session-scoped, computed on first use):
- trimode_project: the project (its root, where its own code is);
- test_config: its test-mode config (configs/base.toml and configs/test.toml);
- test_task: its task (metrics, baseline, how errors are measured);
- test_run: the pipeline run once in test mode on the configured data, its outputs in a
  temporary folder (not outputs/test/);
- expectation_outcomes: each expectation of the project checked once on that run.

Importing this module imports neither pandas nor scikit-learn: a commit's pytest pays
only for what its tests use.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from trimode.core import stopping

if TYPE_CHECKING:
    from trimode.config.model import Config
    from trimode.core.project import Project
    from trimode.core.tasks import Task
    from trimode.modelling.behaviour import Outcome
    from trimode.workflows.train import TrainingResult

# The error stream as pytest found it (imported with -p or as an entry point, before its
# capture starts): a run the time budget's watchdog must end at once says why there.
with contextlib.suppress(OSError):  # no error stream at all: nothing to tell
    stopping.tell_also(os.dup(2))

CHECKS_MODULE = "trimode.testing.checks"
SLOW = "slow: not needed on every commit (the commit hook runs pytest -m 'not slow')"


def pytest_configure(config: pytest.Config) -> None:
    """Declare the `slow` marker, and stop at once, in one line, when the project's test
    mode cannot even load its config."""
    config.addinivalue_line("markers", SLOW)
    project = _project_of(config)
    if project is None:
        return
    from trimode.core.errors import ProjectError
    from trimode.workflows.session import load_config

    try:
        load_config("test", project.config_dir)
    except ProjectError as error:
        raise pytest.UsageError(f"test mode cannot run: {error}") from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """In a trimode project, what pytest shows of a test (its failure's traceback, the
    output it captured) goes through the one redaction of everything a run prints, as a
    command's output does: a credential in an exception from a database driver, say,
    never reaches the terminal or a CI log."""
    report = yield
    if _project_of(item.config) is None:
        return report
    from trimode.core.secrets import redact

    if isinstance(report.longrepr, tuple):  # a skip: (file, line, reason), kept a tuple
        path, line, reason = report.longrepr
        report.longrepr = (path, line, redact(reason))
    elif report.longrepr is not None:
        report.longrepr = redact(str(report.longrepr))
    report.sections = [(title, redact(text)) for title, text in report.sections]
    return report


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the checks of trimode.testing.checks (only those): one test per mode,
    per notebook of the project, per expectation of its task."""
    if getattr(metafunc.function, "__module__", None) != CHECKS_MODULE:
        return
    project = _project_of(metafunc.config)
    if project is None:
        return
    if "mode" in metafunc.fixturenames:
        from trimode.core.layout import MODES

        metafunc.parametrize("mode", MODES)
    if "notebook" in metafunc.fixturenames:
        notebooks = sorted((project.root / "notebooks").glob("*.ipynb"))
        metafunc.parametrize("notebook", notebooks, ids=[path.stem for path in notebooks])
    if "expectation" in metafunc.fixturenames:
        from trimode.workflows.session import load_config

        task = load_config("test", project.config_dir, registry=False).task
        expectations = project.expectations(task)
        metafunc.parametrize(
            "expectation",
            range(len(expectations)),
            ids=[item.description for item in expectations],
        )


def _project_of(config: pytest.Config) -> Project | None:
    """The trimode project at pytest's root folder, if it is one."""
    from trimode.core.project import find_project

    return find_project(config.rootpath)


def outputs_in(folder: Path) -> dict[str, Any]:
    """Config overrides that send a run's outputs to a temporary folder (outside the
    project, hence allowed explicitly) instead of the project's outputs/<mode>/."""
    return {"outputs.root": str(folder), "outputs.allow_outside_project": True}


@pytest.fixture(scope="session")
def trimode_project(pytestconfig: pytest.Config) -> Project:
    """The project under test: the trimode project at pytest's root folder."""
    project = _project_of(pytestconfig)
    if project is None:
        pytest.fail(f"{pytestconfig.rootpath} is not a trimode project", pytrace=False)
    return project


@pytest.fixture(scope="session")
def test_config(trimode_project: Project) -> Config:
    """The project's test-mode configuration (configs/base.toml and configs/test.toml)."""
    from trimode.workflows.session import load_config

    return load_config("test", trimode_project.config_dir)


@pytest.fixture(scope="session")
def test_task(test_config: Config) -> Task:
    """The project's task (the config key `task`): its metrics, baseline, and how it
    measures errors."""
    from trimode.core.tasks import task_named

    return task_named(test_config.task)


@pytest.fixture(scope="session")
def test_run(trimode_project: Project, tmp_path_factory: pytest.TempPathFactory) -> TrainingResult:
    """The project's pipeline, run once in test mode on one thread (on a few thousand rows
    the fastest, and a commit should not compete with the rest of the machine), its
    outputs in a temporary folder."""
    from trimode.modelling.compute import limit_threads
    from trimode.workflows.session import load_config
    from trimode.workflows.train import train

    outputs = tmp_path_factory.mktemp("test-run") / "outputs"
    config = load_config("test", trimode_project.config_dir, outputs_in(outputs))
    with limit_threads(1):
        return train(config)


@pytest.fixture(scope="session")
def expectation_outcomes(test_run: TrainingResult, test_config: Config) -> list[Outcome]:
    """Every expectation of the project's task, checked once on the test-mode run's
    held-out rows (no model is fitted)."""
    from trimode.workflows.session import check_expectations

    return check_expectations(test_config, test_run.model, test_run.split.x_test, test_run.schema)
