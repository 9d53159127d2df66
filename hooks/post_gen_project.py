"""Set up a freshly generated project: git repository, environment, pre-commit hooks.

cookiecutter runs this file as its post-generation hook (rendering it first, which
fills in INSTALL_HOOKS below); copier runs it as a task on copy only, never during
an update, passing --install-hooks=yes|no. Both run it inside the new project.

It is idempotent and never fails the generation: when a tool is missing or a step
fails, it prints the one command to run instead.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

# cookiecutter renders this line; under copier it stays as written and the
# command-line argument decides.
INSTALL_HOOKS = "{{ cookiecutter.install_hooks }}"
SET_UP_BY_HAND = "uv sync && uv run pre-commit install"


def wants_hooks(arguments: list[str]) -> bool:
    """Read the install_hooks answer from --install-hooks=yes|no or the rendered constant."""
    for argument in arguments:
        if argument.startswith("--install-hooks="):
            return argument.split("=", 1)[1].lower() in {"yes", "true", "1"}
    return INSTALL_HOOKS.lower() in {"yes", "true", "1"}


def run(*command: str) -> bool:
    """Run a command in the project folder; print its output only when it fails."""
    # The project's own .venv, whatever environment the engine runs in (nox, an activated venv).
    foreign = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
    env = {name: value for name, value in os.environ.items() if name not in foreign}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        print(f"`{' '.join(command)}` failed:\n{result.stdout}{result.stderr}".rstrip())
    return result.returncode == 0


def init_git(project: Path) -> bool:
    """Make the project a git repository unless it already is one; return whether it is."""
    if (project / ".git").exists():
        return True
    if shutil.which("git") is None:
        print("git was not found; to make this project a repository run: git init -b main")
        return False
    return run("git", "init", "--quiet", "--initial-branch=main")


def install_hooks(project: Path) -> None:
    """Create the environment with uv and install the pre-commit hooks into .git/hooks."""
    if shutil.which("uv") is None:
        print(
            f"uv was not found; install it (python3 -m pip install uv), then run: {SET_UP_BY_HAND}"
        )
        return
    if (project / ".git" / "hooks" / "pre-commit").exists():
        return
    # Compiled bytecode: the first commits need not compile every library module.
    synced = run("uv", "sync", "--quiet", "--compile-bytecode")
    if synced and run("uv", "run", "--quiet", "pre-commit", "install"):
        print("Environment in .venv; pre-commit hooks installed: each commit runs test mode.")
    else:
        print(f"Setting up did not finish; run: {SET_UP_BY_HAND}")


def remove_empty_folders(project: Path) -> None:
    """Remove folders left empty by optional files whose names rendered empty."""
    for folder in sorted(project.rglob("*"), key=lambda path: len(path.parts), reverse=True):
        if folder.is_dir() and ".git" not in folder.parts and not any(folder.iterdir()):
            folder.rmdir()


def main(arguments: list[str]) -> None:
    """Set the project up as the answers ask."""
    project = Path.cwd()
    remove_empty_folders(project)
    if init_git(project) and wants_hooks(arguments):
        install_hooks(project)
    elif not wants_hooks(arguments):
        print(f"To install the pre-commit hooks later, run: {SET_UP_BY_HAND}")


if __name__ == "__main__":
    main(sys.argv[1:])
