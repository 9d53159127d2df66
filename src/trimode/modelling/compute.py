"""Where a run computes: how many cores it may use, and whether a Dask cluster helps.

Test mode runs on a few thousand rows, often beside an editor, a browser and a
commit: one thread is faster there than many (OpenMP threads that wait for a
busy core can slow small fits down by orders of magnitude). Production uses
every core. The limit covers OpenMP and BLAS threads (threadpoolctl, which
scikit-learn already depends on); the registry passes the same count to
estimators that take n_jobs.

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

from threadpoolctl import threadpool_limits

from trimode.config.model import Config
from trimode.core.errors import ConfigError


@contextmanager
def limit_threads(n_jobs: int) -> Iterator[None]:
    """Cap native thread pools at n_jobs threads; -1 leaves them at their default."""
    if n_jobs == -1:
        yield
        return
    with threadpool_limits(limits=n_jobs):
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
