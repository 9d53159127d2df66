"""pre-commit in a generated project: real `git commit`s, refused by the right hook.

One classification project (copier, the defaults) gets its own environment (`uv sync`:
the runtime from the template repository's tag) and the hooks (`uv run pre-commit
install`). Each test then changes the project and commits with a real `git commit` from
a shell where the project's environment is not activated (no VIRTUAL_ENV, no .venv/bin
on PATH, only uv), and checks the exit status and what the hooks printed: `<hook
name>....Failed` and `- hook id: <id>`. The test-mode hook runs the project's pytest
without its slow tests: the plugin's checks tests/test_pipeline.py lists, and the
user's own tests.

The tests share the project (one worker runs them all: xdist_group) but not an
order: the fixture makes the first commit, and each test leaves the work tree as
the last commit left it.
"""

import json
import math
import re
import time
from pathlib import Path

import pytest
from project_shell import Project, set_up_project

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("precommit")]

PACKAGE = "ml_project"
MODELS = f"src/{PACKAGE}/models.py"
FEATURES = f"src/{PACKAGE}/features.py"
HOOK_IDS = {
    "ruff-check",
    "ruff-format",
    "nbstripout",
    "codespell",
    "mypy",
    "check-merge-conflict",
    "check-toml",
    "check-added-large-files",
    "no-rej-files",
    "no-written-passwords",
    "test-mode",
}
# check-added-large-files' limit (--maxkb in .pre-commit-config.yaml).
LARGE_FILE_KB = 500
EXTRA_TREES = """\
        "extra_trees": ModelSpec(
            make=lambda seed, n_jobs: ExtraTreesClassifier(
                n_estimators=100, min_samples_leaf=5, n_jobs=n_jobs, random_state=seed
            ),
            search_space={"max_depth": [None, 8, 16], "min_samples_leaf": [1, 5, 20]},
        ),
"""
CONFLICT = "<<<<<<< ours\nour line\n=======\ntheir line\n>>>>>>> theirs\n"


