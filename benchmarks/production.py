"""Time and measure production training and batch prediction on N rows of the embedded data.

In a generated project (the default one, installed with compiled bytecode), interleaved
and repeated, each run in its own process:

- A: `python -m trimode train --mode production`, with data.synthetic_rows = N (a copy
  of the project's configs, passed with --config-dir): load every row, split, fit the
  production model, evaluate it against the dummy baseline, publish outputs/production/;
  with MLflow tracking off (`--set tracking.enabled=false`): B tracks nothing, and what
  tracking costs is benchmarks/compare_tracking.py's to measure;
- B: a plain scikit-learn script doing the same work: the same rows
  (`trimode.data.synthetic.make_dataset`), the same stratified train_test_split, the same
  estimator (the registry entry's preprocessing, native categories, and
  HistGradientBoostingClassifier with the production parameters and seed), fitted and
  scored (ROC AUC) on the held-out rows;
- `python -m trimode predict` of a Parquet file of N rows (other seed, no target,
  in row groups of 100,000 rows) with the model A published, and of one of N/10 rows.

Wall time is the whole process (imports included); peak memory is the process's own
maximum resident set size, read from its rusage when it is reaped (`os.wait4`). It
prints the medians, the ratios A/B (targets: time at most 1.10, peak memory at most
1.20), both ROC AUC values (the same model gives the same score), the median seconds
of each step, and predict's rows per second and peak memory for N and N/10 rows.
Run it with: uv run python benchmarks/production.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: N = 20,000 rows, one repeat; see common.py. Fewer
rows fit slower, without the early stopping of more than 10,000 training rows, and score
too close to the production gate's threshold).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import make_project, say_if_smoke, sized, wall_time

# The settings production mode runs with, as the project itself reads them.
READ_SETTINGS = """
import json, sys
from trimode import load_config

config = load_config("production", sys.argv[1])
print(json.dumps({
    "python": sys.version.split()[0],
    "task": config.task,
    "source": str(config.data.source),  # a Secret: its text, redacted
    "rows": config.data.synthetic_rows,
    "max_rows": config.data.max_rows,
    "target": config.data.target,
    "test_fraction": config.data.test_fraction,
    "seed": config.train.seed,
    "models": config.train.models,
    "params": config.train.params,
    "n_jobs": config.compute.n_jobs,
    "refit_on_all_rows": config.train.refit_on_all_rows,
    "search": config.search.enabled,
}))
"""

# B: the same work written as a plain scikit-learn script. Prints one JSON line.
PLAIN_TRAIN = """
import json, sys, time

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from trimode import native_categories
from trimode.data.schema import infer_schema
from trimode.data.synthetic import make_dataset

settings = json.loads(sys.argv[1])
target, seed = settings["target"], settings["seed"]
steps, last = {}, time.perf_counter()


def lap(name):
    global last
    now = time.perf_counter()
    steps[name], last = now - last, now


with threadpool_limits(None if settings["n_jobs"] == -1 else settings["n_jobs"]):
    frame = make_dataset("classification", settings["rows"])
    lap("load")
    x, y = frame.drop(columns=[target]), frame[target]
    # An integer test size, rounded as the pipeline rounds it.
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=round(len(y) * settings["test_fraction"]), random_state=seed, stratify=y
    )
    lap("split")
    model = make_pipeline(
        native_categories(infer_schema(frame, target)),
        HistGradientBoostingClassifier(
            random_state=seed, **settings["params"].get("hist_gradient_boosting", {})
        ),
    )
    model.fit(x_train, y_train)
    lap("fit")
    roc_auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    lap("evaluate")
print(json.dumps({"roc_auc": roc_auc, "rows": len(frame), "steps": steps}))
"""

# The file to score: make_dataset's rows of another seed, without the target, in row
# groups of 100,000 rows (as a pipeline writing batches leaves them; pyarrow's default
# is one group of up to 1Mi rows, which a reader must hold whole).
WRITE_INPUT = """
import sys
import pyarrow.parquet as pq
from trimode.data.synthetic import TARGETS, make_dataset

