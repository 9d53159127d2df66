"""pre-commit in a generated project: real `git commit`s, refused by the right hook.

One classification project (copier, the defaults) gets its own environment (`uv sync`)
and the hooks (`uv run pre-commit install`). Each test then changes the project and
commits with a real `git commit` from a shell where the project's environment is not
activated (no VIRTUAL_ENV, no .venv/bin on PATH, only uv), and checks the exit status
and what the hooks printed: `<hook name>....Failed` and `- hook id: <id>`.

The tests share the project (one worker runs them all: xdist_group) but not an
order: the fixture makes the first commit, and each test leaves the work tree as
the last commit left it.
"""

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from rendering import FOREIGN_ENVIRONMENT, find_uv, render_with_copier

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("precommit")]

PACKAGE = "ml_project"
HOOK_IDS = {
    "ruff-check",
    "ruff-format",
    "nbstripout",
    "check-merge-conflict",
    "no-rej-files",
    "test-mode",
}
# What follows a hook's name on its status line: dots, a note, the status.
STATUS_TAIL = re.compile(r"^\.*(?P<note>\([^)]*\))?(?P<status>Passed|Failed|Skipped)$")

EXTRA_TREES = """\
        "extra_trees": ModelSpec(
            make=lambda seed, n_jobs: ExtraTreesClassifier(
                n_estimators=100, min_samples_leaf=5, n_jobs=n_jobs, random_state=seed
            ),
            search_space={"max_depth": [None, 8, 16], "min_samples_leaf": [1, 5, 20]},
        ),
"""
CONFLICT = "<<<<<<< ours\nour line\n=======\ntheir line\n>>>>>>> theirs\n"


@dataclass(frozen=True)
class HookRun:
    """What one run of the hooks (a commit, or `pre-commit run`) returned and printed."""

    returncode: int
    output: str
    names: dict[str, str]

    def _sections(self) -> dict[str, tuple[str, list[str]]]:
        """Split the output by hook: id -> (status line, the lines printed under it)."""
        sections: dict[str, tuple[str, list[str]]] = {}
        current = None
        for line in self.output.splitlines():
            for hook_id, name in self.names.items():
                if line.startswith(name) and STATUS_TAIL.match(line[len(name) :]):
                    current = hook_id
                    sections[hook_id] = (line, [])
                    break
            else:
                if current is not None:
                    sections[current][1].append(line)
        return sections

    def status(self, hook_id: str) -> str | None:
        """ "Passed", "Failed", "Skipped", or None when the hook did not report."""
        section = self._sections().get(hook_id)
        if section is None:
            return None
        return STATUS_TAIL.match(section[0][len(self.names[hook_id]) :])["status"]

    def status_line(self, hook_id: str) -> str:
        """The line pre-commit printed for the hook (empty when there is none)."""
        return self._sections().get(hook_id, ("", []))[0]

    def printed_by(self, hook_id: str) -> str:
        """What pre-commit printed under the hook's status line."""
        return "\n".join(self._sections().get(hook_id, ("", []))[1])

    def failed(self) -> set[str]:
        """The ids of the hooks that failed."""
        return {hook_id for hook_id in self._sections() if self.status(hook_id) == "Failed"}

    def assert_refused_by(self, hook_id: str) -> str:
        """Check the commit was refused and the hook says it failed; return its output."""
        assert self.returncode != 0, self.output
        assert self.status(hook_id) == "Failed", self.output
        printed = self.printed_by(hook_id)
        assert f"- hook id: {hook_id}" in printed, self.output
        return printed


@dataclass
class Project:
    """The generated project, and the environment of a shell that did not activate it."""

    folder: Path
    env: dict[str, str]
    # The commit of the fresh project, hooks running (see the project fixture).
    first_commit: HookRun | None = None

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a command in the project folder (output and errors in one stream)."""
        result = subprocess.run(
            list(command),
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        assert not check or result.returncode == 0, f"{command} failed:\n{result.stdout}"
        return result

    def hook_names(self) -> dict[str, str]:
        """Map each hook id in .pre-commit-config.yaml to the name pre-commit prints."""
        return {
            hook["id"]: hook.get("name", hook["id"])
            for repo in self.config()["repos"]
            for hook in repo["hooks"]
        }

    def config(self) -> dict:
        """The project's .pre-commit-config.yaml."""
        return yaml.safe_load((self.folder / ".pre-commit-config.yaml").read_text("utf-8"))

    def commit(self, message: str) -> HookRun:
        """`git commit` what is staged; the pre-commit hook runs."""
        result = self.run("git", "commit", "--message", message, check=False)
        return HookRun(result.returncode, result.stdout, self.hook_names())

    def add_and_commit(self, *paths: str, message: str) -> HookRun:
        """Stage the paths, then commit."""
        self.run("git", "add", "--", *paths)
        return self.commit(message)

    def pre_commit(self, *arguments: str) -> HookRun:
        """Run `uv run pre-commit ...` as a user would."""
        result = self.run("uv", "run", "--quiet", "pre-commit", *arguments, check=False)
        return HookRun(result.returncode, result.stdout, self.hook_names())

    def read(self, relative: str) -> str:
        return (self.folder / relative).read_text(encoding="utf-8")

    def write(self, relative: str, text: str) -> None:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def replace(self, relative: str, old: str, new: str) -> None:
        """Replace text the generated file is known to hold, failing clearly if it does not."""
        text = self.read(relative)
        assert old in text, f"{relative} no longer holds {old!r}: update this test"
        self.write(relative, text.replace(old, new, 1))

    def restore(self) -> None:
        """Drop every change since the last commit (ignored files stay)."""
        self.run("git", "reset", "--hard", "--quiet", "HEAD")
        self.run("git", "clean", "-d", "--force", "--quiet")
        assert self.run("git", "status", "--porcelain").stdout == ""


