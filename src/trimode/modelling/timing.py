"""Wall-clock timing of the pipeline's steps, and the time budget of a run.

The budget is kept two ways. After each step, a run over budget stops before it writes
anything. During a step, a watchdog thread stops it when the budget runs out: it
interrupts the main thread (a KeyboardInterrupt at its next Python instruction, which
unwinds the run as Ctrl-C does and becomes BudgetExceeded), and when the main thread
does not respond within GRACE_S seconds (a long call into C), it ends the run's worker
processes and the process itself, exit 2, with the same one line.
"""

from __future__ import annotations

import _thread
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from trimode.core import steps
from trimode.core.errors import ProjectError
from trimode.core.secrets import redact
from trimode.core.stopping import end_workers, last_words

# Seconds the main thread has to respond to the watchdog's interrupt before the watchdog
# ends the process.
GRACE_S = 5.0
# The exit status of bad input (the command line's too): a budget is a setting.
EXIT_OVER_BUDGET = 2


class BudgetExceeded(ProjectError):
    """A run took longer than its mode's time budget."""


class StepTimer:
    """Record how long each named step takes, and stop a run that outgrows its budget.

    budget_s is the most seconds the whole run may take (0: no limit); budget_key
    names the setting in the error message. The budget is checked after each step,
    so a run over budget stops before it writes any output; inside `watching()`, a step
    that overruns it is stopped too (see the module's docstring).
    """

    def __init__(self, budget_s: float = 0, budget_key: str = "the time budget") -> None:
        self.durations: dict[str, float] = {}
        self.budget_s = budget_s
        self.budget_key = budget_key
        self._started = time.perf_counter()
        self._current: str | None = None
        self._expired = False
        self._last_resort: threading.Timer | None = None

    @contextmanager
    def step(self, name: str, subject: str = "") -> Iterator[None]:
        """Time the body of a `with` block as the step `name` (of `subject`, what it reads
        or makes: a failure names both, see core/steps.py)."""
        start = time.perf_counter()
        self._current = name
        with steps.step(name, subject):
            yield
        self._current = None
        self.durations[name] = round(time.perf_counter() - start, 4)
        if self.budget_s and self.total > self.budget_s:
            slowest = max(self.durations, key=self.durations.__getitem__)
            raise BudgetExceeded(
                f"the run took {self.total:.1f} s by the end of step '{name}', over its "
                f"budget of {self.budget_s:g} s ({self.budget_key}); slowest step: "
                f"'{slowest}' ({self.durations[slowest]:.1f} s)"
            )

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Stop the body of a `with` block (on the main thread) when the budget runs out,
        in the middle of a step if need be: it then raises BudgetExceeded naming the step."""
        if not self.budget_s or threading.current_thread() is not threading.main_thread():
            yield
            return
        remaining = max(self.budget_s - self.total, 0)
        alarm = threading.Timer(remaining, self._expire)
        alarm.daemon = True
        alarm.start()
        try:
            yield
        except BaseException:
            if self._expired:
                end_workers()
                raise BudgetExceeded(self._stopped()) from None
            raise
        finally:
            alarm.cancel()
            if self._last_resort is not None:  # the main thread responded
                self._last_resort.cancel()
        if self._expired:  # the interrupt came after the body's last instruction
            raise BudgetExceeded(self._stopped())

    def _stopped(self) -> str:
        """The one line of a run the watchdog stopped."""
        if self._current:
            where = f"in step '{self._current}'"
        elif self.durations:
            where = f"after step '{list(self.durations)[-1]}'"
        else:
            where = "before its first step"
        return (
            f"the run was stopped {where}: it reached its budget of {self.budget_s:g} s "
            f"({self.budget_key})"
        )

    def _expire(self) -> None:
        """The watchdog's alarm: interrupt the main thread, and end the process if it does
        not respond in time."""
        self._expired = True
        self._last_resort = threading.Timer(GRACE_S, self._end_process)
        self._last_resort.daemon = True
        self._last_resort.start()
        _thread.interrupt_main()

    def _end_process(self) -> None:
        """End the workers and the process, saying why in the run's one line."""
        end_workers()
        last_words(f"error: {redact(self._stopped())}")
        os._exit(EXIT_OVER_BUDGET)

    @property
    def total(self) -> float:
        """Seconds since the timer was made."""
        return round(time.perf_counter() - self._started, 4)

    def summary(self) -> str:
        """One line with each step's duration, e.g. "load 0.12s, fit 0.31s"."""
        return ", ".join(f"{name} {seconds:.2f}s" for name, seconds in self.durations.items())
