"""Time the test-mode commit hook with the behavioural expectations on and off.

In a generated project set up as benchmarks/test_mode_hook.py sets it up (its own
environment, a git repository, the hooks installed), each round times, for both
states, in alternating order:

- on: the project's expectations.py as the template ships it (three expectations, one
  test each: the check test_expectation_holds that tests/test_pipeline.py lists);
- off: the same file with every task's list emptied (`EXPECTATIONS = {...: []}`), as a
  user who writes none has it;

and for each: `git commit` of a one-line change to configs/test.toml (the test-mode
hook runs), and the hook's pytest alone (`.venv/bin/python -m pytest ...`). A state is
switched by a commit of its own, made without hooks. It prints the medians and the
ratios on / off (the issue's target for the commit: at most 1.15). Run it with:
uv run python benchmarks/expectations_hook.py (smoke size: TRIMODE_BENCHMARK_SMOKE=1).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import say_if_smoke
from test_mode_hook import (
    commit_a_config_change,
    hook_tests,
    project_with_hooks,
    repeats_asked,
    run,
    wall_time,
)

EMPTIED = (
    "\n# Off: no expectation for any task.\nEXPECTATIONS = {task: [] for task in EXPECTATIONS}\n"
)


def expectations_file(project: Path) -> Path:
    """The generated project's expectations.py."""
    return next((project / "src").glob("*/expectations.py"))


def switch(project: Path, env: dict[str, str], state: str, shipped: str) -> None:
    """Write expectations.py for the state and commit it without hooks."""
    text = shipped if state == "on" else shipped + EMPTIED
    path = expectations_file(project)
    if path.read_text(encoding="utf-8") == text:
        return
    path.write_text(text, encoding="utf-8")
    run(["git", "add", str(path)], project, env)
    run(
        ["git", "commit", "--quiet", "--no-verify", "--message", f"Expectations {state}"],
        project,
        env,
    )


def expectation_tests(project: Path, env: dict[str, str], python: str) -> str:
    """What pytest says of the expectation tests in the current state (their count)."""
    result = subprocess.run(
        [
            python,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_pipeline.py",
            "-k",
            "test_expectation_holds",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    if result.returncode != 0:
        sys.exit(f"the expectation tests failed:\n{result.stdout}{result.stderr}")
    return re.sub(r"\s+in [\d.]+s.*$", "", last.strip("= "))


def main() -> None:
    """Measure and print the medians and the ratios on / off."""
    repeats = repeats_asked(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        env, project, python = project_with_hooks(Path(folder))
        pytest_command = [python, "-m", *hook_tests(project)]
        shipped = expectations_file(project).read_text(encoding="utf-8")
        collected = {}
        for state in ("on", "off"):
            switch(project, env, state, shipped)
            collected[state] = expectation_tests(project, env, python)
        if "passed" not in collected["on"] or "passed" in collected["off"]:
            sys.exit(f"the two states are not what they claim: {collected}")
        times: dict[str, list[float]] = {
            f"{kind} {state}": [] for kind in ("commit", "pytest") for state in ("on", "off")
        }
        number = 0
        for round_number in range(repeats):
            order = ("on", "off") if round_number % 2 == 0 else ("off", "on")
            for state in order:
                switch(project, env, state, shipped)
                times[f"commit {state}"].append(commit_a_config_change(project, env, number))
                times[f"pytest {state}"].append(wall_time(pytest_command, project, env))
                number += 1
    median = {name: statistics.median(values) for name, values in times.items()}
    say_if_smoke()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"{repeats} interleaved runs each (median)"
    )
    print(f"expectation tests, on:  {collected['on']}")
    print(f"expectation tests, off: {collected['off']}")
    for kind, label in (
        ("commit", "git commit, test-mode hook"),
        ("pytest", "the hook's pytest alone"),
    ):
        on, off = median[f"{kind} on"], median[f"{kind} off"]
        print(f"{label}: on {on:6.2f} s, off {off:6.2f} s")
    print(f"ratio git commit on / off: {median['commit on'] / median['commit off']:5.3f}")
    print(f"ratio the hook's pytest on / off: {median['pytest on'] / median['pytest off']:5.3f}")
    print("target: git commit with the expectations at most 1.15 x without them")


if __name__ == "__main__":
    main()