def not_activated_environment(root: Path) -> dict[str, str]:
    """The environment of a user's shell: uv on PATH, no virtual environment activated.

    Also: pre-commit's cache in a temporary folder, no colours, and git configured by
    the project's own .git/config only (no user or system hooksPath, signing, ...).
    """
    uv = find_uv()
    if uv is None:
        pytest.fail("uv is needed: python3 -m pip install uv")
    tools = root / "tools"
    tools.mkdir()
    (tools / "uv").symlink_to(uv)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in FOREIGN_ENVIRONMENT
        and not name.startswith(("PYTEST_", "PRE_COMMIT", "GIT_", "UV_", "NOX_"))
    }
    # Every virtual environment's bin folder leaves PATH: the test runner's, nox's, any.
    kept = [
        entry
        for entry in env.get("PATH", "").split(os.pathsep)
        if entry and not (Path(entry).parent / "pyvenv.cfg").exists()
    ]
    env["PATH"] = os.pathsep.join([str(tools), *kept])
    (root / "gitconfig").touch()
    env.update(
        PRE_COMMIT_HOME=str(root / "pre-commit-home"),
        PRE_COMMIT_COLOR="never",
        GIT_CONFIG_GLOBAL=str(root / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


@pytest.fixture(scope="module")
def project(template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The generated project with its environment and hooks, set up as its README says."""
    root = tmp_path_factory.mktemp("precommit")
    folder = render_with_copier(template_repo, root / "ml-project", {"install_hooks": False})
    project = Project(folder, not_activated_environment(root))
    if not (folder / ".git").is_dir():
        project.run("git", "init", "--quiet", "--initial-branch=main")
    for key, value in {
        "user.name": "trimode tests",
        "user.email": "tests@example.invalid",
        "commit.gpgsign": "false",
    }.items():
        project.run("git", "config", key, value)
    project.run("uv", "sync", "--quiet")
    project.run("uv", "run", "--quiet", "pre-commit", "install")
    assert (folder / ".git" / "hooks" / "pre-commit").is_file()
    project.run("git", "add", "--all")
    project.first_commit = project.commit("Fresh project")
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


def test_fresh_project_is_committed_and_passes_every_hook(project):
    commit = project.first_commit
    assert commit.returncode == 0, commit.output
    assert commit.status("test-mode") == "Passed", commit.output
    assert commit.failed() == set(), commit.output

    every = project.pre_commit("run", "--all-files")
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
    models = f"src/{PACKAGE}/models.py"
    project.replace(
        models,
        "from sklearn.ensemble import (\n",
        "from sklearn.ensemble import (\n    ExtraTreesClassifier,\n",
    )
    project.replace(
        models, '    },\n    "regression": {\n', EXTRA_TREES + '    },\n    "regression": {\n'
    )
    commit = project.add_and_commit(models, message="Add extra trees to the registry")
    assert commit.returncode == 0, commit.output
    assert commit.status("test-mode") == "Passed", commit.output
    assert '"extra_trees"' in project.run("git", "show", f"HEAD:{models}").stdout


def test_a_syntax_error_in_the_pipeline_is_refused_by_test_mode(project):
    pipeline = f"src/{PACKAGE}/pipeline.py"
    project.write(pipeline, project.read(pipeline) + "\n\ndef broken(:\n    pass\n")
    commit = project.add_and_commit(pipeline, message="Break the pipeline")
    printed = commit.assert_refused_by("test-mode")
    assert "SyntaxError" in printed or "rror collecting" in printed, commit.output


def test_a_model_that_predicts_a_constant_is_refused_by_the_not_garbage_checks(project):
    models = f"src/{PACKAGE}/models.py"
    # The model test mode trains now predicts the most frequent class; the change is
    # lint clean, so only the test-mode hook has a reason to refuse it.
    project.replace(
        models,
        "HistGradientBoostingClassifier(random_state=seed)",
        'DummyClassifier(strategy="most_frequent")',
    )
    project.replace(models, "    HistGradientBoostingClassifier,\n", "")
    project.replace(
        models,
        "from sklearn.base import BaseEstimator\n",
        "from sklearn.base import BaseEstimator\nfrom sklearn.dummy import DummyClassifier\n",
    )
    commit = project.add_and_commit(models, message="A constant model")
    printed = commit.assert_refused_by("test-mode")
    assert commit.failed() == {"test-mode"}, commit.output
    assert "beats_dummy_baseline" in printed, commit.output


def test_a_bad_config_value_is_refused_with_the_config_error(project):
    project.replace("configs/test.toml", "max_rows = 3_000\n", 'max_rows = "many"\n')
    commit = project.add_and_commit("configs/test.toml", message="A bad config value")
    printed = commit.assert_refused_by("test-mode")
    assert commit.failed() == {"test-mode"}, commit.output
    assert "configs/test.toml: key 'data.max_rows' must be an integer, got 'many'" in printed, (
        commit.output
    )


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


def test_a_rej_file_is_refused(project):
    project.write("foo.py.rej", "@@ -1 +1 @@\n-old\n+new\n")
    commit = project.add_and_commit("foo.py.rej", message="A rejected hunk")
    printed = commit.assert_refused_by("no-rej-files")
    assert "foo.py.rej" in printed, commit.output