path, rows = sys.argv[1], int(sys.argv[2])
frame = make_dataset("classification", rows, seed=1).drop(columns=TARGETS["classification"])
frame.to_parquet(path, index=False, row_group_size=100_000)
print(pq.ParquetFile(path).metadata.num_row_groups)
"""


@dataclass(frozen=True)
class Run:
    """One measured process: wall seconds, its own peak resident memory, what it printed."""

    seconds: float
    peak_mib: float
    stdout: str


def run_measured(command: list[str], cwd: Path) -> Run:
    """Run one process to its end; fail loudly if it fails.

    The child is reaped with os.wait4, whose rusage is that child's alone (and its own
    reaped children's), so ru_maxrss is the peak of this run, not of every run so far.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command, stdout, stderr)
    return Run(seconds, usage.ru_maxrss / 1024, stdout)  # Linux: ru_maxrss is in KiB


def production_configs(project: Path, rows: int) -> Path:
    """A copy of the project's configs/ whose production mode reads `rows` synthetic rows.

    The copy sits in the project (a config folder's parent is the root its paths are
    relative to), so the run publishes into the project's outputs/production/."""
    configs = Path(shutil.copytree(project / "configs", project / "benchmark-configs"))
    path = configs / "production.toml"
    text = path.read_text(encoding="utf-8")
    setting = f"synthetic_rows = {rows}\n"
    header = re.compile(r"^\[data\][ \t]*\n", flags=re.MULTILINE)
    if header.search(text):
        text = header.sub(lambda match: match.group(0) + setting, text, count=1)
    else:
        text += f"\n[data]\n{setting}"
    path.write_text(text, encoding="utf-8")
    return configs


def read_settings(python: Path, project: Path, configs: Path, rows: int) -> dict:
    """Production mode's settings as the project loads them; check the benchmark's premises."""
    command = [str(python), "-c", READ_SETTINGS, str(configs)]
    settings = json.loads(run_measured(command, project).stdout)
    expected = {
        "task": "classification",
        "source": "synthetic",
        "rows": rows,
        "max_rows": 0,
        "models": ["hist_gradient_boosting"],
        "refit_on_all_rows": False,
        "search": False,
    }
    wrong = {key: settings[key] for key, value in expected.items() if settings[key] != value}
    if wrong:
        sys.exit(f"production settings differ from what this benchmark compares: {wrong}")
    return settings


def train_production(command: list[str], project: Path, rows: int) -> dict:
    """One run of A: its measurements plus what its manifest.json says it did."""
    run = run_measured(command, project)
    record = json.loads((project / "outputs/production/manifest.json").read_text("utf-8"))
    if record["data"]["rows"] != rows:
        sys.exit(f"train read {record['data']['rows']} rows, expected {rows}")
    steps = record["timings_s"]
    return {**vars(run), "roc_auc": record["metrics"]["roc_auc"], "steps": steps}


def train_plain(command: list[str], project: Path, rows: int) -> dict:
    """One run of B: its measurements plus the ROC AUC and step times it printed."""
    run = run_measured(command, project)
    report = json.loads(run.stdout.strip().splitlines()[-1])
    if report["rows"] != rows:
        sys.exit(f"the plain script read {report['rows']} rows, expected {rows}")
    return {**vars(run), "roc_auc": report["roc_auc"], "steps": report["steps"]}


def predict(command: list[str], project: Path, rows: int, output: Path) -> dict:
    """One predict run over an input of `rows` rows; check it scored every row."""
    run = run_measured([*command, "--output", str(output)], project)
    if f"predicted {rows:,} rows" not in run.stdout:
        sys.exit(f"predict did not report {rows:,} rows: {run.stdout.strip()}")
    output.unlink()
    return vars(run)


def medians(runs: list[dict]) -> dict:
    """The median of each measurement over the runs, step times included (per step)."""
    result = {key: statistics.median(run[key] for run in runs) for key in ("seconds", "peak_mib")}
    result["each_seconds"] = [run["seconds"] for run in runs]
    if "steps" in runs[0]:
        names = runs[0]["steps"]
        result["steps"] = {
            name: statistics.median(run["steps"][name] for run in runs) for name in names
        }
        result["roc_auc"] = [run["roc_auc"] for run in runs]
    return result


