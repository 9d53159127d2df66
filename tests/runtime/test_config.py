"""Loading a mode's config: merged files, defaults, overrides, paths, clear refusals."""

from __future__ import annotations

import re

import pytest

from trimode.core.errors import ConfigError
from trimode.core.layout import MODES
from trimode.workflows.session import load_config

from .conftest import TASK, machine_config, make_configs


@pytest.fixture
def config_dir(tmp_path):
    """A config folder of the machinery's own, that a test may edit."""
    return make_configs(tmp_path)


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
        (
            "[evaluation]\nprimary_metric = 'nope'",
            r"key 'evaluation\.primary_metric' names unknown metric 'nope': expected one of",
        ),
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
        (
            "[evaluation]\nthresholds = { r = 'x' }",
            r"must be a table of metric names to finite numbers",
        ),
        ("[compute]\nengine = 'spark'", r"key 'compute\.engine' must be one of local, dask"),
        ("[search]\ncv_folds = 1", r"key 'search\.cv_folds' must be at least 2"),
        ("[dask]\nthreads_per_worker = 0", r"key 'dask\.threads_per_worker' must be at least 1"),
        ("[outputs]\nroot = '.'", r"key 'outputs\.root' = '\.' would hold the whole project"),
        ("[outputs]\nroot = '..'", r"key 'outputs\.root' = '\.\.' would hold the whole project"),
        (
            "[train.params.hist_gradient_boosting]\nlearning_rate = 'fast'",
            r"test\.toml: key 'train\.params\.hist_gradient_boosting': The 'learning_rate' "
            r"parameter of HistGradientBoosting\w+ must be a float",
        ),
        (
            "[evaluation]\nmin_lift_over_baseline = -1.0",
            r"test\.toml: key 'evaluation\.min_lift_over_baseline' must be above 0",
        ),
        ("[evaluation]\nmin_lift_over_baseline = 0", r"must be above 0"),
        ("[evaluation.thresholds]\nprimary = 7", r"which no model can reach"),
        (
            "[contract]\nnew_category = 'ignore'",
            r"test\.toml: key 'contract\.new_category' must be one of error, warn, got 'ignore'$",
        ),
        (
            "[compute]\nn_jobs = 0",
            r"test\.toml: key 'compute\.n_jobs' must be -1 \(all cores\) or a count of at least "
            r"1, got 0$",
        ),
        ("[compute]\nn_jobs = -2", r"key 'compute\.n_jobs' must be -1 \(all cores\) or a count"),
        (
            "[inspection]\ntop_n = 0",
            r"test\.toml: key 'inspection\.top_n' must be at least 1, got 0$",
        ),
        (
            "[data]\ntest_fraction = 1.5",
            r"test\.toml: key 'data\.test_fraction' must lie strictly between 0 and 1, got 1\.5$",
        ),
        (
            "[data]\nmax_rows = -5",
            r"test\.toml: key 'data\.max_rows' must be 0 \(all rows\) or more, got -5$",
        ),
        # Strict types: TOML's are real ones, so text is not read as a number, nor a float
        # as an integer.
        (
            "[data]\nmax_rows = '3000'",
            r"test\.toml: key 'data\.max_rows' must be an integer, got '3000'$",
        ),
        (
            "[data]\nmax_rows = 3000.0",
            r"test\.toml: key 'data\.max_rows' must be an integer, got 3000\.0$",
        ),
        ("[search]\nenabled = 'yes'", r"key 'search\.enabled' must be true or false, got 'yes'$"),
        (
            "[data]\ntarget = ''",
            r"test\.toml: key 'data\.target' must be a non-empty string, got ''$",
        ),
        ("[evaluation]\nleakage_threshold = 0", r"key 'evaluation\.leakage_threshold' must lie in"),
        ("[compute]\ntime_budget_s = -1", r"key 'compute\.time_budget_s' must be 0 \(no limit\)"),
        (
            "[data]\ncache_dir = 'data'",
            r"test\.toml: key 'data\.cache_dir' was renamed 'data\.sample_dir' in template "
            r"version 1\.0\.0",
        ),
        ("[columns]\ndrop = 'id'", r"test\.toml: key 'columns\.drop' must be a list of names"),
        (
            "[columns]\ndrop = ['a']\nids = ['a']",
            r"key 'columns\.ids' names column 'a', which columns\.drop names too",
        ),
        ("[columns]\ndates = ['churned', 'lifetime_value']", r"names the target column"),
        ("[evaluation]\nleakage_allow = [1]", r"key 'evaluation\.leakage_allow' must be a list"),
    ],
)
def test_bad_values_name_the_file_and_the_key(config_dir, text, expected):
    (config_dir / "test.toml").write_text(text + "\n")
    with pytest.raises(ConfigError, match=expected):
        load_config("test", config_dir)


