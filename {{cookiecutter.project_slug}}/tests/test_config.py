"""A mode is configuration: each mode loads, and bad configs are refused clearly."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.config import MODES, load_config
from {{ cookiecutter.package_name }}.errors import ConfigError

from .conftest import CONFIG_DIR


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_loads_with_its_own_outputs(mode):
    config = load_config(mode, CONFIG_DIR)
    assert config.mode == mode
    assert config.outputs.root == f"outputs/{mode}"


def test_modes_differ_in_size():
    rows = {mode: load_config(mode, CONFIG_DIR).data.max_rows for mode in MODES}
    assert 1_000 <= rows["test"] <= 10_000
    assert 10_000 <= rows["human"] <= 100_000
    assert rows["production"] == 0  # all rows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[data]\nmax_row = 10", r"test\.toml: unknown key 'data\.max_row' \(expected one of: "),
        ("colour = 'blue'", r"test\.toml: unknown key 'colour'"),
        ("[data]\nmax_rows = 'many'", r"test\.toml: key 'data\.max_rows' must be an integer"),
        ("[data]\nstratify = 1", r"test\.toml: key 'data\.stratify' must be true or false"),
        ("[data]\ntable = 3", r"test\.toml: key 'data\.table' must be a string"),
        ("[train]\nmodels = 'forest'", r"key 'train\.models' must be a non-empty list"),
        (
            "[train]\nmodels = ['no_such_model']",
            r"test\.toml: key 'train\.models' names unknown model 'no_such_model' "
            r".*expected one of",
        ),
        ("[data]\ntest_fraction = 1.5", r"test\.toml: key 'data\.test_fraction' must lie"),
        ("[data]\nmax_rows = -1", r"test\.toml: key 'data\.max_rows' must be 0"),
        ("[evaluation]\nprimary_metric = 'nope'", r"key 'evaluation\.primary_metric' must be one"),
        ("task = 'clustering'", r"test\.toml: key 'task' must be one of classification"),
        ("data = 3", r"test\.toml: key 'data' must be a \[data\] table"),
        ("[data", r"test\.toml: not valid TOML"),
        (
            "[train.params.hist_gradient_boosting]\nlearning_rat = 0.1",
            r"test\.toml: key 'train\.params\.hist_gradient_boosting' sets unknown "
            r"hyper-parameter\(s\) 'learning_rat' \(the estimator takes: .*learning_rate",
        ),
        (
            "[train.params.no_such_model]\nalpha = 1",
            r"test\.toml: key 'train\.params\.no_such_model' names unknown model",
        ),
        ("[train]\nparams = 3", r"key 'train\.params' must be a table of model names"),
        (
            "[evaluation.thresholds]\nnope = 0.5",
            r"test\.toml: key 'evaluation\.thresholds' names unknown metric 'nope'",
        ),
        ("[evaluation]\nthresholds = { r = 'x' }", r"must be a table of metric names to numbers"),
        ("[compute]\nengine = 'spark'", r"key 'compute\.engine' must be one of local, dask"),
        ("[search]\ncv_folds = 1", r"key 'search\.cv_folds' must be at least 2"),
        ("[dask]\nthreads_per_worker = 0", r"key 'dask\.threads_per_worker' must be at least 1"),
        ("[outputs]\nroot = '.'", r"key 'outputs\.root' must name a folder of its own"),
        (
            "[data]\ncache_dir = 'data'",
            r"test\.toml: key 'data\.cache_dir' was renamed 'data\.sample_dir' in template "
            r"version 1\.0\.0",
        ),
    ],
)
def test_bad_values_name_the_file_and_the_key(config_dir, text, expected):
    (config_dir / "test.toml").write_text(text + "\n")
    with pytest.raises(ConfigError, match=expected):
        load_config("test", config_dir)


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"base\.toml: config file not found"):
        load_config("test", tmp_path)


def test_missing_required_key_is_named(config_dir):
    base = config_dir / "base.toml"
    base.write_text(base.read_text().replace('source = "synthetic"', ""))
    with pytest.raises(ConfigError, match=r"base\.toml: missing key 'data\.source'"):
        load_config("test", config_dir)


def test_unknown_mode_is_refused():
    with pytest.raises(ConfigError, match="unknown mode 'staging'"):
        load_config("staging", CONFIG_DIR)


def test_mode_file_overrides_base(config_dir):
    (config_dir / "human.toml").write_text("[train]\nseed = 7\n")
    config = load_config("human", config_dir)
    assert config.train.seed == 7
    assert config.data.max_rows == 0  # from base.toml: the mode file no longer sets it
