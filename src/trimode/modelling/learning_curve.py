"""Would more rows help? The leading models of a comparison fitted on growing shares of
its training rows (scikit-learn's learning_curve), scored on the comparison's own folds.

Each leading model (its best variant, as the leaderboard ranked it) is fitted, on every
fold of the leaderboard, on SIZES growing shares of the fold's training rows, from about
a tenth (at least MIN_ROWS rows, and enough that the rarest class is expected MIN_PER_CLASS
times) to all of them, spaced evenly on a log scale (each step a similar factor more rows);
the rows of a share are drawn at random (seeded) from the fold's training rows, and each
fit is scored with the primary metric on the fold's whole test rows and on the rows it was
fitted on. A share too small to hold every class is fitted as it is: a fit that fails on
some fold (a classifier given one class, a metric given a class the model never saw) scores
nothing, and that size is left out of the curve with a note; a fit that succeeds is scored
as it is (fewer classes seen: a lower score, which is what so few rows give).

Values are in the metric's own sign, as the leaderboard holds them (an RMSE is positive,
lower is better). `reading` turns a curve into one line; its rule is in its docstring.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import learning_curve

from trimode.config.model import Config
from trimode.core import progress
from trimode.modelling.compute import compute_engine, parallel_work, workers
from trimode.modelling.evaluation import PrimaryScorer
from trimode.modelling.fold_fits import BUDGET, duration, stoppable
from trimode.modelling.weights import fit_params

if TYPE_CHECKING:
    from trimode.modelling.compare import Leaderboard

# The sizes of a curve, and what its smallest share holds at least.
SIZES = 5
SMALLEST_SHARE = 0.1
MIN_ROWS = 50
MIN_PER_CLASS = 5
# The leading registry models a curve is drawn for.
LEADERS = 2
UNLIKELY = "more rows are unlikely to help; try other features or models"


@dataclass(frozen=True)
class MoreRows:
    """What is known of the rows production would train on, beside the `here` rows this
    mode loaded: their count (None: unknown), or a bound on it (at_most: data.max_rows of
    a source whose size is unknown)."""

    here: int
    rows: int | None = None
    at_most: bool = False

    def likely(self) -> str:
        """The end of a line whose curve still improves."""
        if self.rows is None:
            return "production's data is likely to help"
        if self.rows <= self.here:
            return (
                f"more rows are likely to help, but production's {self.rows:,} rows are no "
                "more than these"
            )
        bound = "up to " if self.at_most else ""
        return f"production's {bound}{self.rows:,} rows are likely to help"


@dataclass(frozen=True)
class ModelCurve:
    """One model's curve: the rows of each size, the mean and spread (population std over
    the folds) of the primary metric on the rows it was fitted on (train) and on the
    fold's test rows (valid), and its line of reading."""

    model: str
    rows: list[int]
    train_mean: list[float]
    train_std: list[float]
    valid_mean: list[float]
    valid_std: list[float]
    reading: str


@dataclass(frozen=True)
class LearningCurve:
    """The curves of a comparison's leading models, on its folds."""

    metric: str
    greater_is_better: bool
    folds: int
    models: list[ModelCurve] = field(default_factory=list)
    # Sizes left out, or why there is no curve.
    notes: list[str] = field(default_factory=list)
    # Why the curves stopped before they were made (fold_fits.BUDGET or INTERRUPTED).
    stopped: str | None = None

    @property
    def lines(self) -> list[str]:
        """What to print: each model's reading, then the notes."""
        return [f"learning curve of {curve.reading}" for curve in self.models] + self.notes

    def to_json(self) -> dict[str, Any]:
        """The curves as plain data (each model's as its fields)."""
        return dataclasses.asdict(self)


