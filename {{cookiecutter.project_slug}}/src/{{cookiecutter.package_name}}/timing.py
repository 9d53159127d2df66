"""Wall-clock timing of the pipeline's steps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StepTimer:
    """Record how long each named step takes, in the order the steps ran."""

    def __init__(self) -> None:
        self.durations: dict[str, float] = {}
        self._started = time.perf_counter()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the body of a `with` block as the step `name`."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.durations[name] = round(time.perf_counter() - start, 4)

    @property
    def total(self) -> float:
        """Seconds since the timer was made."""
        return round(time.perf_counter() - self._started, 4)
