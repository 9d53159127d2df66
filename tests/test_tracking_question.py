"""The mlflow question: on, the project asks for the runtime's mlflow extra and turns
[tracking] on, its documents saying how to see the runs; off, no trace of MLflow remains
anywhere in the generated tree, and the runtime's own default (tracking off) applies."""

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from rendering import ANSWERS_FILE, MATRIX

from trimode.config.loading import load_config

ENGINES = ["copier", "cookiecutter"]
WITH = next(case for case in MATRIX if case.answers["mlflow"])
WITHOUT = next(case for case in MATRIX if not case.answers["mlflow"])


def mentions_of_mlflow(project) -> list[str]:
    """Every file (path or content) that names MLflow, in any case; copier's answers file,
    which records every answer (the question's among them), is not the project's own."""
    found = []
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project).as_posix()
        if relative == ANSWERS_FILE or relative.startswith(".git/"):
            continue
        named = "mlflow" in relative.lower()
        if named or (path.is_file() and re.search(b"mlflow", path.read_bytes(), re.IGNORECASE)):
            found.append(relative)
    return found


def runtime_extras(project) -> set[str]:
    """The extras of trimode the project depends on (it depends on trimode exactly once)."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))
    [runtime] = [
        requirement
        for requirement in map(Requirement, pyproject["project"]["dependencies"])
        if requirement.name == "trimode"
    ]
    return set(runtime.extras)


@pytest.mark.parametrize("engine", ENGINES)
def test_without_mlflow_no_trace_of_it_remains(engine, renders):
    project = renders.get(WITHOUT, engine)
    assert (project / "pyproject.toml").is_file()
    assert mentions_of_mlflow(project) == []
    assert runtime_extras(project) == {"excel"}
    for mode in ("base", "test", "human", "production"):
        text = (project / "configs" / f"{mode}.toml").read_text("utf-8")
        assert "tracking" not in tomllib.loads(text), mode
    # The runtime knows [tracking] all the same: off unless a config turns it on.
    for mode in ("test", "human", "production"):
        assert load_config(mode, project / "configs").tracking.enabled is False, mode


@pytest.mark.parametrize("engine", ENGINES)
def test_with_mlflow_it_is_an_extra_with_its_config_and_documents(engine, renders):
    project = renders.get(WITH, engine)
    found = mentions_of_mlflow(project)
    for expected in ("pyproject.toml", "configs/base.toml", ".gitignore"):
        assert expected in found, found
    assert runtime_extras(project) == {"excel", "mlflow"}
    configs = {
        mode: tomllib.loads((project / "configs" / f"{mode}.toml").read_text("utf-8"))
        for mode in ("base", "test")
    }
    assert configs["base"]["tracking"]["enabled"] is True
    assert configs["base"]["tracking"]["uri"] == "sqlite:///mlruns.db"
    assert configs["base"]["tracking"]["experiment"] == WITH.answers["project_slug"]
    assert configs["test"]["tracking"] == {"enabled": False}
    # Every mode but test records its runs.
    for mode, enabled in (("test", False), ("human", True), ("production", True)):
        assert load_config(mode, project / "configs").tracking.enabled is enabled, mode
    ignored = (project / ".gitignore").read_text("utf-8").splitlines()
    assert "/mlruns.db" in ignored and "/mlruns/" in ignored
    # The README or a page of docs/ says how to look at the runs.
    documents = [project / "README.md", *sorted((project / "docs").glob("*.md"))]
    command = "mlflow ui --backend-store-uri sqlite:///mlruns.db"
    assert any(command in path.read_text("utf-8") for path in documents)