def learning_curves(
    config: Config,
    leaderboard: Leaderboard,
    features: pd.DataFrame,
    y: pd.Series,
    more: MoreRows,
    *,
    count: int = LEADERS,
    budget_s: float = 0,
) -> LearningCurve:
    """The curves of the leaderboard's `count` leading registry models (Leaderboard.leaders),
    on its folds of these rows (the ones it was made from), within budget_s seconds (0: no
    limit); Ctrl-C or the budget running out leaves a curve without models, `stopped` saying
    why."""
    task, primary = leaderboard.rules, leaderboard.primary_metric
    greater = task.metric(primary).greater_is_better
    made = LearningCurve(primary, greater, len(leaderboard.folds))
    smallest_fold = min(len(train) for train, _ in leaderboard.folds)
    classes = y if task.has_classes else None
    sizes = train_sizes(smallest_fold, classes)
    if len(sizes) < 2:
        made.notes.append(
            f"learning curve: none drawn, a fold's {smallest_fold:,} training rows are too few "
            f"for a smaller share of at least {smallest_share(smallest_fold, classes):,} rows"
        )
        return made
    scorer = PrimaryScorer(task, primary, config.columns.weight)
    sign = 1.0 if greater else -1.0
    leaders = leaderboard.leaders(count)
    progress.announce(_estimate_line(leaderboard, leaders, sizes, config.compute.n_jobs))
    with (
        compute_engine(config),
        parallel_work(),
        stoppable(budget_s) as stop,
        _quiet(),
        progress.activity("learning curve"),
    ):
        for name in leaders:
            estimator = leaderboard.estimators[name]
            rows, train, valid = learning_curve(
                estimator,
                features,
                y,
                train_sizes=sizes,
                cv=leaderboard.folds,
                scoring=scorer,
                n_jobs=config.compute.n_jobs,
                shuffle=True,
                random_state=config.train.seed,
                params=fit_params(config, estimator, features),
            )
            made.models.append(_curve(name, rows, sign * train, sign * valid, made, more))
    if stop.reason is not None:
        why = "the time budget ran out" if stop.reason == BUDGET else "it was interrupted"
        return LearningCurve(
            primary,
            greater,
            made.folds,
            notes=[f"learning curve: none kept, {why}; the leaderboard is saved without it"],
            stopped=stop.reason,
        )
    return made


def smallest_share(train_rows: int, y: pd.Series | None = None) -> int:
    """The rows of a curve's smallest size: SMALLEST_SHARE of train_rows, at least
    MIN_ROWS, and with classes `y`, enough that the rarest class is expected MIN_PER_CLASS
    times among them."""
    smallest = max(MIN_ROWS, math.ceil(SMALLEST_SHARE * train_rows))
    if y is not None and len(y):
        rarest = float(y.value_counts(normalize=True).min())
        smallest = max(smallest, math.ceil(MIN_PER_CLASS / rarest))
    return smallest


def _estimate_line(
    leaderboard: Leaderboard, leaders: list[str], sizes: list[int], n_jobs: int
) -> str:
    """What the curve is about to do, and about how long it takes: each fit as long as the
    model's fit and scoring in the leaderboard, in proportion to its rows."""
    rows = leaderboard.rows.set_index("model")
    per_fold = sum(
        float(rows.loc[name, "fit_time_mean"] + rows.loc[name, "score_time_mean"])
        for name in leaders
    )
    folds = len(leaderboard.folds)
    seconds = per_fold * folds * sum(sizes) / sizes[-1] / workers(n_jobs)
    fits = len(leaders) * len(sizes) * folds
    return (
        f"learning curve: {', '.join(leaders)} on {len(sizes)} sizes from {sizes[0]:,} to "
        f"{sizes[-1]:,} rows, {fits:,} fits, about {duration(seconds)} (timed on the "
        "leaderboard's fits)"
    )


