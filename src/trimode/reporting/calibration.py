"""Whether the model's probabilities mean what they say: on the held-out rows, per class
(the second of two; each of more, against the rest), the reliability curve
(sklearn.calibration.calibration_curve: the actual share of the class among rows binned by
their predicted probability) and the Brier score (the mean squared gap between the
probability and the outcome; 0 is perfect), beside the Brier score of always predicting the
class's share in the training rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

# Bins of rows of about equal count (quantiles of the predicted probability).
BINS = 10


@dataclass(frozen=True)
class Reliability:
    """One class's reliability curve (mean predicted probability per bin against the
    actual share of the class there) and its Brier score, and the prior's."""

    label: str
    predicted: np.ndarray
    actual: np.ndarray
    brier: float
    brier_of_prior: float


def reliability(
    model: BaseEstimator, x: pd.DataFrame, y: pd.Series, y_train: pd.Series
) -> list[Reliability]:
    """The reliability of each class the report reads (the second of two classes; every
    class of more, against the rest) on the held-out rows x, y; y_train gives the prior."""
    classes = list(model.classes_)
    probabilities = model.predict_proba(x)
    read = [1] if len(classes) == 2 else range(len(classes))
    curves = []
    for column in read:
        label = classes[column]
        actual = (y == label).to_numpy()
        probability = probabilities[:, column]
        share, mean_probability = calibration_curve(
            actual, probability, n_bins=BINS, strategy="quantile"
        )
        prior = np.full(len(actual), float((y_train == label).mean()))
        curves.append(
            Reliability(
                label=str(label),
                predicted=mean_probability,
                actual=share,
                brier=float(brier_score_loss(actual, probability, pos_label=True)),
                brier_of_prior=float(brier_score_loss(actual, prior, pos_label=True)),
            )
        )
    return curves


def brier_table(curves: list[Reliability]) -> pd.DataFrame:
    """Per class: its Brier score, the prior's, and whether the model's is lower."""
    return pd.DataFrame(
        {
            "Brier score": [curve.brier for curve in curves],
            "Brier score of the class share": [curve.brier_of_prior for curve in curves],
            "better than the share": [
                "yes" if curve.brier < curve.brier_of_prior else "no" for curve in curves
            ],
        },
        index=pd.Index([curve.label for curve in curves], name="class"),
    )
