"""Set up a freshly generated project: make it a git repository.

cookiecutter runs this file as its post-generation hook; copier runs it as a
task on copy only (never during an update). Both run it inside the new
project. It is idempotent and never fails the generation: when a tool is
missing it prints the command to run instead.
"""

import shutil
import subprocess
from pathlib import Path


def run_quietly(*command: str) -> bool:
    """Run a command in the project folder; return whether it succeeded."""
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return result.returncode == 0


def init_git(project: Path) -> None:
    """Make the project a git repository unless it already is one."""
    if (project / ".git").exists():
        return
    if shutil.which("git") is None:
        print("git was not found; to make this project a repository run: git init -b main")
        return
    if not run_quietly("git", "init", "--quiet", "--initial-branch=main"):
        print("git init failed; run it yourself: git init -b main")


if __name__ == "__main__":
    init_git(Path.cwd())
