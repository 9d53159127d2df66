"""Time `compare --mode human` with MLflow tracking on and off, in one generated project.

The default project (the mlflow question answered yes) is generated and installed; its
human-mode sample is fetched once. Each round then runs the command a user runs,
`python -m trimode compare --mode human`, once with `--set tracking.enabled=true` (runs
go to the project's SQLite store, mlruns.db) and once with `--set tracking.enabled=false`,
in alternating order. A first tracked run of a single quick model makes the store
beforehand: its tables are made once per project, not once per run. The script prints
the medians and their ratio (target: at most 1.05).
Run it with: uv run python benchmarks/compare_tracking.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: 2,000 rows, 2 folds, one round; see common.py).
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
from pathlib import Path

from common import make_project, rows_and_repeats, sized, wall_time


def main() -> None:
    """Generate and install the project, fetch its sample, then time the two sides."""
    arguments = rows_and_repeats(__doc__.splitlines()[0], 50_000, 2_000)
    with tempfile.TemporaryDirectory() as folder:
        project, python = make_project(Path(folder))
        sizes = ["--set", f"data.max_rows={arguments.rows}"]
        sizes += ["--set", f"compare.cv_folds={sized(5, 2)}"]
        command = [str(python), "-m", "trimode"]
        fetch = [*command, "fetch-sample", "--mode", "human", *sizes]
        subprocess.run(fetch, cwd=project, check=True, capture_output=True)
        compare = [*command, "compare", "--mode", "human", *sizes]
        # Make the store first: the first tracked run of a project makes its tables.
        first = [*compare, "--set", "tracking.enabled=true", "--models", "logistic_regression"]
        print(f"first tracked run (makes mlruns.db): {wall_time(first, project):.2f} s")
        times: dict[bool, list[float]] = {True: [], False: []}
        for repeat in range(arguments.repeats):
            # Alternate which side goes first, so drift in the machine's load hits both.
            for enabled in (True, False) if repeat % 2 == 0 else (False, True):
                flag = ["--set", f"tracking.enabled={str(enabled).lower()}"]
                times[enabled].append(wall_time([*compare, *flag], project))
        runs = subprocess.run(
            [str(python), "-c", COUNT_RUNS], cwd=project, check=True, capture_output=True, text=True
        ).stdout.strip()
    on, off = (statistics.median(times[side]) for side in (True, False))
    print(
        f"compare --mode human, {arguments.rows} rows, {sized(5, 2)}-fold CV, the default "
        f"models; {arguments.repeats} interleaved rounds (median); {runs}"
    )
    for label, side in (("tracking on: ", True), ("tracking off:", False)):
        shown = ", ".join(f"{seconds:.2f}" for seconds in times[side])
        print(f"{label}      {statistics.median(times[side]):7.2f} s   (runs: {shown})")
    print(f"ratio on / off:     {on / off:7.2f}   (target: at most 1.05)")


# Counts the tracked runs, to show the tracked side did record (a parent and its children).
COUNT_RUNS = """
from pathlib import Path
from mlflow.tracking import MlflowClient
client = MlflowClient("sqlite:///" + str(Path("mlruns.db").resolve()))
experiment = client.get_experiment_by_name("ml-project")
runs = client.search_runs([experiment.experiment_id], filter_string="tags.command = 'compare'")
parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
print(f"{len(parents)} tracked compare runs, {len(runs) - len(parents)} child runs in mlruns.db")
"""


if __name__ == "__main__":
    main()
