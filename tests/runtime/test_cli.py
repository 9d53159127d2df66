"""The command line: help everywhere, outputs per mode, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import pytest

from trimode.cli import commands
from trimode.cli import main as cli
from trimode.cli.main import main
from trimode.core.errors import ConfigError

from .conftest import make_configs, write_pyproject


@pytest.fixture
def config_dir(tmp_path):
    return make_configs(tmp_path)  # test mode writes into outputs/test, its default


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["--help"], "train"), (["train", "--help"], "--mode"), (["promote", "--help"], "--from")],
)
def test_help(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    assert expected in capsys.readouterr().out


def assert_one_line_error(capsys, expected):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert expected in err


# The pipeline run itself is tested once, in the machine_run fixture; this repeats it
# through the command line, so the commit hook leaves it to the full suite.
@pytest.mark.slow
def test_train_writes_outputs_under_the_project_root_from_any_folder(
    config_dir, tmp_path, monkeypatch, capsys
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["train", "--mode", "test", "--config-dir", str(config_dir)]) == 0
    assert "outputs/test" in capsys.readouterr().out
    record = json.loads((tmp_path / "outputs" / "test" / "metrics.json").read_text())
    assert record["mode"] == "test"
    assert not list(elsewhere.iterdir())


def test_missing_config_is_one_line(tmp_path, capsys):
    code = main(["train", "--mode", "test", "--config-dir", str(tmp_path / "nowhere")])
    assert code == 2
    assert_one_line_error(capsys, "config folder not found")


def test_unknown_model_is_one_line(config_dir, capsys):
    code = main(["train", "--mode", "test", "--config-dir", str(config_dir), "--model", "nope"])
    assert code == 2
    assert_one_line_error(capsys, "unknown model 'nope'")


def test_a_bad_override_is_one_line(config_dir, capsys):
    argv = ["train", "--mode", "test", "--config-dir", str(config_dir)]
    assert main([*argv, "--set", "data.max_rows=many"]) == 2
    assert_one_line_error(capsys, "--set: key 'data.max_rows' must be an integer")
    assert main([*argv, "--set", "no-equals-sign"]) == 2
    assert_one_line_error(capsys, "expected KEY=VALUE")


def test_each_config_mistake_is_a_line_of_its_own(config_dir, capsys):
    argv = ["train", "--mode", "test", "--config-dir", str(config_dir)]
    assert main([*argv, "--set", "data.max_rows=-1", "--set", "inspection.top_n=0"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: --set: key 'data.max_rows' must be 0 (all rows) or more, got -1",
        "error: --set: key 'inspection.top_n' must be at least 1, got 0",
    ]


def test_missing_target_column_is_one_line(tmp_path, capsys):
    (tmp_path / "rows.csv").write_text("a,b\n1,x\n2,y\n")
    configs = make_configs(tmp_path, base={"data": {"source": "rows.csv"}})
    code = main(["train", "--mode", "test", "--config-dir", str(configs)])
    assert code == 2
    assert_one_line_error(capsys, "no target column")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://analyst:{pw}@db.example:5432/shop",
        "postgresql+pg8000://analyst:{pw}@db.example/shop",
        "https://analyst:{pw}@files.example/customers.csv",
        "mysql://analyst@db.example/shop?password={pw}",
        "postgresql://analyst:{pw}@db.example:port/shop",
    ],
)
def test_a_password_in_an_error_is_hidden(url, config_dir, capsys, monkeypatch):
    password = f"Pl4nted-{abs(hash(url)) % 10_000}"
    secret = url.format(pw=password)

    def fail(arguments, config):
        raise RuntimeError(f"could not reach {secret}: timeout")

    monkeypatch.setattr(commands, "run_compare", fail)  # the parser is built at each main()
    assert main(["compare", "--mode", "test", "--config-dir", str(config_dir)]) == 2
    err = capsys.readouterr().err
    assert password not in err and "***" in err and len(err.strip().splitlines()) == 1
    assert err.startswith("error: step 'compare' (--mode test) failed: RuntimeError: "), err


def test_a_failure_no_check_foresaw_names_the_innermost_step_and_its_input(
    config_dir, capsys, monkeypatch
):
    """Any exception, of any type, from inside the pipeline: one line naming the step it
    left and what that step read, exit 2, nothing published."""
    from trimode.workflows import train as training

    def broken(*arguments, **keywords):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(training, "fit_best", broken)
    assert main(["train", "--mode", "test", "--config-dir", str(config_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("error: step 'fit' (model 'hist_gradient_boosting') failed: "), err
    assert "ZeroDivisionError: division by zero" in err
    assert not (config_dir.parent / "outputs" / "test").exists()


def test_ctrl_c_is_one_line_and_exit_130(config_dir, capsys, monkeypatch):
    def interrupted(arguments, config):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "run_train", interrupted)
    argv = ["train", "--mode", "test", "--config-dir", str(config_dir)]
    assert main(argv) == cli.EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_an_error_with_several_problems_prints_one_line_each(config_dir, capsys, monkeypatch):
    def several(arguments, config):
        raise ConfigError("configs/test.toml: key 'a.b' is wrong\nconfigs/test.toml: key 'c.d' too")

    monkeypatch.setattr(commands, "run_report", several)
    argv = ["report", "--mode", "test", "--config-dir", str(config_dir)]
    assert main(argv) == cli.EXIT_BAD_INPUT
    assert capsys.readouterr().err.splitlines() == [
        "error: configs/test.toml: key 'a.b' is wrong",
        "error: configs/test.toml: key 'c.d' too",
    ]


def test_verbose_shows_the_traceback(tmp_path, capsys):
    argv = ["--verbose", "train", "--mode", "test", "--config-dir", str(tmp_path)]
    assert main(argv) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert err.strip().splitlines()[-1].startswith("error: ") and "config file not found" in err


FETCH_IN_A_FRESH_PROCESS = """
import sys
from trimode.cli.main import main

