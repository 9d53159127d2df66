"""What the benchmarks share: the smoke size, timing a command, a generated project.

Every benchmark runs at full size by default: the size its docstring describes, whose
figures the README quotes. With TRIMODE_BENCHMARK_SMOKE=1 in the environment it runs at
smoke size instead: a few thousand rows, one repeat, no compiled bytecode, so that it
finishes in about a minute. The template's tests run every benchmark so
(tests/test_benchmarks.py) to keep them from rotting; smoke figures measure nothing.
Flags a benchmark takes (--rows, --repeats) still win over either size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TypeVar

TEMPLATE = Path(__file__).resolve().parents[1]
SMOKE_VARIABLE = "TRIMODE_BENCHMARK_SMOKE"
SMOKE = os.environ.get(SMOKE_VARIABLE, "").strip() not in ("", "0")

Size = TypeVar("Size")


def sized(full: Size, smoke: Size) -> Size:
    """The full-size value, or the smoke-size one when TRIMODE_BENCHMARK_SMOKE is set."""
    return smoke if SMOKE else full


def say_if_smoke() -> None:
    """At smoke size, say so first: what follows is not a measurement to quote."""
    if SMOKE:
        print(f"smoke size ({SMOKE_VARIABLE}=1): these figures measure nothing", flush=True)


def rows_and_repeats(description: str, rows: int, smoke_rows: int) -> argparse.Namespace:
    """The flags --rows and --repeats (3 rounds at full size, one at smoke size), parsed;
    at smoke size, says so first."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, default=sized(rows, smoke_rows))
    parser.add_argument("--repeats", type=int, default=sized(3, 1))
    arguments = parser.parse_args()
    say_if_smoke()
    return arguments


def compile_bytecode() -> list[str]:
    """uv's option to compile bytecode at install (as pip leaves it), at full size only:
    an import floor must not include compiling, and smoke runs need not wait for it."""
    return [] if SMOKE else ["--compile-bytecode"]


def wall_time(command: list[str], cwd: Path) -> float:
    """Seconds one run of the command takes; fails loudly if the command fails."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def render_project(project: Path) -> Path:
    """Generate the default project with copier from the template's working tree (HEAD with
    any uncommitted changes: the code being measured, not the newest tag), its runtime
    pinned to the runtime of that working tree (the hidden answer runtime_source: uv
    installs trimode from TEMPLATE, editable). Return the project's folder."""
    import copier

    # No environment or hooks from the post-generation step: the benchmark makes its own.
    answers = {"install_hooks": False, "runtime_source": str(TEMPLATE)}
    copier.run_copy(
        str(TEMPLATE), project, data=answers, defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD"
    )
    return project


def make_project(workdir: Path, extras: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """Generate the default project (render_project) and install it into a virtual
    environment of its own, trimode with it (and the project's extras named); return the
    project and its python."""
    project = render_project(workdir / "ml-project")
    venv = workdir / "venv"
    subprocess.run(["uv", "venv", "--quiet", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = ["uv", "pip", "install", "--quiet", *compile_bytecode(), "--python", str(python)]
    wanted = f"[{','.join(extras)}]" if extras else ""
    subprocess.run([*install, "-e", f"{project}{wanted}"], check=True)
    return project, python


def run_driver(driver: str, *arguments: str) -> None:
    """Generate and install the default project (make_project), then run the Python
    source `driver` with the project's python, from the project's folder, with these
    command-line arguments; fails loudly if it fails."""
    with tempfile.TemporaryDirectory() as folder:
        project, python = make_project(Path(folder))
        script = Path(folder) / "driver.py"
        script.write_text(driver, encoding="utf-8")
        subprocess.run([str(python), str(script), *arguments], cwd=project, check=True)
