"""Your expectations of the model's behaviour (yours/expectations.py), one test each,
checked on the held-out rows of the test-mode run (no model is fitted here). The commit
hook runs these on every commit.

A failure names the expectation, the rows that broke it and their values. An
expectation written for the built-in data set that names a column or class your data
lacks is skipped with the reason, which pytest's summary shows (-ra); one of yours
that does fails instead (see modelling/behaviour.py).
"""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.modelling.behaviour import (
    FAILED,
    NOT_APPLICABLE,
    Outcome,
    check_all,
    expectations_for,
)
from {{ cookiecutter.package_name }}.run.config import load_config

from ..conftest import CONFIG_DIR

EXPECTATIONS = expectations_for(load_config("test", CONFIG_DIR).task)


@pytest.fixture(scope="module")
def outcomes(test_run, test_task) -> list[Outcome]:
    """Every expectation checked once, on the test-mode run's held-out rows."""
    return check_all(EXPECTATIONS, test_run.model, test_run.split.x_test, test_task)


@pytest.mark.parametrize(
    "number", range(len(EXPECTATIONS)), ids=[item.description for item in EXPECTATIONS]
)
def test_your_expectation_holds(number, outcomes):
    outcome = outcomes[number]
    if outcome.status == NOT_APPLICABLE:
        pytest.skip(outcome.message())
    if outcome.status == FAILED:
        pytest.fail(outcome.message(), pytrace=False)