argv = ["fetch-sample", "--mode", "test", "--config-dir", sys.argv[1]]
code = main([*argv, "--set", "data.max_rows=500"])
print(code, sorted(name for name in ("sklearn", "scipy", "skops") if name in sys.modules))
"""


def test_fetch_sample_reads_data_without_importing_scikit_learn(config_dir):
    """A fetch holds the sample and a batch in memory, not a model library as well."""
    result = subprocess.run(
        [sys.executable, "-c", FETCH_IN_A_FRESH_PROCESS, str(config_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.splitlines()[-1] == "0 []", result.stdout + result.stderr
    assert (config_dir.parent / "data" / "test" / "sample.parquet").is_file()


def test_the_model_option_is_checked_like_a_config_key(config_dir, capsys):
    argv = ["train", "--mode", "test", "--config-dir", str(config_dir), "--model", "nope"]
    assert main(argv) == 2
    assert_one_line_error(capsys, "--model: key 'train.models' names unknown model 'nope'")


def test_compare_names_the_unknown_model_in_one_line(config_dir, capsys):
    argv = ["compare", "--mode", "test", "--config-dir", str(config_dir), "--models"]
    assert main([*argv, "hist_gradient_boosting,nope"]) == 2
    assert_one_line_error(capsys, "unknown model 'nope'")


@pytest.mark.slow
def test_compare_test_mode_prints_and_writes_the_leaderboard(config_dir, tmp_path, capsys):
    argv = ["compare", "--mode", "test", "--config-dir", str(config_dir)]
    assert main([*argv, "--models", "hist_gradient_boosting"]) == 0
    out = capsys.readouterr().out
    assert "dummy_baseline" in out and "outputs/test/leaderboard.csv" in out
    record = json.loads((tmp_path / "outputs" / "test" / "leaderboard.json").read_text())
    assert [row["model"] for row in record["rows"]] == ["hist_gradient_boosting", "dummy_baseline"]


@pytest.mark.slow
def test_report_after_train_writes_html(config_dir, tmp_path, capsys):
    argv = ["--mode", "test", "--config-dir", str(config_dir)]
    assert main(["train", *argv]) == 0
    assert main(["report", *argv]) == 0
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    assert printed.endswith("outputs/test/report.html")
    assert (
        (tmp_path / "outputs" / "test" / "report.html")
        .read_text()
        .lstrip()
        .lower()
        .startswith("<!doctype html")
    )


def test_version_names_the_runtime_and_matches_its_distribution(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out.strip()
    assert printed.endswith(f"(trimode {metadata.version('trimode')})")


def test_python_m_trimode_runs_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "trimode", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"python -m trimode (trimode {metadata.version('trimode')})"


def test_verbose_is_accepted_after_the_command_too(tmp_path, capsys):
    argv = ["train", "--mode", "test", "--config-dir", str(tmp_path)]
    for verbose in (["--verbose"], ["-v"]):
        assert main([*argv, *verbose]) == 2
        assert "Traceback" in capsys.readouterr().err
    assert main(argv) == 2  # and without it, the error is one line
    assert_one_line_error(capsys, "config file not found")


def test_the_command_line_finds_the_project_from_a_subfolder(config_dir, monkeypatch, capsys):
    """Run from notebooks/ (or any folder in the project), the configs are the project's:
    --config-dir defaults to the [tool.trimode] configs of the nearest pyproject.toml up."""
    project = config_dir.parent
    subfolder = project / "notebooks" / "drafts"
    subfolder.mkdir(parents=True)
    monkeypatch.chdir(subfolder)
    (config_dir / "test.toml").write_text("[train]\nmodels = ['from_the_project']\n")
    assert main(["train", "--mode", "test"]) == 2
    assert_one_line_error(
        capsys, f"{config_dir / 'test.toml'}: key 'train.models' names unknown model"
    )
    assert main(["train", "--mode", "test", "--model", "nope"]) == 2
    assert_one_line_error(capsys, "--model: key 'train.models' names unknown model 'nope'")
    assert not list(subfolder.iterdir())


def test_python_m_trimode_in_a_subfolder_writes_into_the_project(config_dir):
    """The same from a fresh process, as a shell runs it: the sample lands in the
    project's data/, nothing in the current folder."""
    project = config_dir.parent
    (project / "notebooks").mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trimode",
            "fetch-sample",
            "--mode",
            "test",
            "--set",
            "data.max_rows=300",
        ],
        cwd=project / "notebooks",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (project / "data" / "test" / "sample.parquet").is_file()
    assert not list((project / "notebooks").iterdir())


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--mode", "test"],
        ["fetch-sample", "--mode", "human"],
        ["promote"],
        ["predict", "--input", "rows.csv", "--output", "scored.csv"],
    ],
    ids=["train", "fetch-sample", "promote", "predict"],
)
def test_outside_any_project_is_one_line(argv, tmp_path, monkeypatch, capsys):
    outside = tmp_path / "not-a-project"
    outside.mkdir()
    (outside / "pyproject.toml").write_text('[project]\nname = "other"\n')  # no [tool.trimode]
    monkeypatch.chdir(outside)
    assert main(argv) == 2
    assert_one_line_error(capsys, f"{outside.resolve()} is not inside a trimode project")