@contextmanager
def _quiet() -> Iterator[None]:
    """Without scikit-learn's warnings of fits that failed or could not be scored (a
    traceback each): the sizes they leave out are said in a note."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FitFailedWarning)
        warnings.filterwarnings("ignore", message="Scoring failed")
        yield


def train_sizes(train_rows: int, y: pd.Series | None = None) -> list[int]:
    """The rows of each size: SIZES of them from the smallest share (smallest_share) to
    train_rows, evenly spaced on a log scale; train_rows alone when the smallest share
    would not be smaller."""
    smallest = smallest_share(train_rows, y)
    if smallest >= train_rows:
        return [train_rows]
    return sorted({round(float(size)) for size in np.geomspace(smallest, train_rows, SIZES)})


def _curve(
    name: str,
    rows: np.ndarray,
    train: np.ndarray,
    valid: np.ndarray,
    made: LearningCurve,
    more: MoreRows,
) -> ModelCurve:
    """One model's curve from learning_curve's scores (sizes x folds, in the metric's own
    sign), the sizes some fold could not score left out (with a note in `made`)."""
    scored = np.isfinite(train).all(axis=1) & np.isfinite(valid).all(axis=1)
    if not scored.all():
        left_out = ", ".join(f"{int(size):,}" for size in rows[~scored])
        made.notes.append(
            f"learning curve of {name}: left out the sizes of {left_out} rows, where a fit "
            "failed on some fold (a share that small may miss a class)"
        )
    curve = ModelCurve(
        model=name,
        rows=[int(size) for size in rows[scored]],
        train_mean=train[scored].mean(axis=1).tolist(),
        train_std=train[scored].std(axis=1).tolist(),
        valid_mean=valid[scored].mean(axis=1).tolist(),
        valid_std=valid[scored].std(axis=1).tolist(),
        reading="",
    )
    line = reading(curve, made.metric, made.greater_is_better, made.folds, more)
    return dataclasses.replace(curve, reading=line)


@dataclass(frozen=True)
class Verdict:
    """What a curve says: "improving", "flat" (since `since` rows) or "lower", with the
    change over the last step (in the metric's own sign) and the tolerance."""

    kind: str
    change: float
    tolerance: float
    since: int


def verdict(curve: ModelCurve, greater_is_better: bool, folds: int) -> Verdict:
    """The rule behind a curve's line of reading.

    With sizes n_1 < ... < n_m (m >= 2), validation means v_i and their spreads s_i (the
    population std over the k folds), turned so that greater is better (g_i = v_i, or -v_i
    for a metric where lower is better), the tolerance is the standard error of the last
    mean across folds, t = s_m / sqrt(k - 1), and the last step's gain is g_m - g_(m-1):

    - "improving" when the gain is more than t (still rising at n_m rows);
    - "lower" when the gain is less than -t (the last size scored worse by more than t);
    - "flat" otherwise, since n_j: the smallest size from which every later mean is within
      t of the last, |g_i - g_m| <= t for every i >= j.
    """
    sign = 1.0 if greater_is_better else -1.0
    gains = [sign * value for value in curve.valid_mean]
    tolerance = curve.valid_std[-1] / math.sqrt(max(folds - 1, 1))
    change = curve.valid_mean[-1] - curve.valid_mean[-2]
    gain = gains[-1] - gains[-2]
    since = len(gains) - 1
    while since > 0 and abs(gains[since - 1] - gains[-1]) <= tolerance:
        since -= 1
    kind = "improving" if gain > tolerance else "lower" if gain < -tolerance else "flat"
    return Verdict(kind, change, tolerance, curve.rows[since])


def reading(
    curve: ModelCurve, metric: str, greater_is_better: bool, folds: int, more: MoreRows
) -> str:
    """The curve's one line of reading, by `verdict`'s rule: still improving at the last
    size (and what production's rows may bring), flat since a size, or lower at the last."""
    name = curve.model
    if len(curve.rows) < 2:
        return f"{name}: no reading, fewer than two sizes of rows could be scored"
    found = verdict(curve, greater_is_better, folds)
    last, before = curve.rows[-1], curve.rows[-2]
    spread = f"its standard error {found.tolerance:.2g} across {folds} folds"
    if found.kind == "improving":
        return (
            f"{name}: still improving at {last:,} rows ({metric} {found.change:+.3g} over the "
            f"last step from {before:,}, beyond {spread}): {more.likely()}"
        )
    if found.kind == "lower":
        return (
            f"{name}: lower at {last:,} rows than at {before:,} ({metric} {found.change:+.3g}, "
            f"beyond {spread}): {UNLIKELY}"
        )
    return (
        f"{name}: flat since {found.since:,} rows ({metric} within {spread} of its "
        f"{curve.valid_mean[-1]:.4g} at {last:,} rows): {UNLIKELY}"
    )
