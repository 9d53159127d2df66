"""The post-generation step: git always; the environment and the hooks when asked and uv is there.

cookiecutter runs it as its post-generation hook, copier as a task on copy. The engines run
as commands, so that the step gets the environment a test gives them.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rendering import FOREIGN_ENVIRONMENT, environment_with, find_uv, render_with_command

ENGINES = ["copier", "cookiecutter"]
engines = pytest.mark.parametrize("engine", ENGINES)
# No environment but the project's own: whatever runs the tests may have set these.
NO_FOREIGN_ENVIRONMENT = dict.fromkeys(FOREIGN_ENVIRONMENT)


def render(
    engine: str, template: Path, folder: Path, answers: dict, changes: dict[str, str | None]
) -> tuple[Path, str]:
    """Generate a project with the engine's command in this environment changed (None
    removes a variable); return the project folder and what the command printed."""
    return render_with_command(engine, template, folder, answers, environment_with(changes))


def assert_not_set_up(project: Path) -> None:
    assert (project / ".git").is_dir()
    assert not (project / ".venv").exists()
    assert not (project / ".git" / "hooks" / "pre-commit").exists()


@engines
def test_without_uv_it_makes_a_repository_and_prints_the_command(
    engine, template_repo, tmp_path, no_uv_path
):
    changes = {**NO_FOREIGN_ENVIRONMENT, "PATH": no_uv_path}
    project, printed = render(engine, template_repo, tmp_path, {"install_hooks": True}, changes)
    assert_not_set_up(project)
    assert "uv sync" in printed
    assert "pre-commit install" in printed


@engines
def test_install_hooks_false_makes_a_repository_only(engine, template_repo, tmp_path):
    # uv is on PATH: only the answer keeps the step from using it.
    answers = {"install_hooks": False}
    project, _ = render(engine, template_repo, tmp_path, answers, NO_FOREIGN_ENVIRONMENT)
    assert_not_set_up(project)


@pytest.mark.slow
@pytest.mark.xdist_group("precommit")
@engines
def test_install_hooks_makes_the_environment_and_installs_the_hook(engine, template_repo, tmp_path):
    uv = find_uv()
    if uv is None:
        pytest.fail("uv is needed: python3 -m pip install uv")
    # As under `nox -s tests`: variables name another environment. The project must
    # get its own .venv all the same, and the other environment must stay untouched.
    elsewhere = tmp_path / "another-environment"
    changes = {
        **NO_FOREIGN_ENVIRONMENT,
        "VIRTUAL_ENV": str(elsewhere),
        "UV_PROJECT_ENVIRONMENT": str(elsewhere),
        "PATH": os.pathsep.join([str(Path(uv).parent), os.environ.get("PATH", "")]),
    }
    project, printed = render(engine, template_repo, tmp_path, {"install_hooks": True}, changes)
    assert not elsewhere.exists(), (
        f"uv sync made the environment that VIRTUAL_ENV/UV_PROJECT_ENVIRONMENT name\n{printed}"
    )
    hook = project / ".git" / "hooks" / "pre-commit"
    assert hook.is_file(), printed
    assert (project / ".venv" / "bin" / "python").exists(), printed
    assert f"INSTALL_PYTHON={project / '.venv' / 'bin' / 'python'}\n" in hook.read_text(), printed

    # Running the step again changes nothing and does not fail.
    before = hook.read_text()
    again = subprocess.run(
        [
            sys.executable,
            str(template_repo / "hooks" / "post_gen_project.py"),
            "--install-hooks=yes",
        ],
        cwd=project,
        env={name: value for name, value in os.environ.items() if name not in FOREIGN_ENVIRONMENT},
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert hook.read_text() == before