def main() -> None:
    """Generate the project, measure every run interleaved, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    rows = sized(1_000_000, 20_000)
    parser.add_argument("--rows", type=int, default=rows, help="rows to train on and score")
    parser.add_argument("--repeats", type=int, default=sized(3, 1))
    arguments = parser.parse_args()
    rows = arguments.rows
    sizes = {"N": rows, "N/10": max(rows // 10, 1)}  # the two inputs of predict
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        project, python = make_project(workdir)
        configs = production_configs(project, rows)
        settings = read_settings(python, project, configs, rows)
        inputs = {name: workdir / f"input-{count}.parquet" for name, count in sizes.items()}
        row_groups = {}
        for name, count in sizes.items():
            write = [str(python), "-c", WRITE_INPUT, str(inputs[name]), str(count)]
            row_groups[name] = int(run_measured(write, workdir).stdout)
        cli = [str(python), "-m", "trimode"]
        commands = {
            "A": [
                *cli,
                *("train", "--mode", "production", "--config-dir", str(configs)),
                *("--set", "tracking.enabled=false"),
            ],
            "B": [str(python), "-c", PLAIN_TRAIN, json.dumps(settings)],
        }
        score = [*cli, "predict", "--model", str(project / "outputs" / "production")]
        # Warm the file cache of the libraries before the first measured run.
        warm = "import trimode.workflows.train, sklearn.ensemble"
        wall_time([str(python), "-c", warm], project)
        runs: dict[str, list[dict]] = {"A": [], "B": [], "N": [], "N/10": []}
        load = [os.getloadavg()[0]]  # other work on the machine skews every figure
        for repeat in range(arguments.repeats):
            # Alternate which side goes first, so drift in the machine's load hits both.
            for side in "AB" if repeat % 2 == 0 else "BA":
                measure = train_production if side == "A" else train_plain
                runs[side].append(measure(commands[side], project, rows))
            # Scored with the model the A run just published.
            for name, count in sizes.items():
                command = [*score, "--input", str(inputs[name])]
                runs[name].append(predict(command, project, count, workdir / "scored.parquet"))
        load.append(os.getloadavg()[0])
    median = {key: medians(value) for key, value in runs.items()}
    say_if_smoke()
    print(f"load average (1 min) before / after the runs: {load[0]:.2f} / {load[1]:.2f}")
    print_training(settings, arguments.repeats, median)
    print_predict(sizes, row_groups, median)


def print_training(settings: dict, repeats: int, median: dict) -> None:
    """Print the training half of the table: A next to B, the ratios, the steps."""
    a, b = median["A"], median["B"]
    params = settings["params"].get("hist_gradient_boosting", {})
    print(
        f"python {settings['python']}; {settings['rows']:,} synthetic rows, "
        f"{settings['test_fraction']:.0%} held out (stratified), seed {settings['seed']}; "
        f"n_jobs {settings['n_jobs']}\nhist_gradient_boosting {params}; {repeats} interleaved "
        "runs each, one process per run (medians)"
    )
    print(f"{'training':40}{'wall':>10}{'peak RSS':>12}  ROC AUC (each run)")
    for label, side in (("A train --mode production", a), ("B plain scikit-learn script", b)):
        aucs = ", ".join(f"{value:.6f}" for value in side["roc_auc"])
        print(f"{label:40}{side['seconds']:9.2f}s{side['peak_mib']:8.0f} MiB  {aucs}")
    print(f"time ratio A/B:        {a['seconds'] / b['seconds']:.3f}   (target <= 1.10)")
    print(f"peak-memory ratio A/B: {a['peak_mib'] / b['peak_mib']:.3f}   (target <= 1.20)")
    for label, side in (("A", a), ("B", b)):
        each = ", ".join(f"{seconds:.2f}" for seconds in side["each_seconds"])
        print(f"wall time of each run {label}: {each} s")
    gap = abs(statistics.median(a["roc_auc"]) - statistics.median(b["roc_auc"]))
    print(f"ROC AUC difference |A - B|: {gap:.2e}")
    for label, side in (("A", a), ("B", b)):
        steps = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in side["steps"].items())
        other = side["seconds"] - sum(side["steps"].values())
        print(f"steps {label} (median): {steps}; outside the steps {other:.2f}s")


def print_predict(sizes: dict[str, int], row_groups: dict[str, int], median: dict) -> None:
    """Print the prediction half of the table: speed and peak memory for N and N/10 rows."""
    print(f"{'predict (whole process)':40}{'wall':>10}{'peak RSS':>12}{'rows/s':>12}")
    for name, count in sizes.items():
        run = median[name]
        label = f"{name} = {count:,} rows, {row_groups[name]} row group(s)"
        print(
            f"{label:40}{run['seconds']:9.2f}s{run['peak_mib']:8.0f} MiB"
            f"{count / run['seconds']:12,.0f}"
        )
    ratio = median["N"]["peak_mib"] / median["N/10"]["peak_mib"]
    print(f"peak-memory ratio predict N / N/10:  {ratio:.3f}")


if __name__ == "__main__":
    main()
