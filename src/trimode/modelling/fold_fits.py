"""Every (candidate, fold) fit of a comparison, in parallel, within a time budget.

What cross_validate and GridSearchCV do for one model, for all of a comparison's
candidates at once: one joblib call over every candidate and fold (so two cores stay busy
to the end of a 12-variant grid, not per model), each task fitting a clone on the fold's
training rows and scoring it on its test rows. The results come back as they finish
(joblib's return_as="generator_unordered"), which is what lets a run stop part way and
keep what finished: when compare.time_budget_s runs out (an alarm interrupts the main
thread, which waits on the results), or on Ctrl-C, the remaining fits are cancelled (joblib
ends its workers) and the candidates whose folds all finished form a partial leaderboard.
SIGTERM is not kept: it stops the run as it stops every command.

The first fold of each registry model is fitted before the rest of its folds, so the time
the whole comparison will take is estimated, and announced, from the first fits.
"""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, clone

from trimode.core import progress
from trimode.core.stopping import Terminated

# A scorer: (fitted model, features, target) -> {metric: value}.
Scorer = Callable[[BaseEstimator, pd.DataFrame, pd.Series], dict[str, float]]
# Why fitting stopped before every fit finished.
BUDGET, INTERRUPTED = "budget", "interrupted"


@dataclass(frozen=True)
class FoldScore:
    """One candidate's scores on one fold, and the seconds its fit and scoring took."""

    name: str
    fold: int
    scores: dict[str, float]
    fit_time: float
    score_time: float


@dataclass
class Fits:
    """The fits that came back, per candidate (filled as they finish), and the estimate
    announced before most of the work."""

    finished: dict[str, list[FoldScore]] = field(default_factory=dict)
    estimate_s: float | None = None

    def complete(self, folds: int) -> dict[str, list[FoldScore]]:
        """The candidates whose every fold finished, their scores in fold order."""
        return {
            name: sorted(scores, key=lambda score: score.fold)
            for name, scores in self.finished.items()
            if len(scores) == folds
        }


@dataclass
class Stop:
    """Why a `stoppable` block ended early: BUDGET, INTERRUPTED, or None (it did not)."""

    reason: str | None = None


def stopped_line(
    reason: str | None, budget_s: float, elapsed_s: float, unfinished: list[str], key: str
) -> str:
    """What a partial comparison lacks, and why (a Stop's reason; key: the budget's
    setting), in one line: the run's note and the report's alike."""
    why = (
        f"the budget of {budget_s:g} s ({key}) ran out"
        if reason == BUDGET
        else "it was interrupted"
    )
    return (
        f"partial leaderboard: {why} after {elapsed_s:.0f} s; not finished: {', '.join(unfinished)}"
    )


@dataclass(frozen=True)
class Task:
    """A fit to make: the candidate's name, its estimator, the fold's place and rows."""

    name: str
    estimator: BaseEstimator
    fold: int
    train: np.ndarray
    test: np.ndarray


def fit_and_score(
    estimator: BaseEstimator,
    features: pd.DataFrame,
    y: pd.Series,
    task: Task,
    scorer: Scorer,
    fit_params: dict[str, Any],
) -> FoldScore:
    """Fit a clone of the estimator on the fold's training rows (fit_params' per-row
    arrays, such as sample weights, cut to them) and score it on its test rows."""
    model = clone(estimator)
    own = {key: np.asarray(value)[task.train] for key, value in fit_params.items()}
    started = time.perf_counter()
    model.fit(features.iloc[task.train], y.iloc[task.train], **own)
    fitted = time.perf_counter()
    scores = scorer(model, features.iloc[task.test], y.iloc[task.test])
    return FoldScore(task.name, task.fold, scores, fitted - started, time.perf_counter() - fitted)


def run_fits(
    fits: Fits,
    estimators: dict[str, BaseEstimator],
    features: pd.DataFrame,
    y: pd.Series,
    folds: list[tuple[np.ndarray, np.ndarray]],
    scorer: Scorer,
    fit_params: Callable[[BaseEstimator], dict[str, Any]],
    *,
    n_jobs: int,
    budget: tuple[float, str] = (0, ""),
    group_of: Callable[[str], str] = lambda name: name,
    announce: bool = True,
) -> None:
    """Fit and score every estimator on every fold, in parallel over n_jobs workers, into
    `fits` as they finish (so that what finished is kept if the run is stopped: see
    `stoppable`). group_of names a candidate's registry model: once each model's first fit
    is in, the time it all takes is announced, against the budget (seconds left, the
    setting); announce=False says nothing (more work follows that the estimate lacks)."""
    tasks = _ordered(estimators, folds, group_of)
    for name in estimators:
        fits.finished.setdefault(name, [])
    workers = max(1, min(effective_n_jobs(n_jobs), len(tasks)))
    started = time.perf_counter()
    first: dict[str, float] = {}
    with progress.counter("fitting", len(tasks), "fits") as advance:
        results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(fit_and_score)(
                task.estimator, features, y, task, scorer, fit_params(task.estimator)
            )
            for task in tasks
        )
        for result in results:
            fits.finished[result.name].append(result)
            group = group_of(result.name)
            if group not in first:
                first[group] = result.fit_time + result.score_time
                if announce and len(first) == len({group_of(name) for name in estimators}):
                    fits.estimate_s = _estimate(tasks, first, group_of, workers)
                    line = _estimate_line(fits.estimate_s, len(tasks), workers, budget)
                    progress.announce(line)
            advance(_left(started, budget[0]))


