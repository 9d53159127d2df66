"""Wall-clock timing of the pipeline's steps, and the time budget of a run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from trimode.core.errors import ProjectError


class BudgetExceeded(ProjectError):
    """A run took longer than its mode's time budget."""


class StepTimer:
    """Record how long each named step takes, and stop a run that outgrows its budget.

    budget_s is the most seconds the whole run may take (0: no limit); budget_key
    names the setting in the error message. The budget is checked after each step,
    so a run over budget stops before it writes any output.
    """

    def __init__(self, budget_s: float = 0, budget_key: str = "the time budget") -> None:
        self.durations: dict[str, float] = {}
        self.budget_s = budget_s
        self.budget_key = budget_key
        self._started = time.perf_counter()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the body of a `with` block as the step `name`."""
        start = time.perf_counter()
        yield
        self.durations[name] = round(time.perf_counter() - start, 4)
        if self.budget_s and self.total > self.budget_s:
            slowest = max(self.durations, key=self.durations.__getitem__)
            raise BudgetExceeded(
                f"the run took {self.total:.1f} s by the end of step '{name}', over its "
                f"budget of {self.budget_s:g} s ({self.budget_key}); slowest step: "
                f"'{slowest}' ({self.durations[slowest]:.1f} s)"
            )

    @property
    def total(self) -> float:
        """Seconds since the timer was made."""
        return round(time.perf_counter() - self._started, 4)

    def summary(self) -> str:
        """One line with each step's duration, e.g. "load 0.12s, fit 0.31s"."""
        return ", ".join(f"{name} {seconds:.2f}s" for name, seconds in self.durations.items())
