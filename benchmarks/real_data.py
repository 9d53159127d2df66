"""On real data sets, the best `compare` score against plain scikit-learn on the same rows.

For each data set of the template's real-data matrix (tests/test_real_data.py:
breast cancer, wine, the Palmer penguins, diabetes with an ID and a date column),
the generated project is pointed at it as a user would (data.source, data.target,
[columns]) and `compare` runs its registry models on the training rows of its split.
Beside it, a plain scikit-learn script: impute and scale the numbers, impute and
one-hot encode the rest (dropping the ID and the date, as a hand-written script
would), the same estimators with the same hyper-parameters, cross-validated on the
same rows and folds with scikit-learn's own scorer of the primary metric. The table
gives each side's best model and score and their ratio (target: at least 0.98 for
every data set: the template's pipeline does not cripple the models).
Run it with: uv run python benchmarks/real_data.py
(its data sets are small and measured once, so smoke size, TRIMODE_BENCHMARK_SMOKE=1, only
skips compiling bytecode at install; see common.py).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from common import make_project, say_if_smoke

# Runs inside the generated project's environment, from the project's folder.
DRIVER = '''
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ml_project.models import MODELS
from trimode import compare_models, load_config, load_data, split_rows
from trimode.modelling.compare import BASELINE
from trimode.modelling.splitting import make_folds

folder = Path(sys.argv[1])
SCORERS = {"roc_auc": {2: "roc_auc", 3: "roc_auc_ovr"}, "r2": {0: "r2"}}


def data_sets():
    """(name, task, frame, target, columns): the matrix of tests/test_real_data.py."""
    from palmerpenguins import load_penguins

    cancer = datasets.load_breast_cancer(as_frame=True).frame
    wine = datasets.load_wine(as_frame=True).frame
    diabetes = datasets.load_diabetes(as_frame=True, scaled=False).frame
    diabetes.insert(0, "patient_id", np.arange(100_000, 100_000 + len(diabetes)))
    days = np.random.default_rng(0).integers(0, 3 * 365, size=len(diabetes))
    visits = pd.Timestamp("2011-01-01") + pd.to_timedelta(days, unit="D")
    diabetes.insert(1, "visit_date", visits.strftime("%Y/%m/%d"))
    yield "breast cancer", "classification", cancer, "target", {}
    yield "wine", "classification", wine, "target", {}
    yield "penguins", "classification", load_penguins(), "species", {}
    yield "diabetes (+ID, date)", "regression", diabetes, "target", {
        "ids": ["patient_id"], "dates": ["visit_date"]
    }


def plain_pipeline(estimator, features, dropped):
    """Impute and scale the numbers; impute and one-hot encode the rest."""
    kept = features.drop(columns=dropped)
    numeric = kept.select_dtypes("number").columns.tolist()
    other = [column for column in kept.columns if column not in numeric]
    return Pipeline([
        ("prepare", ColumnTransformer([
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")),
                                  ("scale", StandardScaler())]), numeric),
            ("other", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                ("encode", OneHotEncoder(handle_unknown="ignore"))]), other),
        ])),
        ("model", estimator),
    ])


rows = []
for name, task, frame, target, columns in data_sets():
    source = folder / f"{name.split()[0]}.parquet"
    frame.to_parquet(source, index=False)
    overrides = {"task": task, "data.source": str(source), "data.target": target,
                 "evaluation.primary_metric": "roc_auc" if task == "classification" else "r2",
                 "compare.models": list(MODELS[task]), "train.models": list(MODELS[task])}
    overrides.update({f"columns.{key}": value for key, value in columns.items()})
    config = load_config("human", "configs", overrides)
    split = split_rows(load_data(config).frame, config)
    board = compare_models(config, split.x_train, split.y_train)
    primary = config.evaluation.primary_metric
    ours = board.rows[board.rows["model"] != BASELINE].set_index("model")[f"{primary}_mean"]
    folds = make_folds(config, split.x_train, split.y_train, "compare.cv_folds")
    classes = split.y_train.nunique() if task == "classification" else 0
    scorer = SCORERS[primary][min(classes, 3)]
    plain = {}
    for model, spec in MODELS[task].items():
        estimator = spec.make(config.train.seed, 1)
        pipeline = plain_pipeline(clone(estimator), split.x_train, sum(columns.values(), []))
        scores = cross_val_score(pipeline, split.x_train, split.y_train, cv=folds, scoring=scorer)
        plain[model] = float(np.mean(scores))
    best_ours, best_plain = ours.idxmax(), max(plain, key=plain.get)
    rows.append({
        "data set": name, "rows": len(split.y_train), "metric": primary,
        "compare best": f"{best_ours} {ours[best_ours]:.4f}",
        "plain best": f"{best_plain} {plain[best_plain]:.4f}",
        "ratio": ours[best_ours] / plain[best_plain],
    })
width = {key: max(len(key), *(len(f"{row[key]:.4f}" if key == "ratio" else str(row[key]))
                              for row in rows)) for key in rows[0]}
print("  ".join(key.ljust(width[key]) for key in rows[0]))
for row in rows:
    print("  ".join((f"{row[key]:.4f}" if key == "ratio" else str(row[key])).ljust(width[key])
                    for key in row))
worst = min(row["ratio"] for row in rows)
print(f"lowest ratio compare / plain: {worst:.4f} (target: at least 0.98 on every data set)")
'''


def main() -> None:
    """Generate and install the project (and the penguins), then measure inside it."""
    say_if_smoke()
    with tempfile.TemporaryDirectory() as folder:
        project, python = make_project(Path(folder))
        install = ["uv", "pip", "install", "--quiet", "--python", str(python), "palmerpenguins"]
        subprocess.run(install, check=True)
        driver = Path(folder) / "driver.py"
        driver.write_text(DRIVER, encoding="utf-8")
        subprocess.run([str(python), str(driver), folder], cwd=project, check=True)


if __name__ == "__main__":
    main()
