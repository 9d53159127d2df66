"""Sessions a person or a CI runs: `nox -s tests`, `nox -s lint`, `nox -s train_test`."""

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")


def install_project(session: nox.Session) -> None:
    """Install the project with its dev tools into the session's environment."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "dev"))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite, test-mode pipeline included."""
    install_project(session)
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "dev"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def train_test(session: nox.Session) -> None:
    """Run the pipeline in test mode from the command line."""
    install_project(session)
    session.run("python", "-m", "{{ cookiecutter.package_name }}", "train", "--mode", "test")