@pytest.fixture(scope="module")
def project(template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The generated project with its environment and hooks, set up as its README says."""
    project = set_up_project(template_repo, tmp_path_factory.mktemp("precommit"), {})
    project.run("git", "add", "--all")
    start = time.perf_counter()
    project.first_commit = project.commit("Fresh project")
    project.first_commit_s = time.perf_counter() - start
    if project.first_commit.returncode != 0:
        # test_fresh_project_... reports it; the other tests need a commit to start from.
        project.run("git", "commit", "--quiet", "--no-verify", "--message", "Fresh project")
    return project


@pytest.fixture(autouse=True)
def clean_tree(project: Project):
    """Each test starts from the last commit and leaves nothing behind."""
    yield
    project.restore()


def test_hooks_are_local_and_run_through_uv(project):
    config = project.config()
    assert {repo["repo"] for repo in config["repos"]} == {"local"}
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {hook["id"] for hook in hooks} >= HOOK_IDS
    for hook in hooks:
        assert hook["language"] in {"system", "fail"}, hook["id"]
        if hook["language"] == "system":
            # Works from a shell where .venv is not activated: uv finds the environment.
            assert hook["entry"].startswith("uv run "), hook["id"]
    assert "pytest" in next(hook for hook in hooks if hook["id"] == "test-mode")["entry"]


def test_fresh_project_is_committed_and_passes_every_hook(project, record_property):
    commit = project.first_commit
    record_property("wall_time", f"{project.first_commit_s:6.2f} s  git commit (a fresh project)")
    assert commit.returncode == 0, commit.output
    assert commit.status("test-mode") == "Passed", commit.output
    assert commit.failed() == set(), commit.output

    start = time.perf_counter()
    every = project.pre_commit("run", "--all-files")
    elapsed = time.perf_counter() - start
    record_property("wall_time", f"{elapsed:6.2f} s  uv run pre-commit run --all-files")
    assert every.returncode == 0, every.output
    assert every.status("test-mode") == "Passed", every.output
    # No hook rewrote a file of the fresh project.
    assert project.run("git", "status", "--porcelain").stdout == ""


def test_a_change_outside_the_pipeline_does_not_run_test_mode(project):
    project.write("README.md", project.read("README.md") + "\nA line about the project.\n")
    commit = project.add_and_commit("README.md", message="Say more in the README")
    assert commit.returncode == 0, commit.output
    assert commit.status("test-mode") == "Skipped", commit.output
    assert "(no files to check)Skipped" in commit.status_line("test-mode"), commit.output


def test_a_new_model_in_the_registry_is_committed(project):
    project.replace(
        MODELS,
        "from sklearn.ensemble import (\n",
        "from sklearn.ensemble import (\n    ExtraTreesClassifier,\n",
    )
    project.replace(
        MODELS, '    },\n    "regression": {\n', EXTRA_TREES + '    },\n    "regression": {\n'
    )
    commit = project.add_and_commit(MODELS, message="Add extra trees to the registry")
    assert commit.returncode == 0, commit.output
    assert commit.status("test-mode") == "Passed", commit.output
    assert '"extra_trees"' in project.run("git", "show", f"HEAD:{MODELS}").stdout


def test_a_syntax_error_in_the_features_is_refused_by_test_mode(project):
    project.write(FEATURES, project.read(FEATURES) + "\n\ndef broken(:\n    pass\n")
    commit = project.add_and_commit(FEATURES, message="Break the preprocessing")
    printed = commit.assert_refused_by("test-mode")
    assert "SyntaxError" in printed or "rror collecting" in printed, commit.output


def test_a_model_that_predicts_a_constant_is_refused_by_the_not_garbage_checks(project):
    # The model test mode trains now predicts the most frequent class; the change is
    # lint clean, so only the test-mode hook has a reason to refuse it.
    project.replace(
        MODELS,
        "HistGradientBoostingClassifier(random_state=seed)",
        'DummyClassifier(strategy="most_frequent")',
    )
    project.replace(MODELS, "    HistGradientBoostingClassifier,\n", "")
    project.replace(
        MODELS,
        "from sklearn.ensemble import (\n",
        "from sklearn.dummy import DummyClassifier\nfrom sklearn.ensemble import (\n",
    )
    # Test mode's boosting rounds (configs/test.toml) and production's hyper-parameters
    # are no parameters of a DummyClassifier: left in, the config checks would refuse them
    # before any model is fitted.
    params = "params = { hist_gradient_boosting = { max_iter = 30 } }\n"
    project.replace("configs/test.toml", params, "")
    params = "[train.params.hist_gradient_boosting]\nlearning_rate = 0.1\nmax_leaf_nodes = 31\n"
    project.replace("configs/production.toml", params, "")
    configs = ["configs/test.toml", "configs/production.toml"]
    commit = project.add_and_commit(MODELS, *configs, message="A constant model")
    printed = commit.assert_refused_by("test-mode")
    assert commit.failed() == {"test-mode"}, commit.output
    # The plugin's checks listed in tests/test_pipeline.py refused it: the baseline check,
    # and maybe an expectation of the model's behaviour; the slow checks (notebooks, the
    # report) were left to CI.
    failed = set(re.findall(r"(?m)^FAILED tests/test_pipeline\.py::(test_\w+)", printed))
    assert "test_beats_the_dummy_baseline" in failed, commit.output
    assert failed <= {"test_beats_the_dummy_baseline", "test_expectation_holds"}, commit.output
    assert re.search(r"\b\d+ failed, \d+ passed, \d+ deselected\b", printed), commit.output


def test_a_bad_config_value_is_refused_with_the_config_error(project):
    project.replace("configs/test.toml", "max_rows = 3_000\n", 'max_rows = "many"\n')
    commit = project.add_and_commit("configs/test.toml", message="A bad config value")
    printed = commit.assert_refused_by("test-mode")
    assert commit.failed() == {"test-mode"}, commit.output
    assert "configs/test.toml: key 'data.max_rows' must be an integer, got 'many'" in printed, (
        commit.output
    )


def test_a_password_written_out_in_a_config_is_refused_with_the_line_to_write(project):
    password = "pl4nted-Secret-0417"
    written = f'source = "postgresql+psycopg://reader:{password}@db.example/shop"\n'
    project.replace("configs/production.toml", "max_rows = 0\n", "max_rows = 0\n" + written)
    commit = project.add_and_commit("configs/production.toml", message="A database source")
    printed = commit.assert_refused_by("no-written-passwords")
    assert commit.failed() == {"no-written-passwords"}, commit.output
    assert "configs/production.toml:" in printed and "data.source" in printed, commit.output
    expected = 'source = "postgresql+psycopg://reader:${env:DB_PASSWORD}@db.example/shop"'
    assert expected in printed and "DB_PASSWORD=... in .env" in printed, commit.output
    assert password not in printed, commit.output
    # The line it says to write passes the hook.
    project.replace("configs/production.toml", written, expected + "\n")
    commit = project.add_and_commit("configs/production.toml", message="A database source")
    assert commit.status("no-written-passwords") == "Passed", commit.output


def notebook_with_outputs() -> str:
    """A small valid nbformat-4 notebook whose one code cell ran and printed."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 3,
                "id": "a1b2c3d4",
                "metadata": {},
                "outputs": [{"name": "stdout", "output_type": "stream", "text": ["2\n"]}],
                "source": ["print(1 + 1)"],
            }
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1) + "\n"


