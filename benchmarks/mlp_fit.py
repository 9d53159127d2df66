"""Time the registry's neural network (mlp) fitting beside its gradient boosting.

Human mode's work on the built-in data set: 50,000 rows, split as `train` splits them
(data.test_fraction held out), for each task; the two registry pipelines (the project's
preprocessing and estimator, as `train --mode human` builds them, with human mode's
n_jobs) fitted on the same training rows, interleaved (the order alternates each
round), and scored on the same held-out rows with the task's primary metric. The script
prints each model's median fit time and score, and the ratio of the fit times.
Run it with: uv run python benchmarks/mlp_fit.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: 2,000 rows, one round; see common.py).
"""

from __future__ import annotations

from common import rows_and_repeats, run_driver

# Runs inside the generated project's environment, from the project's folder.
DRIVER = """
import statistics
import sys
import time

from trimode import load_config, split_rows
from trimode.data.synthetic import TARGETS, make_dataset
from trimode.modelling.evaluation import score
from trimode.modelling.registry import build_model, feature_schema

rows, repeats = int(sys.argv[1]), int(sys.argv[2])
MODELS = ["hist_gradient_boosting", "mlp"]
METRICS = {"classification": "roc_auc", "regression": "r2"}
print(f"{rows} built-in rows per task, human mode's split and n_jobs; "
      f"{repeats} interleaved rounds (median)")
print(f"{'task':14} {'model':24} {'fit s':>7}  {'held-out score':>16}  runs")
ratios = {}
for task, metric in METRICS.items():
    overrides = {"task": task, "data.target": TARGETS[task], "evaluation.primary_metric": metric,
                 "compare.models": MODELS, "train.models": MODELS}
    config = load_config("human", "configs", overrides)
    frame = make_dataset(task, rows, seed=config.train.seed)
    split = split_rows(frame, config)
    schema = feature_schema(config, split.x_train)
    times = {name: [] for name in MODELS}
    scores = {}
    for repeat in range(repeats):
        # Alternate which model goes first, so drift in the machine's load hits both.
        for name in MODELS if repeat % 2 == 0 else MODELS[::-1]:
            model = build_model(config.project, task, name, schema, config.train.seed,
                                config.compute.n_jobs, config.train.params.get(name))
            start = time.perf_counter()
            model.fit(split.x_train, split.y_train)
            times[name].append(time.perf_counter() - start)
            scores[name] = score(config.rules, model, split.x_test, split.y_test)[metric]
    for name in MODELS:
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"{task:14} {name:24} {statistics.median(times[name]):7.2f}  "
              f"{metric:>7} {scores[name]:.4f}  ({runs})")
    ratios[task] = statistics.median(times["mlp"]) / statistics.median(
        times["hist_gradient_boosting"]
    )
    print(f"  training rows {len(split.y_train)}, held-out rows {len(split.y_test)}")
for task, ratio in ratios.items():
    print(f"ratio mlp / hist_gradient_boosting fit time, {task}: {ratio:.2f}")
"""


def main() -> None:
    """Generate and install the project, then run the measurements inside it."""
    arguments = rows_and_repeats(__doc__.splitlines()[0], 50_000, 2_000)
    run_driver(DRIVER, str(arguments.rows), str(arguments.repeats))


if __name__ == "__main__":
    main()
