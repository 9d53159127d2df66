"""Progress on long work (reading a source, fitting, searching, predicting).

Shown with rich on the error stream, and only when it is a terminal: logs, CI and
tests get no control characters. Every helper is a context manager, so the line
disappears cleanly whether the work succeeds or fails.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from trimode.core.secrets import redact


def enabled() -> bool:
    """Whether progress is shown: only when the error stream is a terminal."""
    return sys.stderr.isatty()


@contextmanager
def rows(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A bar of rows processed (a counter when the total is unknown); yields advance(n)."""
    if not enabled():
        yield lambda count: None
        return
    description = redact(description)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda count: bar.advance(task, count)


@contextmanager
def activity(description: str) -> Iterator[None]:
    """A spinner with the time elapsed, for work whose length is unknown (a fit, a search)."""
    if not enabled():
        yield
        return
    description = redact(description)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True
    ) as spinner:
        spinner.add_task(description, total=None)
        yield


# The bar `counter` shows, while it shows one: a line announced then goes above it.
_shown: list[Any] = []


def announce(line: str) -> None:
    """Say one line on the error stream (always, not only on a terminal): what a long run
    is about to do, such as its estimated length; above a bar being shown, not through it."""
    if _shown:
        _shown[-1].console.print(redact(line), markup=False, highlight=False, soft_wrap=True)
        return
    print(redact(line), file=sys.stderr, flush=True)


@contextmanager
def counter(description: str, total: int, unit: str) -> Iterator[Callable[[str], None]]:
    """A bar of units done out of total, with a line of text beside it (time left, say);
    yields advance(text), which counts one unit done."""
    if not enabled():
        yield lambda text: None
        return
    description = redact(description)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit + " {task.fields[text]}"),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total, text="")
        _shown.append(bar)
        try:
            yield lambda text: bar.update(task, advance=1, text=text)
        finally:
            _shown.remove(bar)