def test_a_module_that_cannot_be_imported_is_one_line_naming_the_key(config_dir, capsys):
    write_pyproject(config_dir.parent, package="no_such_package_of_yours")
    assert main(["train", "--mode", "test", "--config-dir", str(config_dir)]) == 2
    assert_one_line_error(
        capsys,
        "pyproject.toml: key 'tool.trimode.models' names module "
        "'no_such_package_of_yours.models', which cannot be imported",
    )


def test_a_module_without_what_the_runtime_reads_is_one_line(config_dir, capsys):
    """A project not installed is found in its src/ folder; a registry module without
    MODELS is named with the key that points at it."""
    package = config_dir.parent / "src" / "registry_without_models"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text("REGISTRY = {}\n")
    write_pyproject(config_dir.parent, package=package.name)
    assert main(["train", "--mode", "test", "--config-dir", str(config_dir)]) == 2
    assert_one_line_error(capsys, "models.py: defines no MODELS (the runtime reads it: ")


def test_a_dependency_missing_from_the_projects_module_is_named_not_the_module(config_dir, capsys):
    """The project's module is there but imports a package that is not: that package is
    the error, not the project (whose name it may begin with)."""
    package = config_dir.parent / "src" / "mlproj_with_a_missing_dependency"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text("import mlproj_with_a\n")
    write_pyproject(config_dir.parent, package=package.name)
    assert main(["train", "--mode", "test", "--config-dir", str(config_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "imports mlproj_with_a, which is not installed" in err
    assert "cannot be imported" not in err


def test_a_syntax_error_in_the_projects_own_module_is_one_line_naming_it(tmp_path, capsys):
    """A typo in models.py (the project's code, named by [tool.trimode]) is one line with
    the file and the line, not a traceback."""
    from .packages import write_package

    write_package(tmp_path, "typo_project", {"models.py": [("MODELS: dict", "MODELS: dict(")]})
    configs = make_configs(tmp_path)
    write_pyproject(tmp_path, package="typo_project")
    assert main(["train", "--mode", "test", "--config-dir", str(configs)]) == 2
    assert_one_line_error(capsys, "typo_project/models.py:")


def test_a_configs_key_naming_no_folder_is_one_line_naming_the_key(tmp_path, monkeypatch, capsys):
    make_configs(tmp_path)
    write_pyproject(tmp_path, configs="settings")
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--mode", "test"]) == 2
    assert_one_line_error(capsys, "key 'tool.trimode.configs' names 'settings'")


def test_a_pyproject_without_the_table_is_named(tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--mode", "test"]) == 2
    assert_one_line_error(capsys, f"the nearest, {tmp_path / 'pyproject.toml'}, has none")