def test_a_notebook_is_committed_without_outputs(project):
    notebook = "notebooks/scratch.ipynb"
    project.write(notebook, notebook_with_outputs())
    first = project.add_and_commit(notebook, message="A notebook, run")
    printed = first.assert_refused_by("nbstripout")
    assert "files were modified by this hook" in printed, first.output

    second = project.add_and_commit(notebook, message="A notebook, stripped")
    assert second.returncode == 0, second.output
    committed = json.loads(project.run("git", "show", f"HEAD:{notebook}").stdout)
    code_cells = [cell for cell in committed["cells"] if cell["cell_type"] == "code"]
    assert code_cells
    for cell in code_cells:
        assert cell["outputs"] == []
        assert cell["execution_count"] is None


def test_conflict_markers_are_refused(project):
    project.write("README.md", project.read("README.md") + "\n" + CONFLICT)
    commit = project.add_and_commit("README.md", message="An unresolved conflict")
    printed = commit.assert_refused_by("check-merge-conflict")
    assert "README.md" in printed, commit.output


def test_a_broken_toml_config_is_refused_by_check_toml(project):
    # An unclosed string: no TOML parser reads the file.
    project.replace("configs/human.toml", "max_rows = 50_000\n", 'max_rows = "50_000\n')
    commit = project.add_and_commit("configs/human.toml", message="A broken config")
    printed = commit.assert_refused_by("check-toml")
    assert "configs/human.toml" in printed, commit.output


def test_a_large_file_is_refused_by_check_added_large_files(project):
    # Data belongs in data/ (git-ignored): a table added elsewhere is refused.
    rows = "".join(f"{index},{index * 7 % 1000},customer {index}\n" for index in range(40_000))
    project.write("customers.csv", "id,spend,name\n" + rows)
    size_kb = math.ceil((project.folder / "customers.csv").stat().st_size / 1024)
    assert size_kb > LARGE_FILE_KB
    commit = project.add_and_commit("customers.csv", message="A data file")
    printed = commit.assert_refused_by("check-added-large-files")
    assert f"customers.csv ({size_kb} KB) exceeds {LARGE_FILE_KB} KB" in printed, commit.output
    # The same rows under data/ are ignored by git: nothing to refuse.
    project.write("data/customers.csv", rows)
    try:
        assert project.run("git", "status", "--porcelain", "--", "data").stdout == ""
    finally:
        (project.folder / "data" / "customers.csv").unlink()


def test_a_rej_file_is_refused(project):
    project.write("foo.py.rej", "@@ -1 +1 @@\n-old\n+new\n")
    commit = project.add_and_commit("foo.py.rej", message="A rejected hunk")
    printed = commit.assert_refused_by("no-rej-files")
    assert "foo.py.rej" in printed, commit.output
