"""A generated project driven as a user drives it: from a shell where its environment
is not activated, with real git commits and pre-commit hooks (see test_precommit.py and
test_update.py)."""

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from rendering import FOREIGN_ENVIRONMENT, find_uv, render_with_copier

# What follows a hook's name on its status line: dots, a note, the status.
STATUS_TAIL = re.compile(r"^\.*(?P<note>\([^)]*\))?(?P<status>Passed|Failed|Skipped)$")


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
    # The commit of the fresh project, hooks running (see the project fixture), and its
    # wall time.
    first_commit: HookRun | None = None
    first_commit_s: float = 0.0

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


def set_git_identity(project: Project) -> None:
    """Give the project's repository a committer, and no signing (the tests' shell has
    no global git config)."""
    for key, value in {
        "user.name": "trimode tests",
        "user.email": "tests@example.invalid",
        "commit.gpgsign": "false",
    }.items():
        project.run("git", "config", key, value)


def set_up_project(template: Path, root: Path, answers: dict) -> Project:
    """Generate a project with copier under root and set it up as its README says: a git
    repository with a committer, its environment (`uv sync`) and its hooks installed.
    Nothing is committed yet."""
    folder = render_with_copier(template, root / "ml-project", {"install_hooks": False, **answers})
    project = Project(folder, not_activated_environment(root))
    if not (folder / ".git").is_dir():
        project.run("git", "init", "--quiet", "--initial-branch=main")
    set_git_identity(project)
    # Bytecode compiled at install: the hooks and tests start many Pythons.
    project.run("uv", "sync", "--quiet", "--compile-bytecode")
    project.run("uv", "run", "--quiet", "pre-commit", "install")
    assert (folder / ".git" / "hooks" / "pre-commit").is_file()
    return project
