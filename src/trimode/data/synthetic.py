"""The data set built into the package: customers of a subscription service.

Deterministic for a seed, any number of rows, offline. Rows are made in blocks,
and within a block every column draws from its own random stream, so the first
n rows are the same whatever the total size (the test sample is the head of the
human sample, which is the head of the full data set) and a small sample costs
only its own rows.

The schema is what real tabular data looks like: numeric and categorical
columns, missing values, a skewed amount, and a target with a learnable but
noisy signal. Classification predicts `churned` (about one customer in four);
regression predicts `lifetime_value` (a positive, right-skewed amount).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

TARGETS = {"classification": "churned", "regression": "lifetime_value"}
BLOCK_ROWS = 50_000

PLANS = ("basic", "standard", "premium")
REGIONS = ("north", "south", "east", "west")
PAYMENT_METHODS = ("card", "bank_transfer", "invoice", "paypal")
DEVICES = ("mobile", "desktop", "tablet")


def make_dataset(task: str, n_rows: int, seed: int = 0) -> pd.DataFrame:
    """Return n_rows customers with the target of the given task, the same for a seed."""
    if task not in TARGETS:
        raise ValueError(f"unknown task {task!r} (expected one of: {', '.join(TARGETS)})")
    if n_rows < 1:
        raise ValueError(f"n_rows must be at least 1, got {n_rows}")
    return pd.concat(iter_blocks(task, n_rows, seed), ignore_index=True)


def iter_blocks(task: str, n_rows: int, seed: int = 0) -> Iterator[pd.DataFrame]:
    """The same rows as make_dataset, a block of at most BLOCK_ROWS rows at a time."""
    for block, start in enumerate(range(0, n_rows, BLOCK_ROWS)):
        yield _make_block(task, min(BLOCK_ROWS, n_rows - start), seed, block)


def _make_block(task: str, n: int, seed: int, block: int) -> pd.DataFrame:
    """The first n rows of a block; each column has its own stream, so n does not change them."""

    def draw(name: str) -> np.random.Generator:
        return np.random.default_rng([seed, block, zlib.crc32(name.encode())])

    plan = draw("plan").choice(PLANS, size=n, p=[0.5, 0.35, 0.15])
    region = draw("region").choice(REGIONS, size=n, p=[0.3, 0.3, 0.25, 0.15])
    payment = draw("payment").choice(PAYMENT_METHODS, size=n, p=[0.45, 0.25, 0.15, 0.15])
    device = draw("device").choice(DEVICES, size=n, p=[0.55, 0.35, 0.10])
    age = draw("age").normal(42, 13, n).clip(18, 90).round()
    tenure_months = draw("tenure_months").gamma(2.0, 14.0, n).clip(0, 120).round()
    plan_price = pd.Series(plan).map({"basic": 20.0, "standard": 45.0, "premium": 90.0})
    price_noise = draw("monthly_charges").lognormal(0, 0.15, n)
    monthly_charges = (plan_price.to_numpy() * price_noise).round(2)
    support_calls = draw("support_calls").poisson(1.2 + 0.8 * (plan == "basic"), n)
    usage_gb = draw("usage_gb").lognormal(2.5 + 0.4 * (device == "desktop"), 0.8, n).round(1)
    days_since_last_login = draw("days_since_last_login").exponential(12, n).round()

    # A latent risk with main effects, an interaction and a threshold, so that
    # linear models learn part of it and tree ensembles learn more.
    risk = (
        -1.6
        - 0.03 * tenure_months
        + 0.35 * support_calls
        + 0.03 * days_since_last_login
        + 0.01 * (monthly_charges - 40)
        - 0.25 * np.log1p(usage_gb)
        + 0.7 * (payment == "invoice")
        - 0.4 * (plan == "premium")
        # Non-linear parts: the young and the old leave more, complaints in the
        # south weigh more, and a long silence is a cliff, not a slope.
        + 0.002 * (np.nan_to_num(age, nan=42) - 45) ** 2
        + 1.0 * (region == "south") * (support_calls > 2)
        + 1.5 * (days_since_last_login > 30)
    )
    frame = pd.DataFrame(
        {
            "age": age,
            "tenure_months": tenure_months,
            "monthly_charges": monthly_charges,
            "support_calls": support_calls,
            "usage_gb": usage_gb,
            "days_since_last_login": days_since_last_login,
            "plan": plan,
            "region": region,
            "payment_method": payment,
            "device": device,
        }
    )
    frame[TARGETS[task]] = TARGET_VALUES[task](risk, monthly_charges, draw)

    # Missing values as real exports have them: a few ages and usage figures
    # unknown, some payment methods not recorded.
    for column, share in (("age", 0.04), ("usage_gb", 0.06), ("payment_method", 0.03)):
        frame.loc[draw(f"missing {column}").random(n) < share, column] = np.nan
    return frame


def _churned(
    risk: np.ndarray, monthly_charges: np.ndarray, draw: Callable[[str], np.random.Generator]
) -> np.ndarray:
    """Whether each customer left (1) or stayed (0), drawn with the probability of the risk."""
    probability = 1 / (1 + np.exp(-risk))
    return (draw("churned").random(len(risk)) < probability).astype("int64")


def _lifetime_value(
    risk: np.ndarray, monthly_charges: np.ndarray, draw: Callable[[str], np.random.Generator]
) -> np.ndarray:
    """What each customer pays in all: the monthly charges over the months the risk leaves
    them, with noise."""
    expected_months = 60 * np.exp(-0.5 * risk)
    noise = draw("lifetime_value").lognormal(0, 0.35, len(risk))
    return (monthly_charges * expected_months * noise).round(2)


# How the target of each task is made from the latent risk (see _make_block).
TARGET_VALUES = {"classification": _churned, "regression": _lifetime_value}

FEEDBACK_WORDS = ("slow", "great", "price", "support", "app", "cancel", "love", "bill", "easy")


def with_date_and_text(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The frame with a `signup_date` column (dates, a few missing) and a `feedback`
    column (short free text, a few missing) added: what real exports often hold."""
    rng = np.random.default_rng([seed, zlib.crc32(b"date and text")])
    n = len(frame)
    days = rng.integers(0, 3 * 365, size=n)
    dates = pd.Series(pd.Timestamp("2022-01-01") + pd.to_timedelta(days, unit="D"))
    dates[rng.random(n) < 0.03] = pd.NaT
    words = rng.choice(FEEDBACK_WORDS, size=(n, 4))
    feedback = pd.Series([" ".join(row) for row in words], dtype=object)
    feedback[rng.random(n) < 0.05] = None
    return frame.assign(signup_date=dates.to_numpy(), feedback=feedback.to_numpy())
