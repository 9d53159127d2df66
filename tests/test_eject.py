"""`trimode eject` on a generated project, end to end: the project pins the runtime (from
the template repository's tag, over file://), ejects it, syncs offline, and then holds
and runs the runtime's code itself: its command, its tests and a commit through its
hooks."""

import re
import tomllib
from pathlib import Path

import pytest
from project_shell import set_up_project
from rendering import git

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("eject")]

SLUG = "ml-project"
# Where the runtime and its pytest plugin are imported from.
WHERE = "import trimode, trimode.testing.plugin as p; print(trimode.__file__, p.__file__)"


def test_an_ejected_project_owns_the_runtime_and_passes_its_tests_and_hooks(
    template_repo: Path, tmp_path: Path
):
    project = set_up_project(template_repo, tmp_path, {})
    project.run("git", "add", "--all")
    # The fresh project's commit through its hooks is test_precommit.py's.
    project.run("git", "commit", "--quiet", "--no-verify", "--message", "Fresh project")
    pinned = project.run("uv", "pip", "show", "trimode").stdout
    assert "Name: trimode" in pinned and "site-packages" in pinned

    dry_run = project.run("uv", "run", "--quiet", SLUG, "eject", "--dry-run").stdout
    assert "nothing written" in dry_run and "src/trimode/reporting/page.js" in dry_run
    assert project.run("git", "status", "--porcelain").stdout == ""

    said = project.run("uv", "run", "--quiet", SLUG, "eject").stdout
    assert "one way" in said and "uv sync" in said, said
    # Every package comes from uv's cache: the runtime's requirements were the project's.
    project.env["UV_OFFLINE"] = "1"
    project.run("uv", "sync", "--quiet")
    shown = project.run("uv", "pip", "show", "trimode", check=False)
    assert shown.returncode != 0 and "not found" in shown.stdout, shown.stdout

    content = tomllib.loads(project.read("pyproject.toml"))
    assert "trimode" not in content.get("tool", {}).get("uv", {}).get("sources", {})
    assert not [item for item in content["project"]["dependencies"] if "trimode" in item]
    assert "src/trimode" in content["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    # The project holds the runtime the pin installed, file for file.
    listed = git("ls-files", "-z", "--", "src/trimode", cwd=template_repo).split("\0")
    runtime = [name for name in listed if name]
    for name in runtime:
        copy = (project.folder / name).read_bytes()
        assert copy == (template_repo / name).read_bytes(), name
    # ... and imports it from there: the library, the command and the pytest plugin.
    where = project.run("uv", "run", "--quiet", "python", "-c", WHERE).stdout.split()
    assert where == [
        str(project.folder / "src" / "trimode" / "__init__.py"),
        str(project.folder / "src" / "trimode" / "testing" / "plugin.py"),
    ]
    assert "trimode" in project.run("uv", "run", "--quiet", "trimode", "--version").stdout

    trained = project.run("uv", "run", "--quiet", SLUG, "train", "--mode", "test").stdout
    assert "[test]" in trained and "outputs: outputs/test/" in trained, trained
    tests = project.run("uv", "run", "--quiet", "pytest", "-q", "-p", "no:cacheprovider")
    # All passed: none failed, none was skipped, nothing warned.
    assert re.fullmatch(r"\d+ passed in .*", tests.stdout.strip().splitlines()[-1]), tests.stdout
    project.run("uv", "run", "--quiet", "ruff", "check", ".")

    project.run("git", "add", "--all")
    commit = project.commit("Eject trimode")
    assert commit.returncode == 0, commit.output
    for hook in ("ruff-check", "ruff-format", "mypy", "test-mode"):
        assert commit.status(hook) == "Passed", commit.output
    # What the project committed of the runtime is all of it, and nothing else.
    committed = project.run("git", "ls-files", "-z", "--", "src/trimode").stdout.split("\0")
    assert sorted(filter(None, committed)) == sorted(runtime)

    again = project.run("uv", "run", "--quiet", "trimode", "eject", check=False)
    assert again.returncode == 2, again.stdout
    assert again.stdout.strip().splitlines() == [
        f"error: {project.folder}: ejected already (src/trimode/ holds the runtime's source)"
    ]
