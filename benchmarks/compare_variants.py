"""Time `compare` of a 12-variant grid next to scikit-learn's GridSearchCV, and its halving
next to HalvingGridSearchCV, in a generated project.

The work is the same on both sides: hist_gradient_boosting's 12 variants (learning_rate
0.03, 0.1, 0.3 by max_leaf_nodes 7, 15, 31, 63) as the project's registry builds it, the
same 5 folds of the same synthetic rows (human mode's folds of its training rows), the
same n_jobs. compare also cross-validates the dummy baseline (5 fits of a moment).
GridSearchCV scores every metric of the task with scikit-learn's scorers (refit=False);
HalvingGridSearchCV the primary metric, with the same factor (3) and seed as compare's
halving. Both pairs run interleaved in one process inside the project's environment; the
script prints the medians, their ratios (targets: at most 1.1) and the best primary
metric halving found over the full grid's (target: at least 0.98).
Run it with: uv run python benchmarks/compare_variants.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: 2,000 rows, 10 boosting rounds, one run, no
warm-up; see common.py).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from common import SMOKE, make_project, rows_and_repeats

# Runs inside the generated project's environment, from the project's folder.
DRIVER = '''
import statistics
import sys
import time

from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV

from trimode import load_config
from trimode.data.synthetic import make_dataset
from trimode.modelling.compare import BASELINE, compare_models
from trimode.modelling.registry import build_model, feature_schema, model_params
from trimode.modelling.splitting import make_folds, split_rows

rows, repeats, warm_up = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "warm-up"
MODEL = "hist_gradient_boosting"
GRID = {"learning_rate": [0.03, 0.1, 0.3], "max_leaf_nodes": [7, 15, 31, 63]}
overrides = {f"compare.variants.{MODEL}.{key}": values for key, values in GRID.items()}
overrides |= {"compare.cv_folds": 5, "compare.time_budget_s": 0}
if rows < 10_000:  # smoke size: fewer boosting rounds, on both sides alike
    overrides[f"train.params.{MODEL}.max_iter"] = 10
grid_config = load_config("human", overrides=overrides)
halving_config = load_config("human", overrides={**overrides, "compare.strategy": "halving"})
task, seed, n_jobs = grid_config.task, grid_config.train.seed, grid_config.compute.n_jobs
primary = grid_config.evaluation.primary_metric
SCORERS = {
    "classification": {
        "roc_auc": "roc_auc", "accuracy": "accuracy", "balanced_accuracy": "balanced_accuracy",
        "f1_macro": "f1_macro", "log_loss": "neg_log_loss",
    },
    "regression": {
        "r2": "r2", "rmse": "neg_root_mean_squared_error", "mae": "neg_mean_absolute_error"
    },
}[task]


def training_rows(frame):
    split = split_rows(frame, grid_config)
    return split.x_train, split.y_train


def searched(kind, features, y):
    """The same grid with scikit-learn's own search, on compare's folds."""
    folds = make_folds(grid_config, features, y, "compare.cv_folds")
    schema = feature_schema(grid_config, features)
    params = model_params(grid_config, MODEL)
    model = build_model(grid_config.project, task, MODEL, schema, seed, 1, params)
    grid = {f"model__{key}": values for key, values in GRID.items()}
    if kind == "grid":
        search = GridSearchCV(model, grid, cv=folds, scoring=SCORERS, refit=False, n_jobs=n_jobs)
    else:
        search = HalvingGridSearchCV(
            model, grid, cv=folds, scoring=SCORERS[primary], factor=3, refit=False,
            n_jobs=n_jobs, random_state=seed,
        )
    return search.fit(features, y)


def timed(function, *arguments):
    start = time.perf_counter()
    result = function(*arguments)
    return time.perf_counter() - start, result


def best(leaderboard):
    rows = leaderboard.rows[leaderboard.rows["model"] != BASELINE]
    return float(rows[f"{primary}_mean"].iloc[0])


if warm_up:  # Start the worker processes and warm the caches on a small frame first.
    small = training_rows(make_dataset(task, 2_000))
    compare_models(grid_config, *small, [MODEL])
    searched("grid", *small)
features, y = training_rows(make_dataset(task, rows))
SIDES = ("compare grid", "GridSearchCV", "compare halving", "HalvingGridSearchCV")
times = {side: [] for side in SIDES}
for repeat in range(repeats):
    # Alternate which side of each pair goes first, so drift in the load hits both.
    pairs = [("compare grid", "GridSearchCV"), ("compare halving", "HalvingGridSearchCV")]
    for pair in pairs:
        for side in (pair if repeat % 2 == 0 else pair[::-1]):
            if side == "compare grid":
                seconds, grid_board = timed(compare_models, grid_config, features, y, [MODEL])
            elif side == "compare halving":
                seconds, halving_board = timed(compare_models, halving_config, features, y, [MODEL])
            else:
                kind = "grid" if side == "GridSearchCV" else "halving"
                seconds, _ = timed(searched, kind, features, y)
            times[side].append(seconds)
medians = {side: statistics.median(values) for side, values in times.items()}
print(f"{task}: {MODEL}, 12 variants, 5-fold CV of {len(y):,} training rows, n_jobs={n_jobs}; "
      f"{repeats} interleaved runs (median)")
for side, values in times.items():
    runs = ", ".join(f"{t:.2f}" for t in values)
    print(f"{side:>20}: {medians[side]:7.2f} s   (runs: {runs})")
rounds = ", ".join(f"{r['candidates']} on {r['rows']:,} rows" for r in halving_board.halving[MODEL])
print(f"halving rounds: {rounds}")
best_grid, best_halving = best(grid_board), best(halving_board)
print(f"best {primary}: full grid {best_grid:.4f}, halving {best_halving:.4f}")
ratios = [
    (
        "compare grid / GridSearchCV",
        medians["compare grid"] / medians["GridSearchCV"],
        "at most 1.1",
    ),
    (
        "compare halving / HalvingGridSearchCV",
        medians["compare halving"] / medians["HalvingGridSearchCV"],
        "at most 1.1",
    ),
    ("best halving / best full grid", best_halving / best_grid, "at least 0.98"),
]
for name, ratio, target in ratios:
    print(f"ratio {name}: {ratio:7.3f}   (target: {target})")
'''


def main() -> None:
    """Generate and install the project, then run the measurements inside it."""
    arguments = rows_and_repeats(__doc__.splitlines()[0], 20_000, 2_000)
    with tempfile.TemporaryDirectory() as folder:
        project, python = make_project(Path(folder))
        driver = Path(folder) / "driver.py"
        driver.write_text(DRIVER, encoding="utf-8")
        warm_up = "no-warm-up" if SMOKE else "warm-up"
        command = [str(python), str(driver), str(arguments.rows), str(arguments.repeats), warm_up]
        subprocess.run(command, cwd=project, check=True)


if __name__ == "__main__":
    main()
