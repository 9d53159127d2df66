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
