"""Read and check GitHub Actions workflows: the template's own and the generated projects'."""

import os
import subprocess
from pathlib import Path

import yaml
from rendering import ROOT, find_uv, tool

RELEASE_FILE = ROOT / ".github" / "workflows" / "release.yml"
# The release workflow's step that refuses a tag other than v<version>.
TAG_CHECK = "The tag is v and the version in pyproject.toml"


def run_commands(workflow: dict) -> list[str]:
    """Every `run:` command of every step of every job, in order."""
    return [
        step["run"]
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "run" in step
    ]


def schema_problems(*files: Path, schema: str = "vendor.github-workflows") -> str:
    """Validate files against a schema vendored in check-jsonschema (offline; GitHub's
    workflow schema by default); return what it reports, empty when every file is valid."""
    check = subprocess.run(
        [str(tool("check-jsonschema")), "--builtin-schema", schema] + [str(file) for file in files],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if check.returncode == 0 else check.stdout + check.stderr


def step_named(workflow: dict, name: str) -> dict:
    """The one step of the workflow with this name."""
    [step] = [
        step
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if step.get("name") == name
    ]
    return step


def tag_check_problem(tag: str, root: Path) -> str:
    """Run the release workflow's tag check in root (a checkout: its pyproject.toml) as a
    push of `tag` runs it; return what it printed when it refused, "" when it passed."""
    step = step_named(yaml.safe_load(RELEASE_FILE.read_text(encoding="utf-8")), TAG_CHECK)
    assert step["shell"] == "bash"
    uv = find_uv()
    assert uv is not None, "uv is needed: python3 -m pip install uv"
    path = os.pathsep.join([str(Path(uv).parent), os.environ.get("PATH", "")])
    result = subprocess.run(
        ["bash", "-c", step["run"]],
        cwd=root,
        env={**os.environ, "TAG": tag, "PATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return ""
    return (result.stdout + result.stderr).strip() or f"exit status {result.returncode}"
