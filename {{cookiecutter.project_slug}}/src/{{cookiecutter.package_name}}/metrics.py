"""Your own metrics, by name: set `primary_metric = "cost"` in [evaluation] to rank, gate
and report by it, and `threshold = "cost"` to choose the decision threshold by it."""

import numpy as np
from sklearn.metrics import make_scorer

MISSED_POSITIVE, FALSE_ALARM = 10.0, 1.0


def cost(y_true, y_pred, sample_weight=None) -> float:
    """Mean cost per row of two classes, the greater label the positive one."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    positive = max(np.unique(np.concatenate([y_true, y_pred])))
    truth, guess = y_true == positive, y_pred == positive
    costs = MISSED_POSITIVE * (truth & ~guess) + FALSE_ALARM * (~truth & guess)
    return float(np.average(costs, weights=sample_weight))


# Each a scikit-learn scorer; greater_is_better says its direction.
METRICS = {"cost": make_scorer(cost, greater_is_better=False)}
