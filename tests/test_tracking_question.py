"""The mlflow question: on, MLflow is a dependency with its config, module, tests and README
section; off, no trace of it remains anywhere in the generated tree."""

import re
import tomllib

import pytest
from rendering import ANSWERS_FILE, MATRIX

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


@pytest.mark.parametrize("engine", ENGINES)
def test_without_mlflow_no_trace_of_it_remains(engine, renders):
    project = renders.get(WITHOUT, engine)
    assert (project / "pyproject.toml").is_file()
    assert mentions_of_mlflow(project) == []
    package = next((project / "src").iterdir())
    assert not (package / "publishing" / "tracking.py").exists()
    assert not (package / "run" / "plugged.py").exists()
    assert "[tracking]" not in (project / "configs" / "base.toml").read_text("utf-8")


@pytest.mark.parametrize("engine", ENGINES)
def test_with_mlflow_it_is_a_dependency_with_its_config_module_and_tests(engine, renders):
    project = renders.get(WITH, engine)
    found = mentions_of_mlflow(project)
    package = next((project / "src").iterdir()).name
    for expected in (
        "pyproject.toml",
        "README.md",
        f"src/{package}/publishing/tracking.py",
        "tests/machinery/test_tracking.py",
    ):
        assert expected in found, found
    pyproject = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))
    assert any(re.match(r"mlflow>=3\.", item) for item in pyproject["project"]["dependencies"])
    configs = {
        mode: tomllib.loads((project / "configs" / f"{mode}.toml").read_text("utf-8"))
        for mode in ("base", "test")
    }
    assert configs["base"]["tracking"]["enabled"] is True
    assert configs["base"]["tracking"]["uri"] == "sqlite:///mlruns.db"
    assert configs["base"]["tracking"]["experiment"] == WITH.answers["project_slug"]
    assert configs["test"]["tracking"] == {"enabled": False}
    ignored = (project / ".gitignore").read_text("utf-8").splitlines()
    assert "/mlruns.db" in ignored and "/mlruns/" in ignored
    assert "mlflow ui --backend-store-uri sqlite:///mlruns.db" in (project / "README.md").read_text(
        "utf-8"
    )
