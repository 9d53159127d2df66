"""How rows are held out and folded: the same way in every command, for a seed.

`split_rows` holds out data.test_fraction of the labelled rows; `train` judges its
model on them and `compare` never sees them. Both cross-validate on the remaining
training rows with `make_folds`, so for the same data and seed they rank models on
identical folds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from trimode.config.model import Config
from trimode.core.errors import DataError
from trimode.core.tasks import task_named


@dataclass(frozen=True)
class Split:
    """Features and target of the training rows and of the held-out rows."""

    x_train: pd.DataFrame
    x_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


def split_rows(frame: pd.DataFrame, config: Config) -> Split:
    """Hold out rows for evaluation; classes keep their shares when they can."""
    target = config.data.target
    known = frame[target].notna()
    labelled = frame if known.all() else frame[known]  # no copy when every row is labelled
    features, y = labelled.drop(columns=[target]), labelled[target]
    n_test = round(len(labelled) * config.data.test_fraction)
    if n_test < 1 or n_test >= len(labelled):
        raise DataError(
            f"{len(labelled)} labelled rows cannot be split with data.test_fraction = "
            f"{config.data.test_fraction}; use more rows"
        )
    stratify = task_named(config.task).stratify_by(y, rows_per_class=2)
    x_train, x_test, y_train, y_test = train_test_split(
        features, y, test_size=n_test, random_state=config.train.seed, stratify=stratify
    )
    return Split(x_train, x_test, y_train, y_test)


def make_folds(
    config: Config, features: pd.DataFrame, y: pd.Series, key: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffled cross-validation folds for the seed, as many as the config key says
    ("compare.cv_folds", "search.cv_folds"); classes keep their shares in every fold
    when they can."""
    section, _, name = key.partition(".")
    n_folds = getattr(getattr(config, section), name)
    if len(y) < n_folds:
        raise DataError(
            f"{len(y)} labelled rows cannot be split into {n_folds} folds "
            f"({config.where(key)}); use more rows or fewer folds"
        )
    splitter = task_named(config.task).folds_splitter(n_folds, config.train.seed, y)
    return list(splitter.split(features, y))
