"""Where a run computes: how many cores it may use, and whether a Dask cluster helps.

Test mode runs on a few thousand rows, often beside an editor, a browser and a
commit: one thread is faster there than many (OpenMP threads that wait for a
busy core can slow small fits down by orders of magnitude). Production uses
every core. The limit covers OpenMP and BLAS threads (threadpoolctl, which
scikit-learn already depends on); the registry passes the same count to
estimators that take n_jobs. Work spread over several workers (cross-validation
folds, search candidates) leaves each worker its share of the cores, and the
models inside one core each: nested parallelism never asks for more threads
than there are cores.

With compute.engine = "dask", a run also connects to a Dask cluster (the one at
dask.scheduler_address, or a local one it starts and stops) and sends
scikit-learn's joblib-parallel work there: the candidates of a hyper-parameter
search, cross-validation folds, the trees of a random forest. Dask is an
optional extra of the project (`uv sync --extra dask`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import joblib
from threadpoolctl import threadpool_limits

from trimode.config.model import Config
from trimode.core.errors import ConfigError


def cores() -> int:
    """The cores this process may use: joblib's count, which heeds CPU affinity and a
    container's CPU quota (OpenMP's default does not: in a two-CPU container on a large
    host it starts a thread per host core)."""
    return joblib.cpu_count()


def workers(n_jobs: int) -> int:
    """How many workers n_jobs means here: -1 one per core, -2 all but one, and so on."""
    count = n_jobs if n_jobs > 0 else cores() + 1 + n_jobs
    return max(1, min(count, cores()))


@contextmanager
def limit_threads(n_jobs: int) -> Iterator[None]:
    """Cap native thread pools (OpenMP, BLAS) at the workers n_jobs means (-1: cores)."""
    with threadpool_limits(limits=workers(n_jobs)):
        yield


@contextmanager
def parallel_work() -> Iterator[None]:
    """Around joblib work spread over compute.n_jobs workers (folds, search candidates):
    each worker one native thread, so that workers x threads stay within the cores the
    config gives. joblib caps its loky workers so; this caps this process too, where the
    work runs when n_jobs is 1, and a model's own threads inside it: two gradient
    boostings on two cores must not start four OpenMP threads that wait for each other."""
    with threadpool_limits(limits=1):
        yield


@contextmanager
def compute_engine(config: Config) -> Iterator[dict[str, Any]]:
    """Set up the configured engine for the body of a `with` block; yield its description."""
    with limit_threads(config.compute.n_jobs):
        if config.compute.engine != "dask":
            yield {"engine": "local", "n_jobs": config.compute.n_jobs}
            return
        with dask_cluster(config) as client:
            import joblib

            workers = client.scheduler_info()["workers"]
            description = {
                "engine": "dask",
                "scheduler": client.scheduler.address,
                "workers": len(workers),
                "threads": sum(worker["nthreads"] for worker in workers.values()),
            }
            # joblib's Dask backend: Parallel(...) calls inside run as tasks on the cluster.
            with joblib.parallel_config(backend="dask"):
                yield description


@contextmanager
def dask_cluster(config: Config) -> Iterator[Any]:
    """A Dask client of the configured scheduler, or of a local cluster started for the run."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(
            f"{config.where('compute.engine')}: compute.engine = 'dask' needs Dask, an optional "
            "extra of this project: uv sync --extra dask"
        ) from None
    address = config.dask.scheduler_address
    if address:
        try:
            client = Client(address.reveal(), timeout="30s")
        except (OSError, TimeoutError) as error:
            raise ConfigError(
                f"{config.where('dask.scheduler_address')}: cannot reach the Dask scheduler "
                f"{str(address)!r}: {error}"
            ) from None
        with client:
            try:  # joblib's tasks would wait forever on a cluster without workers
                client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                raise ConfigError(
                    f"{config.where('dask.scheduler_address')}: the Dask scheduler "
                    f"{str(address)!r} has no workers (none joined within 60 s)"
                ) from None
            yield client
        return
    with (
        LocalCluster(
            n_workers=config.dask.n_workers or None,
            threads_per_worker=config.dask.threads_per_worker,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
