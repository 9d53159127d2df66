"""Shared fixtures: the project's configs, and one test-mode run reused by many tests."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.compute import limit_threads
from {{ cookiecutter.package_name }}.config import Config, load_config
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.pipeline import TrainingResult, train

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "configs"


def pytest_configure(config: pytest.Config) -> None:
    """Stop at once, in one line, when test mode's own config is broken."""
    try:
        load_config("test", CONFIG_DIR)
    except ConfigError as error:
        raise pytest.UsageError(f"test mode cannot run: {error}") from None


@pytest.fixture(scope="session")
def test_config() -> Config:
    """The project's own test-mode configuration."""
    return load_config("test", CONFIG_DIR)


@pytest.fixture(scope="session", autouse=True)
def test_mode_threads(test_config: Config):
    """Run every test on the threads test mode allows (see compute.py for why)."""
    with limit_threads(test_config.compute.n_jobs):
        yield


def with_outputs_in(config: Config, folder: Path) -> Config:
    """The config with its outputs redirected into folder (an absolute path)."""
    return dataclasses.replace(
        config, outputs=dataclasses.replace(config.outputs, root=str(folder))
    )


@pytest.fixture(scope="session")
def test_run(test_config: Config, tmp_path_factory: pytest.TempPathFactory) -> TrainingResult:
    """The whole pipeline, run once in test mode on the project's cached test sample
    (data/test/, fetched on first use), writing its outputs into a temporary folder."""
    outputs = tmp_path_factory.mktemp("test-run") / "outputs" / "test"
    return train(with_outputs_in(test_config, outputs), workdir=PROJECT_ROOT)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of configs/ that a test may edit."""
    return Path(shutil.copytree(CONFIG_DIR, tmp_path / "configs"))