@contextmanager
def stoppable(budget_s: float) -> Iterator[Stop]:
    """Around work whose finished part is worth keeping: when budget_s seconds (0: no
    limit) run out, or on Ctrl-C, the body is interrupted (joblib then cancels its
    remaining tasks) and the block ends quietly, the yielded Stop saying why. SIGTERM is
    not kept: it stops the run as it stops every command."""
    stop, alarm = Stop(), _Alarm()
    timer = None
    if budget_s and threading.current_thread() is threading.main_thread():
        timer = threading.Timer(budget_s, alarm.ring)
        timer.daemon = True
        timer.start()
    try:
        yield stop
        alarm.disarm()
    except Terminated:
        raise
    except KeyboardInterrupt:
        alarm.disarm()
        stop.reason = BUDGET if alarm.rang else INTERRUPTED
    finally:
        alarm.disarm()
        if timer is not None:
            timer.cancel()


def _ordered(
    estimators: dict[str, BaseEstimator],
    folds: list[tuple[np.ndarray, np.ndarray]],
    group_of: Callable[[str], str],
) -> list[Task]:
    """The fits in the order they are started: the first candidate of each registry model
    on the first fold (what the estimate is timed on), then each candidate's folds in turn,
    so that a run stopped part way has whole rows to keep."""
    tasks = [
        Task(name, estimator, fold, train, test)
        for name, estimator in estimators.items()
        for fold, (train, test) in enumerate(folds)
    ]
    first: dict[str, int] = {}
    for place, task in enumerate(tasks):
        first.setdefault(group_of(task.name), place)
    timed = set(first.values())
    return [tasks[place] for place in sorted(timed)] + [
        task for place, task in enumerate(tasks) if place not in timed
    ]


def _estimate(
    tasks: list[Task], first: dict[str, float], group_of: Callable[[str], str], workers: int
) -> float:
    """Seconds all the fits take: each fit as long as its model's first, shared by the
    workers."""
    return sum(first[group_of(task.name)] for task in tasks) / workers


def _estimate_line(estimate: float, count: int, workers: int, budget: tuple[float, str]) -> str:
    """The announcement: how many fits, about how long, and the budget (seconds left, the
    setting)."""
    budget_s, key = budget
    workers_text = f"{workers} worker{'s' * (workers > 1)}"
    line = (
        f"compare: {count:,} fits on {workers_text}, about {duration(estimate)} in all "
        "(timed on each model's first fit)"
    )
    if not budget_s:
        return line
    if estimate > budget_s:
        return (
            f"{line}: over the {duration(budget_s)} left of the budget ({key}); the "
            "leaderboard will hold what finishes (strategy 'halving' or fewer variants try "
            "more in less time)"
        )
    return f"{line}, within the {duration(budget_s)} left of the budget ({key})"


def _left(started: float, budget: float) -> str:
    """What the progress line says of the time: spent, and left of the budget."""
    spent = time.perf_counter() - started
    if not budget:
        return f"{duration(spent)} spent"
    return f"{duration(spent)} spent, {duration(max(budget - spent, 0))} of the budget left"


def duration(seconds: float) -> str:
    """Seconds as people read them: 42 s, 3 min 5 s."""
    whole = round(seconds)
    if whole < 60:
        return f"{max(seconds, 0):.0f} s" if seconds >= 1 else f"{seconds:.1f} s"
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


class _Alarm:
    """Interrupts the main thread when the budget runs out, unless disarmed first."""

    def __init__(self) -> None:
        self.rang = False
        self._armed = True
        self._lock = threading.Lock()

    def ring(self) -> None:
        with self._lock:
            if self._armed:
                self.rang = True
                _thread.interrupt_main()

    def disarm(self) -> None:
        with self._lock:
            self._armed = False