@pytest.mark.parametrize(
    "root", ["configs", "notebooks", "src", "tests", "data", ".git", "configs/outputs", "data/out"]
)
def test_an_output_root_on_the_projects_own_folders_is_refused(config_dir, root):
    (config_dir / "test.toml").write_text(f"[outputs]\nroot = {root!r}\n")
    with pytest.raises(ConfigError, match=r"test\.toml: key 'outputs\.root' = .* project's own"):
        load_config("test", config_dir)


def test_an_output_root_on_a_file_or_outside_the_project_is_refused(config_dir, tmp_path):
    (tmp_path / "README.md").write_text("the user's\n")
    for root, expected in (
        ("README.md", r"README\.md is a file, not a folder"),
        ("README.md/outputs", r"README\.md is a file, not a folder"),
        (str(tmp_path.parent / "elsewhere"), r"lies outside the project"),
        ("../elsewhere", r"lies outside the project"),
    ):
        (config_dir / "test.toml").write_text(f"[outputs]\nroot = {root!r}\n")
        with pytest.raises(ConfigError, match=expected):
            load_config("test", config_dir)
    outside = {"outputs.root": "../elsewhere", "outputs.allow_outside_project": True}
    assert load_config("test", config_dir, outside).output_dir == tmp_path.parent / "elsewhere"


def test_an_output_root_in_the_data_source_is_refused(config_dir, tmp_path):
    """The write guard's rules of place hold for outputs.root too: never into the data."""
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "rows.csv").write_text("x,churned\n1,0\n")
    settings = {"data.source": "exports", "outputs.root": "exports/runs"}
    with pytest.raises(ConfigError, match=r"key 'outputs\.root' = .* lies in the data source"):
        load_config("test", config_dir, settings)


def test_a_weaker_guard_needs_the_key_that_says_so(config_dir):
    text = "[evaluation]\nmin_lift_over_baseline = 0\nthresholds = { primary = 0.2 }\n"
    (config_dir / "test.toml").write_text(text)
    if TASK == "classification":  # roc_auc 0.2 is below a constant model's 0.5
        with pytest.raises(ConfigError, match=r"which a constant model reaches \(0\.5\)"):
            load_config("test", config_dir, {"evaluation.min_lift_over_baseline": 0.01})
    (config_dir / "test.toml").write_text(text + "allow_no_lift = true\n")
    assert load_config("test", config_dir).evaluation.min_lift_over_baseline == 0


def test_a_config_dir_that_is_a_file_is_named(tmp_path):
    (tmp_path / "configs.toml").write_text("")
    with pytest.raises(ConfigError, match=r"--config-dir .*configs\.toml: is a file"):
        load_config("test", tmp_path / "configs.toml")


def test_missing_config_file_is_named(tmp_path):
    (tmp_path / "configs").mkdir()
    with pytest.raises(ConfigError, match=r"base\.toml: config file not found"):
        load_config("test", tmp_path / "configs")


def test_a_missing_config_folder_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"nowhere: config folder not found"):
        load_config("test", tmp_path / "nowhere")


def test_a_key_without_a_default_is_named_when_missing(config_dir):
    base = config_dir / "base.toml"
    base.write_text(base.read_text().replace("target =", "# target ="))
    with pytest.raises(ConfigError, match=r"base\.toml: missing key 'data\.target'"):
        load_config("test", config_dir)


def test_keys_left_out_take_their_defaults(tmp_path):
    config = machine_config(tmp_path)
    assert config.train.models == ["hist_gradient_boosting"]
    assert config.evaluation.leakage_allow == [] and config.columns.drop == []
    assert config.evaluation.primary_metric == ("roc_auc" if TASK == "classification" else "r2")


