"""Cores: nested parallelism stays within the machine's cores, and OpenMP threads that
wait sleep instead of spinning on cores other work needs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import cross_validate
from threadpoolctl import threadpool_info

from trimode.data.synthetic import TARGETS, make_dataset
from trimode.modelling.compute import cores, limit_threads, parallel_work, workers


class ThreadCounter(ClassifierMixin, BaseEstimator):
    """Records, when fitted, the most threads any native thread pool may start."""

    def fit(self, x, y):
        self.threads_ = max(pool["num_threads"] for pool in threadpool_info())
        self.classes_ = sorted(set(y))
        return self

    def predict(self, x):
        return [self.classes_[0]] * len(x)


@pytest.mark.parametrize("n_jobs", [1, 2, -1])
def test_workers_times_threads_stay_within_the_cores(n_jobs):
    frame = make_dataset("classification", 200)
    x, y = frame[["age", "tenure_months"]], frame[TARGETS["classification"]]
    with limit_threads(n_jobs), parallel_work():
        result = cross_validate(ThreadCounter(), x, y, cv=4, n_jobs=n_jobs, return_estimator=True)
    threads = max(estimator.threads_ for estimator in result["estimator"])
    assert workers(n_jobs) * threads <= cores()


def test_n_jobs_means_at_most_the_cores():
    assert workers(-1) == cores()
    assert workers(1) == 1
    assert workers(10 * cores()) == cores()
    with limit_threads(-1):
        assert max(pool["num_threads"] for pool in threadpool_info()) <= cores()


@pytest.mark.parametrize(("set_before", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_importing_trimode_makes_waiting_openmp_threads_sleep_unless_told(set_before, expected):
    environment = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if set_before:
        environment["OMP_WAIT_POLICY"] = set_before
    said = subprocess.run(
        [sys.executable, "-c", "import os, trimode; print(os.environ['OMP_WAIT_POLICY'])"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert said.stdout.strip() == expected
