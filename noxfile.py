"""Sessions for the trimode repository (the runtime, the template, their tests): tests,
demo, lint.

Run them with `uvx nox -s <session>`; environments are made with uv.
"""

import shutil
import subprocess
from pathlib import Path

import nox
from packaging.requirements import Requirement

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]

ROOT = Path(__file__).resolve().parent
DEV = nox.project.dependency_groups(nox.project.load_toml(ROOT / "pyproject.toml"), "dev")
DEMO = ROOT / "build" / "demo" / "ml-project"


def dev_requirements(*names: str) -> list[str]:
    """Return the dev group's requirements for the named distributions (their pins included)."""
    return [line for line in DEV if Requirement(line).name in names]


def git_identity_if_missing() -> dict[str, str]:
    """Return a git identity for copier's commit of uncommitted template changes, if git has none.

    copier renders a local git template from a temporary commit of the working tree.
    """
    configured = subprocess.run(
        ["git", "config", "user.email"], cwd=ROOT, capture_output=True, check=False
    )
    if configured.returncode == 0:
        return {}
    identity = {"NAME": "trimode demo", "EMAIL": "demo@example.invalid"}
    return {
        f"GIT_{role}_{key}": value
        for role in ("AUTHOR", "COMMITTER")
        for key, value in identity.items()
    }


def sync(session: nox.Session) -> None:
    """Install the runtime (editable), its extras and the dev group, as uv.lock pins them,
    into the session's environment, its bytecode compiled (the tests start many Pythons)."""
    environment = {"UV_PROJECT_ENVIRONMENT": session.virtualenv.location}
    command = ["uv", "sync", "--locked", "--compile-bytecode", "--group", "dev"]
    session.run_install(*command, env=environment, external=True)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (the runtime's tests, then the template's: both engines, generated
    projects installed and run); arguments go to pytest (e.g. -m "not slow").

    pytest-xdist spreads the tests over the cores; the slow tests stay on one worker per
    group, which owns their shared environment.
    """
    sync(session)
    session.run("python", "-m", "pytest", "-n", "auto", "--dist", "loadgroup", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Generate the default project into build/demo/ml-project; run the three modes."""
    session.install(*dev_requirements("copier"))
    if DEMO.exists():
        shutil.rmtree(DEMO)
    # The project depends on this checkout's runtime (editable), not on a release tag.
    session.run(
        "copier",
        "copy",
        "--trust",
        "--defaults",
        "--vcs-ref=HEAD",
        f"--data=runtime_source={ROOT}",
        str(ROOT),
        str(DEMO),
        env=git_identity_if_missing(),
    )
    # The project's own environment (.venv), as its README tells users to make it; nox's uv
    # backend points UV_PROJECT_ENVIRONMENT and VIRTUAL_ENV at the session's venv instead.
    venv = str(DEMO / ".venv")
    project_env = {"VIRTUAL_ENV": venv, "UV_PROJECT_ENVIRONMENT": venv}
    with session.chdir(DEMO):
        session.run("uv", "sync", external=True, env=project_env)
        # Test mode trains; human mode also compares the models and writes the HTML report;
        # its choice is promoted into production's config, and production trains it.
        commands = [
            ["train", "--mode", "test"],
            ["compare", "--mode", "human"],
            ["train", "--mode", "human"],
            ["report", "--mode", "human"],
            ["promote", "--from", "human"],
            ["train", "--mode", "production"],
        ]
        for command in commands:
            session.run("uv", "run", "ml-project", *command, external=True, env=project_env)
        # Batch scoring with the production model: 10,000 unseen rows of the built-in data.
        new_rows = "outputs/new_rows.parquet"
        write_rows = (
            "from trimode.data.synthetic import make_dataset; "
            f"make_dataset('classification', 10_000, seed=1).to_parquet('{new_rows}')"
        )
        session.run("uv", "run", "python", "-c", write_rows, external=True, env=project_env)
        predict = ["predict", "--input", new_rows, "--output", "outputs/predictions.parquet"]
        session.run("uv", "run", "ml-project", *predict, external=True, env=project_env)
    for mode in ("test", "human", "production"):
        outputs = DEMO / "outputs" / mode
        session.log(f"{mode} mode outputs are in {outputs}:")
        for path in sorted(outputs.rglob("*")):
            if path.is_file():
                session.log(f"  {path.relative_to(outputs)}")


@nox.session
def lint(session: nox.Session) -> None:
    """Check the repository's Python files with ruff (lint and format), and that the
    runtime's layers point one way ([tool.importlinter] in pyproject.toml)."""
    session.install(*dev_requirements("ruff", "import-linter"))
    # import-linter reads the runtime's source where Python finds it: the package alone.
    session.install("--no-deps", "--editable", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")
