"""Your model registry: the common interface through which every mode trains models.

Each entry maps a name to a factory of an unfitted scikit-learn estimator (taking the
seed and the number of cores) and a search space for tuning. Every model gets the same
preprocessing (features.py). To add a model, add one entry under its task: the commit
hook fits the one test mode trains; `compare` and the configs name any of them.
"""

from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge

from trimode import ModelSpec

MODELS: dict[str, dict[str, ModelSpec]] = {
    "classification": {
        "logistic_regression": ModelSpec(
            make=lambda seed, n_jobs: LogisticRegression(max_iter=2_000, random_state=seed),
            search_space={"C": [0.01, 0.1, 1.0, 10.0]},
        ),
        "random_forest": ModelSpec(
            make=lambda seed, n_jobs: RandomForestClassifier(
                n_estimators=200, min_samples_leaf=5, n_jobs=n_jobs, random_state=seed
            ),
            search_space={"max_depth": [None, 8, 16], "min_samples_leaf": [1, 5, 20]},
        ),
        "hist_gradient_boosting": ModelSpec(
            make=lambda seed, n_jobs: HistGradientBoostingClassifier(random_state=seed),
            search_space={"learning_rate": [0.03, 0.1, 0.3], "max_leaf_nodes": [15, 31, 63]},
        ),
    },
    "regression": {
        "ridge": ModelSpec(
            make=lambda seed, n_jobs: Ridge(alpha=1.0, random_state=seed),
            search_space={"alpha": [0.1, 1.0, 10.0, 100.0]},
        ),
        "random_forest": ModelSpec(
            make=lambda seed, n_jobs: RandomForestRegressor(
                n_estimators=200, min_samples_leaf=5, n_jobs=n_jobs, random_state=seed
            ),
            search_space={"max_depth": [None, 8, 16], "min_samples_leaf": [1, 5, 20]},
        ),
        "hist_gradient_boosting": ModelSpec(
            make=lambda seed, n_jobs: HistGradientBoostingRegressor(random_state=seed),
            search_space={"learning_rate": [0.03, 0.1, 0.3], "max_leaf_nodes": [15, 31, 63]},
        ),
    },
}
