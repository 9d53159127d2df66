"""How many cores a run may use.

Test mode runs on a few thousand rows, often beside an editor, a browser and a
commit: one thread is faster there than many (OpenMP threads that wait for a
busy core can slow small fits down by orders of magnitude). Production uses
every core. The limit covers OpenMP and BLAS threads (threadpoolctl, which
scikit-learn already depends on); the registry passes the same count to
estimators that take n_jobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits


@contextmanager
def limit_threads(n_jobs: int) -> Iterator[None]:
    """Cap native thread pools at n_jobs threads; -1 leaves them at their default."""
    if n_jobs == -1:
        yield
        return
    with threadpool_limits(limits=n_jobs):
        yield
