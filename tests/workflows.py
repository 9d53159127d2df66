"""Read and check GitHub Actions workflows: the template's own and the generated projects'."""

import subprocess
from pathlib import Path

from rendering import tool


def run_commands(workflow: dict) -> list[str]:
    """Every `run:` command of every step of every job, in order."""
    return [
        step["run"]
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "run" in step
    ]


def schema_problems(*files: Path) -> str:
    """Validate workflow files against GitHub's workflow schema, offline (the copy vendored in
    check-jsonschema); return what it reports, empty when every file is valid."""
    check = subprocess.run(
        [str(tool("check-jsonschema")), "--builtin-schema", "vendor.github-workflows"]
        + [str(file) for file in files],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if check.returncode == 0 else check.stdout + check.stderr
