"""The metric a name stands for, beyond the task's own (tasks.py): any scikit-learn
scorer (`sklearn.metrics.get_scorer_names()`), or one of the user's, a scorer in the
METRICS table of the module [tool.trimode] `metrics` names:

    METRICS = {"cost": make_scorer(cost, greater_is_better=False)}

Either way the metric is a scikit-learn scorer: its value is the scorer's function's
(unsigned: a cost stays positive), and greater is better when the scorer's sign is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trimode.core.errors import ConfigError, ProjectError
from trimode.core.tasks import Metric, Task, task_named

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.base import BaseEstimator

    from trimode.core.project import Project

INFINITY = float("inf")
# Where a person finds the names a scikit-learn scorer may have.
SCORER_NAMES = 'python -c "import sklearn.metrics as m; print(m.get_scorer_names())"'


class UnknownMetric(ConfigError):
    """A name that is no metric (the message says where the valid names are)."""


@dataclass(frozen=True)
class Scored:
    """A metric's function of (y_true, fitted model, X) computed by a scorer, unsigned."""

    scorer: Any
    # Where a metric of the user's is defined ("<file>: METRICS['cost']"); "" for
    # scikit-learn's.
    where: str = ""

    def __call__(
        self,
        y_true: pd.Series,
        model: BaseEstimator,
        features: pd.DataFrame,
        sample_weight: Any = None,
    ) -> float:
        # A scorer passes sample_weight on to its function; without weights, none is sent
        # (a function of the user's need not take them then).
        weights = {} if sample_weight is None else {"sample_weight": sample_weight}
        try:
            return sign_of(self.scorer) * self.scorer(model, features, y_true, **weights)
        except Exception as error:
            if not self.where:
                raise
            # The user's code: any error it raises is theirs to fix, one line naming it.
            raise ProjectError(f"{self.where} raised {type(error).__name__}: {error}") from error


def sign_of(scorer: Any) -> int:
    """+1 when greater is better for the scorer, -1 when lower is (make_scorer's sign)."""
    return -1 if getattr(scorer, "_sign", 1) < 0 else 1


def scorer_metric(name: str, scorer: Any, where: str = "") -> Metric:
    """The metric of that name a scikit-learn scorer computes (its range unknown); where:
    the place a metric of the user's is defined."""
    return Metric(name, Scored(scorer, where), sign_of(scorer) > 0, -INFINITY, INFINITY)


def metric_named(task: Task, name: str, project: Project | None) -> Metric | None:
    """The metric a name stands for: the task's own, a scikit-learn scorer, or one in the
    project's METRICS (ConfigError for a module that is not right); None for none."""
    if name in task.metric_names:
        return task.metric(name)
    own = project.user_metrics() if project is not None else {}
    if project is not None and name in own:
        scorer = own[name]
        # A scorer that make_scorer made says which way is better (its sign); a plain
        # function does not.
        if not callable(scorer) or not hasattr(scorer, "_sign"):
            raise ConfigError(
                f"METRICS[{name!r}] of {project.modules.get('metrics')} must be a "
                "scorer (sklearn.metrics.make_scorer(function, greater_is_better=...)), "
                f"got {type(scorer).__name__}"
            )
        where = f"{project.module('metrics').__file__}: METRICS[{name!r}]"
        return scorer_metric(name, scorer, where)
    from sklearn.metrics import get_scorer, get_scorer_names

    if name in get_scorer_names():
        return scorer_metric(name, get_scorer(name))
    return None


@functools.cache
def task_for(task_name: str, primary: str, root: Path | None) -> Task:
    """The task reporting its own metrics and the primary metric when that is none of
    them, the project at root holding the user's (ConfigError for a name that is no
    metric: see unknown_metric)."""
    task = task_named(task_name)
    if primary in task.metric_names:
        return task
    project = _project(root)
    metric = metric_named(task, primary, project)
    if metric is None:
        raise UnknownMetric(unknown_metric(task, primary, project))
    return task.with_metrics((metric,))


def _project(root: Path | None) -> Project | None:
    """The project at root; None without one (a config read on its own, in tests)."""
    from trimode.core.project import project_at

    if root is None or not (root / "pyproject.toml").is_file():
        return None
    return project_at(root)


def unknown_metric(task: Task, name: str, project: Project | None) -> str:
    """What a name that is no metric is told: where the valid names are."""
    import difflib

    from sklearn.metrics import get_scorer_names

    module = project.modules.get("metrics") if project is not None else None
    own = f"a scorer in METRICS of {module}" if module else "your own ([tool.trimode] metrics)"
    names = [*task.metric_names, *(project.user_metrics() if project else {}), *get_scorer_names()]
    close = difflib.get_close_matches(name, dict.fromkeys(names), n=3)
    hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
    return (
        f"unknown metric {name!r}{hint}: expected one of {', '.join(task.metric_names)} for "
        f"task {task.name}, a scikit-learn scorer name (list them: {SCORER_NAMES}) or {own}"
    )
