"""Your configs: every mode loads, and the modes keep to their jobs."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.run.config import MODES, load_config

from ..conftest import CONFIG_DIR


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_loads(mode):
    config = load_config(mode, CONFIG_DIR)
    assert config.mode == mode


def test_test_and_human_mode_sample_and_production_reads_every_row():
    rows = {mode: load_config(mode, CONFIG_DIR).data.max_rows for mode in MODES}
    assert rows["test"] > 0, "test mode must run on a sample (data.max_rows > 0) to be fast"
    assert rows["human"] > 0, "human mode works on a local sample (data.max_rows > 0)"
    assert rows["production"] == 0, "production trains on every row (data.max_rows = 0)"


def test_each_mode_writes_into_a_folder_of_its_own():
    roots = {load_config(mode, CONFIG_DIR).output_dir for mode in MODES}
    assert len(roots) == len(MODES), "two modes share outputs.root: one would replace the other"