def test_unknown_mode_is_refused(config_dir):
    with pytest.raises(ConfigError, match="unknown mode 'staging'"):
        load_config("staging", config_dir)


def test_mode_file_overrides_base(config_dir):
    (config_dir / "human.toml").write_text("[train]\nseed = 7\n")
    config = load_config("human", config_dir)
    assert config.train.seed == 7
    assert config.data.max_rows == 0  # from base.toml: the mode file does not set it


def test_overrides_apply_last_and_are_checked_like_a_file(config_dir):
    config = load_config("test", config_dir, {"data.max_rows": 500, "train.seed": 3})
    assert (config.data.max_rows, config.train.seed) == (500, 3)
    assert config.where("data.max_rows") == "data.max_rows in --set"
    with pytest.raises(ConfigError, match=r"--set: key 'data\.max_rows' must be an integer"):
        load_config("test", config_dir, {"data.max_rows": "many"})
    with pytest.raises(ConfigError, match=r"--set: unknown key 'data\.rows'"):
        load_config("test", config_dir, {"data.rows": 5})


def test_relative_paths_mean_paths_under_the_project_root(tmp_path, monkeypatch):
    project = tmp_path / "project"
    configs = make_configs(
        project,
        base={
            "data": {"source": "data/rows.csv", "sample_dir": "samples"},
            "outputs": {"root": "outputs/test"},
        },
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # as a notebook in notebooks/ or a test in a temp folder
    config = load_config("test", configs)
    assert config.root == project.resolve()
    assert config.data.source.reveal() == str(project.resolve() / "data" / "rows.csv")
    assert config.sample_folder == project.resolve() / "samples" / "test"
    assert config.output_dir == project.resolve() / "outputs" / "test"
    assert config.raw["data"]["source"] == "data/rows.csv"  # what the user wrote, for records


# Imports SQLAlchemy, which nothing else in the commit hook needs: the full suite runs it.
@pytest.mark.slow
def test_a_relative_sqlite_file_is_under_the_project_root(tmp_path):
    configs = make_configs(tmp_path, base={"data": {"source": "sqlite:///data/shop.db"}})
    config = load_config("test", configs)
    assert config.data.source.reveal() == f"sqlite:///{tmp_path.resolve() / 'data' / 'shop.db'}"


def test_a_threshold_on_primary_follows_the_primary_metric(tmp_path):
    metric = "balanced_accuracy" if TASK == "classification" else "mae"
    config = machine_config(
        tmp_path, evaluation={"primary_metric": metric, "thresholds": {"primary": 0.5}}
    )
    assert config.evaluation.thresholds == {metric: 0.5}
    with pytest.raises(ConfigError, match="sets both 'primary' and"):
        machine_config(
            tmp_path / "both",
            evaluation={"primary_metric": metric, "thresholds": {"primary": 0.5, metric: 0.4}},
        )


def test_every_mistake_of_a_file_is_one_line_naming_the_file_and_the_key(config_dir):
    (config_dir / "test.toml").write_text(
        "[data]\nmax_rows = -5\nsample_dir = 3\n\n[compute]\nengine = 'spark'\n"
    )
    with pytest.raises(ConfigError) as refused:
        load_config("test", config_dir)
    lines = str(refused.value).splitlines()
    test_toml = config_dir / "test.toml"
    assert lines == [
        f"{test_toml}: key 'data.max_rows' must be 0 (all rows) or more, got -5",
        f"{test_toml}: key 'data.sample_dir' must be a string, got 3",
        f"{test_toml}: key 'compute.engine' must be one of local, dask, got 'spark'",
    ]


def test_mistakes_of_every_file_and_of_the_whole_are_said_at_once(config_dir):
    base = config_dir / "base.toml"
    base.write_text(base.read_text() + "\n[inspection]\ntop_n = 0\n")
    (config_dir / "test.toml").write_text("[train]\nmodels = ['nope']\n")
    with pytest.raises(ConfigError) as refused:
        load_config("test", config_dir, {"compute.n_jobs": 0, "search.iterations": -1})
    lines = str(refused.value).splitlines()
    # The files' own mistakes, in file order; the checks of the whole wait for them.
    assert [line.split(": key ")[0] for line in lines] == [str(base), "--set", "--set"]
    assert "'compute.n_jobs' must be -1" in lines[1] and "'search.iterations'" in lines[2]
    # Fixed, the files leave the checks of the whole to say theirs, all of them.
    base.write_text(base.read_text().replace("top_n = 0", "top_n = 5"))
    (config_dir / "test.toml").write_text(
        "[train]\nmodels = ['nope']\n[columns]\ndrop = ['a']\nids = ['a']\n"
    )
    with pytest.raises(ConfigError) as refused:
        load_config("test", config_dir)
    lines = str(refused.value).splitlines()
    assert len(lines) == 2
    assert "'train.models' names unknown model 'nope'" in lines[0]
    assert "'columns.ids' names column 'a', which columns.drop names too" in lines[1]


def test_a_mistake_given_with_set_names_set(config_dir):
    for key, value, expected in (
        ("inspection.top_n", 0, "--set: key 'inspection.top_n' must be at least 1, got 0"),
        ("data.test_fraction", 1.5, "--set: key 'data.test_fraction' must lie strictly"),
        ("compute.engine", "spark", "--set: key 'compute.engine' must be one of local, dask"),
        ("train.models", ["nope"], "--set: key 'train.models' names unknown model 'nope'"),
    ):
        with pytest.raises(ConfigError, match=rf"^{re.escape(expected)}"):
            load_config("test", config_dir, {key: value})


def test_an_integer_is_a_number_where_one_is_expected(config_dir):
    (config_dir / "test.toml").write_text(
        "[evaluation]\nleakage_threshold = 1\nmin_lift_over_baseline = 1\n"
        "[compute]\ntime_budget_s = 30\n"
    )
    config = load_config("test", config_dir)
    assert config.evaluation.leakage_threshold == 1
    assert config.compute.time_budget_s == 30


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_writes_into_outputs_mode_unless_told_otherwise(config_dir, mode):
    root = config_dir.parent.resolve()
    config = load_config(mode, config_dir)
    assert config.output_dir == root / "outputs" / mode
    assert config.file_of("outputs.root") == config_dir / "base.toml"
    (config_dir / f"{mode}.toml").write_text("[outputs]\nroot = 'runs/mine'\n")
    assert load_config(mode, config_dir).output_dir == root / "runs" / "mine"
    given = load_config(mode, config_dir, {"outputs.root": "elsewhere"})
    assert given.output_dir == root / "elsewhere"
    assert given.where("outputs.root") == "outputs.root in --set"


def test_a_mode_loads_from_any_folder_of_the_project(config_dir, monkeypatch):
    """A notebook in notebooks/ names no config folder: the project's is found upward,
    through the [tool.trimode] of its pyproject.toml."""
    (config_dir / "test.toml").write_text("[train]\nseed = 11\n")
    subfolder = config_dir.parent / "notebooks" / "drafts"
    subfolder.mkdir(parents=True)
    monkeypatch.chdir(subfolder)
    config = load_config("test")
    assert config.train.seed == 11 and config.config_dir == config_dir
    assert config.output_dir == config_dir.parent.resolve() / "outputs" / "test"


def test_registry_false_leaves_the_registry_unread(config_dir):
    """fetch-sample reads data only: the registry's checks (and scikit-learn) wait for the
    commands that fit a model."""
    (config_dir / "test.toml").write_text("[train]\nmodels = ['no_such_model']\n")
    assert load_config("test", config_dir, registry=False).train.models == ["no_such_model"]
    with pytest.raises(ConfigError, match="names unknown model 'no_such_model'"):
        load_config("test", config_dir)


def test_a_config_folder_deeper_in_the_project_keeps_the_project_root(tmp_path):
    """[tool.trimode] configs may name a folder below the root: relative paths in the
    configs still start at the project root (the folder of pyproject.toml)."""
    make_configs(tmp_path, name="conf/ml")
    config = load_config("human", tmp_path / "conf" / "ml", {"data.sample_dir": "samples"})
    assert config.root == tmp_path.resolve()
    assert config.sample_folder == tmp_path.resolve() / "samples" / "human"
    assert config.output_dir == tmp_path.resolve() / "outputs" / "human"
