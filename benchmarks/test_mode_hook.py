"""Time the test-mode pre-commit hook on a commit, next to the import floor.

In a generated project with its own environment (`uv sync --compile-bytecode`), a git
repository and the hooks installed, each round (interleaved, repeated) times:

- the import floor: `.venv/bin/python -c "import pandas, sklearn.ensemble"`;
- `git commit` of a one-line change to configs/test.toml, the only file staged: the
  test-mode hook runs (the ruff and notebook hooks have no files to check);
- `uv run pre-commit run test-mode --files configs/test.toml`: the hook alone;
- `.venv/bin/python -m pytest ...`, the test-mode hook's entry without uv and pre-commit;
- the levers on that pytest, each measured beside it: what the hook's
  `--disable-plugin-autoload -p trimode.testing.plugin` (only trimode's plugin loaded) and
  `-p no:unraisableexception` (no end-of-run garbage collections) buy, by a run without
  each; and a run that collects only tests/test_pipeline.py (the plugin's checks, not the
  user's own tests), which the hook does not do.

Commits are made as from a shell where the environment is not activated (uv on PATH).
It prints the medians and their ratios to the import floor (the issue's target for the
hook on a commit: at most 2x). Run it with: uv run python benchmarks/test_mode_hook.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: one round, no compiled bytecode, no hooks on the
first commit; see common.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import SMOKE, compile_bytecode, render_project, say_if_smoke, sized

# Variables that would point uv or Python at another environment than the project's.
FOREIGN_ENVIRONMENT = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_PYTHON", "CONDA_PREFIX")


def shell_environment(workdir: Path) -> dict[str, str]:
    """A user's shell with no virtual environment activated; pre-commit's cache in workdir."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in FOREIGN_ENVIRONMENT and not name.startswith(("PYTHON", "PRE_COMMIT"))
    }
    kept = [
        entry
        for entry in env.get("PATH", "").split(os.pathsep)
        if entry and not (Path(entry).parent / "pyvenv.cfg").exists()
    ]
    uv = shutil.which("uv")
    if uv is None:
        sys.exit("uv is needed: python3 -m pip install uv")
    env["PATH"] = os.pathsep.join([str(Path(uv).parent), *kept])
    env.update(PRE_COMMIT_HOME=str(workdir / "pre-commit-home"), PRE_COMMIT_COLOR="never")
    return env


def hook_tests(project: Path) -> list[str]:
    """The pytest command line of the project's test-mode hook (its entry, minus uv run)."""
    import shlex

    import yaml

    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    entry = shlex.split(next(hook["entry"] for hook in hooks if hook["id"] == "test-mode"))
    return entry[entry.index("pytest") :]


def without(command: list[str], *options: str) -> list[str]:
    """The command without these options of the hook's (each with its `-p` before it)."""
    kept: list[str] = []
    for part in command:
        if part in options:
            if kept and kept[-1] == "-p":
                kept.pop()
            continue
        kept.append(part)
    return kept


def run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    """Run a command; fail loudly, with its output, if it fails."""
    result = subprocess.run(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout}")


def wall_time(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds one run of the command takes; fails loudly if the command fails."""
    start = time.perf_counter()
    run(command, cwd, env)
    return time.perf_counter() - start


def make_project(workdir: Path, env: dict[str, str]) -> Path:
    """Generate the default project (the working tree of the template, the runtime of
    that working tree pinned: common.render_project) and set it up as its README says."""
    project = render_project(workdir / "ml-project")
    if not (project / ".git").is_dir():
        run(["git", "init", "--quiet", "--initial-branch=main"], project, env)
    for key, value in {
        "user.name": "trimode benchmark",
        "user.email": "benchmark@example.invalid",
        "commit.gpgsign": "false",
    }.items():
        run(["git", "config", key, value], project, env)
    # Compiled bytecode, as pip leaves it: the import floor must not include compiling.
    run(["uv", "sync", "--quiet", *compile_bytecode()], project, env)
    run(["uv", "run", "--quiet", "pre-commit", "install"], project, env)
    run(["git", "add", "--all"], project, env)
    # The first commit runs every hook on every file: it warms the caches too. At smoke
    # size it skips them (tests/test_precommit.py runs them on a fresh project).
    skip_hooks = ["--no-verify"] if SMOKE else []
    run(["git", "commit", "--quiet", *skip_hooks, "--message", "Fresh project"], project, env)
    return project


def commit_a_config_change(project: Path, env: dict[str, str], number: int) -> float:
    """Append a comment line to configs/test.toml, stage only it, time `git commit`."""
    config = project / "configs" / "test.toml"
    with config.open("a", encoding="utf-8") as handle:
        handle.write(f"# benchmark change {number}\n")
    run(["git", "add", "configs/test.toml"], project, env)
    return wall_time(["git", "commit", "--quiet", "--message", f"Change {number}"], project, env)


def repeats_asked(doc: str | None) -> int:
    """The --repeats of the command line (5 at full size, 1 at smoke size)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=sized(5, 1))
    return parser.parse_args().repeats


def project_with_hooks(workdir: Path) -> tuple[dict[str, str], Path, str]:
    """A user's shell, the default project made in workdir with its hooks, its python."""
    env = shell_environment(workdir)
    project = make_project(workdir, env)
    return env, project, str(project / ".venv" / "bin" / "python")


def main() -> None:
    """Measure and print the medians and the ratios to the import floor."""
    repeats = repeats_asked(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        env, project, python = project_with_hooks(Path(folder))
        floor_command = [python, "-c", "import pandas, sklearn.ensemble"]
        hook_command = ["uv", "run", "--quiet", "pre-commit", "run", "test-mode"]
        hook_command += ["--files", "configs/test.toml"]
        pytest_command = [python, "-m", *hook_tests(project)]
        variants = {
            "autoload": without(
                pytest_command, "--disable-plugin-autoload", "trimode.testing.plugin"
            ),
            "unraisable": without(pytest_command, "no:unraisableexception"),
            "checks_only": [*pytest_command, "tests/test_pipeline.py"],
        }
        times: dict[str, list[float]] = {
            name: [] for name in ("floor", "commit", "hook", "pytest", *variants)
        }
        for number in range(repeats):
            times["floor"].append(wall_time(floor_command, project, env))
            times["commit"].append(commit_a_config_change(project, env, number))
            times["hook"].append(wall_time(hook_command, project, env))
            times["pytest"].append(wall_time(pytest_command, project, env))
            for name, command in variants.items():
                times[name].append(wall_time(command, project, env))
    median = {name: statistics.median(values) for name, values in times.items()}
    floor = median["floor"]
    say_if_smoke()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"{repeats} interleaved runs each (median)"
    )
    print(f"import floor (import pandas, sklearn.ensemble):       {floor:6.2f} s")
    rows = [
        ("commit", "git commit, test-mode hook running:"),
        ("hook", "pre-commit run test-mode --files configs/test.toml:"),
        ("pytest", "the hook's pytest alone (no uv, no pre-commit):"),
        ("autoload", "  without the lever: every plugin autoloaded:"),
        ("unraisable", "  without the lever: unraisable-exception hunt on:"),
        ("checks_only", "  a lever not taken: tests/test_pipeline.py only:"),
    ]
    for name, label in rows:
        print(f"{label:<52} {median[name]:6.2f} s   {median[name] / floor:5.2f} x the floor")
    print("target: git commit with the test-mode hook at most 2 x the import floor")


if __name__ == "__main__":
    main()
