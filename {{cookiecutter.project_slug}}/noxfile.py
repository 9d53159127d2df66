#!/usr/bin/env -S uv run --script
# /// script
# dependencies = ["nox>=2025.2.9"]
# ///
"""Sessions a person or a CI runs: `nox -s tests`, `nox -s lint`, `nox -s train_test`.

`nox` alone runs lint and tests; `./noxfile.py -s <session>` works without nox installed.
"""

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv"

PYPROJECT = nox.project.load_toml("pyproject.toml")


def install_project(session: nox.Session) -> None:
    """Install the project with its dev tools into the session's environment."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "dev"))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite, test-mode pipeline included."""
    install_project(session)
    session.run("pytest", *session.posargs)


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """Run every check of .pre-commit-config.yaml (ruff, codespell, mypy, ...) on every file.

    The same hooks as a commit, in the project's own environment (.venv): their tools come
    from uv.lock through `uv run`, so this session makes no environment of its own. Test
    mode is left to the tests session, which runs the whole suite (as in CI).
    """
    command = ["uv", "run", "--quiet", "pre-commit", "run", "--all-files", *session.posargs]
    session.run(*command, env={"SKIP": "test-mode"})


@nox.session(default=False)
def train_test(session: nox.Session) -> None:
    """Run the pipeline in test mode from the command line."""
    install_project(session)
    session.run("python", "-m", "trimode", "train", "--mode", "test")


if __name__ == "__main__":
    nox.main()
