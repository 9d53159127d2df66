"""Time `compare` in a generated project next to plain scikit-learn cross_validate calls.

The work is the same on both sides: the registry models of the default
(classification) project (four: linear, forest, boosting, network) and the dummy
baseline, 5-fold cross-validation on the same folds of 50,000 synthetic rows, the same
estimators (built by the project's registry), the same metrics and the same n_jobs.
The plain side calls cross_validate once per model with scikit-learn's own scorers.
Both run interleaved in one process inside the project's environment; the script
prints the medians and their ratio (target: at most 1.1).
Run it with: uv run python benchmarks/compare_models.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: 2,000 rows, one run, no warm-up; see common.py).
"""

from __future__ import annotations

from common import SMOKE, rows_and_repeats, run_driver

# Runs inside the generated project's environment, from the project's folder.
DRIVER = '''
import statistics
import sys
import time

import numpy as np
from sklearn.model_selection import cross_validate

from trimode import load_config, task_named
from trimode.data.synthetic import make_dataset
from trimode.modelling.compare import TIMES, compare_models
from trimode.modelling.registry import build_model, feature_schema, model_names
from trimode.modelling.splitting import make_folds

rows, repeats, warm_up = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "warm-up"
config = load_config("human")  # the project's, found from the current folder
project, task, target, seed = config.project, config.task, config.data.target, config.train.seed
# scikit-learn's scorer for each metric of the task (trimode's core/tasks.py), and its sign.
SKLEARN_SCORERS = {
    "classification": {
        "roc_auc": ("roc_auc", 1),
        "accuracy": ("accuracy", 1),
        "balanced_accuracy": ("balanced_accuracy", 1),
        "f1_macro": ("f1_macro", 1),
        "log_loss": ("neg_log_loss", -1),
    },
    "regression": {
        "r2": ("r2", 1),
        "rmse": ("neg_root_mean_squared_error", -1),
        "mae": ("neg_mean_absolute_error", -1),
    },
}[task]
names = model_names(project, task)


def labelled(frame):
    """The features and target of the labelled rows."""
    rows = frame[frame[target].notna()]
    return rows.drop(columns=[target]), rows[target]


def plain(frame):
    """The same work with plain cross_validate calls: one per model, same folds."""
    features, y = labelled(frame)
    folds = make_folds(config, features, y, "compare.cv_folds")
    schema = feature_schema(config, features)
    estimators = {
        name: build_model(project, task, name, schema, seed, 1, config.train.params.get(name))
        for name in names
    }
    estimators["dummy_baseline"] = task_named(task).make_baseline()
    scoring = {metric: scorer for metric, (scorer, _) in SKLEARN_SCORERS.items()}
    return {
        name: cross_validate(
            estimator, features, y, cv=folds, scoring=scoring, n_jobs=config.compute.n_jobs
        )
        for name, estimator in estimators.items()
    }


def timed(function, *arguments):
    start = time.perf_counter()
    result = function(*arguments)
    return time.perf_counter() - start, result


if warm_up:  # Start the worker processes and warm the caches on a small frame first.
    small = make_dataset(task, 2_000)
    compare_models(config, *labelled(small), names)
    plain(small)
frame = make_dataset(task, rows)
compare_times, plain_times = [], []
# Seconds spent fitting and scoring, summed over models and folds: the same work on
# both sides, so a gap in these is the machine's noise, not overhead of either side.
compare_work, plain_work = [], []
for repeat in range(repeats):
    # Alternate which side goes first, so drift in the machine's load hits both.
    order = ["compare", "plain"] if repeat % 2 == 0 else ["plain", "compare"]
    for side in order:
        if side == "compare":
            seconds, leaderboard = timed(compare_models, config, *labelled(frame), names)
            compare_times.append(seconds)
            compare_work.append(
                [leaderboard.cv_folds * leaderboard.rows[f"{kind}_mean"].sum() for kind in TIMES]
            )
        else:
            seconds, results = timed(plain, frame)
            plain_times.append(seconds)
            plain_work.append(
                [sum(result[kind].sum() for result in results.values()) for kind in TIMES]
            )
# The two sides did the same work: the same scores, model by model.
primary = config.evaluation.primary_metric
scorer, sign = SKLEARN_SCORERS[primary]
ours = leaderboard.rows.set_index("model")[f"{primary}_mean"]
theirs = {name: sign * np.mean(result[f"test_{primary}"]) for name, result in results.items()}
gap = max(abs(ours[name] - theirs[name]) for name in theirs)
compare_s, plain_s = statistics.median(compare_times), statistics.median(plain_times)
print(f"{task}: {len(theirs)} models (with the dummy baseline), {config.compare.cv_folds}-fold "
      f"CV, {rows} rows, n_jobs={config.compute.n_jobs}; {repeats} interleaved runs (median)")
print(f"largest difference in mean {primary} between the two sides: {gap:.2e}")
print(f"plain cross_validate calls: {plain_s:7.2f} s   (runs: "
      + ", ".join(f"{t:.2f}" for t in plain_times) + ")")
print(f"compare_models:             {compare_s:7.2f} s   (runs: "
      + ", ".join(f"{t:.2f}" for t in compare_times) + ")")
print(f"ratio compare / plain:      {compare_s / plain_s:7.2f}   (target: at most 1.1)")
for side, work in (("plain", plain_work), ("compare", compare_work)):
    fit_s, score_s = (statistics.median(run[i] for run in work) for i in range(2))
    print(f"{side:>7}: fitting {fit_s:7.2f} s, scoring {score_s:6.2f} s (over all folds, median)")
'''


def main() -> None:
    """Generate and install the project, then run the measurements inside it."""
    arguments = rows_and_repeats(__doc__.splitlines()[0], 50_000, 2_000)
    warm_up = "no-warm-up" if SMOKE else "warm-up"
    run_driver(DRIVER, str(arguments.rows), str(arguments.repeats), warm_up)


if __name__ == "__main__":
    main()
