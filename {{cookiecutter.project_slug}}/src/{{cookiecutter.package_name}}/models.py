"""Your model registry: the common interface through which every mode trains models.

Each entry maps a name to a factory of an unfitted scikit-learn estimator (taking the
seed and the number of cores), a search space for tuning, and the preprocessing the
model needs: features.py's build_preprocessor (scaled numbers, one-hot categories)
unless `preprocess` names another. Trees need no scaling nor one-hot columns: gradient
boosting reads categories natively (native_categories), a random forest their codes
(ordinal_categories), each one column per input. A neural network (mlp) needs the
scaling: it keeps the default. To add a model, add one entry under its task: the commit
hook fits the one test mode trains; `compare` and the configs name any of them.
"""

from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier

from trimode import ModelSpec, ScaledTargetMLPRegressor, native_categories, ordinal_categories

# The neural networks (mlp): two hidden layers; early stopping holds out a tenth of the
# rows a fit is given and stops when their score stops improving. A strong penalty
# (alpha; scikit-learn's default is 1e-4) keeps them from learning noise: on the built-in
# data they then hold the expectations (the device does not matter) and score as well.
MLP = {"hidden_layer_sizes": (64, 32), "alpha": 1.0, "early_stopping": True, "max_iter": 300}
# What a search tries of them: their layers and their penalty.
MLP_SEARCH: dict[str, list] = {
    "hidden_layer_sizes": [(32,), (64, 32), (128, 64)],
    "alpha": [0.1, 1.0, 10.0],
}

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
            preprocess=ordinal_categories,
        ),
        "hist_gradient_boosting": ModelSpec(
            make=lambda seed, n_jobs: HistGradientBoostingClassifier(random_state=seed),
            search_space={"learning_rate": [0.03, 0.1, 0.3], "max_leaf_nodes": [15, 31, 63]},
            preprocess=native_categories,
        ),
        "mlp": ModelSpec(
            make=lambda seed, n_jobs: MLPClassifier(**MLP, random_state=seed),
            search_space=MLP_SEARCH,
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
            preprocess=ordinal_categories,
        ),
        "hist_gradient_boosting": ModelSpec(
            make=lambda seed, n_jobs: HistGradientBoostingRegressor(random_state=seed),
            search_space={"learning_rate": [0.03, 0.1, 0.3], "max_leaf_nodes": [15, 31, 63]},
            preprocess=native_categories,
        ),
        # scikit-learn's MLPRegressor learning the target standardised (same parameters).
        "mlp": ModelSpec(
            make=lambda seed, n_jobs: ScaledTargetMLPRegressor(**MLP, random_state=seed),
            search_space=MLP_SEARCH,
        ),
    },
}
