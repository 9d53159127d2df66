"""Your pipeline, as configs/ sets it up, in test mode: one run shared by the tests.

The run reads your configured source through the test-mode sample (data/test/,
fetched on first use and again whenever the source or the sampling settings
change) and writes its outputs into a temporary folder, not outputs/test/.
"""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.modelling.pipeline import TrainingResult, train
from {{ cookiecutter.package_name }}.modelling.tasks import Task, task_named
from {{ cookiecutter.package_name }}.run.config import Config, load_config
from {{ cookiecutter.package_name }}.run.errors import ConfigError

from ..conftest import CONFIG_DIR, outputs_in


def pytest_configure(config: pytest.Config) -> None:
    """Stop at once, in one line, when test mode's own config is broken."""
    try:
        load_config("test", CONFIG_DIR)
    except ConfigError as error:
        raise pytest.UsageError(f"test mode cannot run: {error}") from None


@pytest.fixture(scope="session")
def test_config() -> Config:
    """Your test-mode configuration (configs/base.toml and configs/test.toml)."""
    return load_config("test", CONFIG_DIR)


@pytest.fixture(scope="session")
def test_task(test_config: Config) -> Task:
    """Your task (the config key `task`): its metrics, baseline, and how it measures errors."""
    return task_named(test_config.task)


@pytest.fixture(scope="session")
def test_run(tmp_path_factory: pytest.TempPathFactory) -> TrainingResult:
    """Your pipeline, run once in test mode, its outputs in a temporary folder."""
    outputs = tmp_path_factory.mktemp("test-run") / "outputs"
    return train(load_config("test", CONFIG_DIR, outputs_in(outputs)))
