"""Behavioural expectations: what people learn about a model, checked on every commit.

Three kinds, after the behavioural tests of Made-With-ML (and of CheckList before it):

- `Directional`: adding `change` to a numeric feature moves what the expectation watches
  only one way ("up" or "down"), by more than `tolerance` never the other way;
- `Invariant`: setting a feature to each of `values` moves it by at most `tolerance`;
- `Examples`: hand-written rows get the expected outcome (minimum functionality).

What an expectation watches is the task's (tasks.py): the probability of a class for
classification (`of_class`; with two classes, by default the second), the prediction
for regression. They are checked on the held-out rows of a run (at most MAX_ROWS of
them, the first in the split's order, so the same rows for a seed). You write them in
expectations.py; test mode runs one test per expectation, the report shows them.

An expectation names columns of a data set. When a column or a class it names is not a
feature or a class of the model, it cannot be checked; what happens then depends on
who wrote it for which data (`built_in_data`):

- True (the expectations the project ships, written for the built-in data set): it is
  *not applicable*: the report says so with the reason, and test mode skips it with the
  reason, visible in pytest's summary (-ra). Pointing the project at your own table
  then neither breaks the commit nor passes an expectation that was never checked.
- False (the default, yours): it *fails*, naming the column: an expectation you wrote
  for your data that names a column it lacks is a typo or a stale expectation, and
  must not pass unseen.
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from trimode.core.errors import ConfigError
from trimode.core.specs import FeatureSchema
from trimode.core.tasks import DoesNotFit, Task

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

# The held-out rows checked at most: enough to find a violation, cheap on every commit.
MAX_ROWS = 1_000
# The rows that broke an expectation its message lists at most (its evidence keeps all).
SHOWN_ROWS = 10

PASSED, FAILED, NOT_APPLICABLE = "passed", "failed", "not applicable"


@dataclass(frozen=True)
class Expectation:
    """What every expectation has: a description, said in the words of what it expects
    (the test's name and the report's line), the class whose probability it watches
    (classification), the share of the checked rows allowed to break it, and whether it
    was written for the built-in data set."""

    description: str
    _: KW_ONLY
    of_class: Any = None
    # A model fitted on a few thousand rows is not smooth everywhere: 0.05 lets one row
    # in twenty break the expectation (the evidence still lists them); 0, none.
    allowed_share: float = 0.0
    built_in_data: bool = False

    def __post_init__(self) -> None:
        # A bound of NaN makes every comparison false: the check could never fail.
        for name, value in self.bounds().items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ConfigError(
                    f"expectation {self.description!r}: {name} must be a number, got {value!r}"
                )
            # An outcome's range may be open (inf); a tolerance or a change may not.
            if math.isnan(value) or (math.isinf(value) and not name.startswith("expected")):
                raise ConfigError(
                    f"expectation {self.description!r}: {name} must be a finite number (not "
                    f"nan or inf), got {value!r}"
                )
        if not 0 <= self.allowed_share <= 1:
            raise ConfigError(
                f"expectation {self.description!r}: allowed_share must lie in [0, 1], got "
                f"{self.allowed_share!r}"
            )

    def bounds(self) -> dict[str, Any]:
        """The numbers the check compares with (its float fields), by name."""
        return {
            item.name: getattr(self, item.name) for item in fields(self) if item.type == "float"
        }

    @property
    def kind(self) -> str:
        """The kind of expectation: its class's name."""
        return type(self).__name__

    def columns(self) -> list[str]:
        """The columns the expectation names."""
        raise NotImplementedError

    def evaluate(
        self, model: Pipeline, rows: pd.DataFrame, task: Task, schema: FeatureSchema
    ) -> Outcome:
        """Check the expectation on rows whose columns it names are features of the model."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class Directional(Expectation):
    """Adding `change` to `feature` moves the watched value `direction` ("up" or "down"):
    a row where it moves the other way by more than `tolerance` breaks it."""

    feature: str
    change: float
    direction: Literal["up", "down"]
    tolerance: float = 0.0

    def columns(self) -> list[str]:
        return [self.feature]

    def evaluate(
        self, model: Pipeline, rows: pd.DataFrame, task: Task, schema: FeatureSchema
    ) -> Outcome:
        if self.direction not in ("up", "down"):
            raise DoesNotFit(f'direction must be "up" or "down", got {self.direction!r}')
        if self.feature not in schema.numeric:
            raise DoesNotFit(f"column {self.feature!r} is not numeric: nothing to add a change to")
        values = pd.to_numeric(rows[self.feature], errors="coerce")
        known = values.notna().to_numpy()  # a missing value plus a change is still missing
        rows = rows[known]
        changed = rows.assign(**{self.feature: values.to_numpy()[known] + self.change})
        name, (before, after) = _watched(task, model, [rows, changed], self.of_class)
        moved = after - before
        broken = moved < -self.tolerance if self.direction == "up" else moved > self.tolerance
        evidence = pd.DataFrame(
            {
                self.feature: rows[self.feature],
                f"{self.feature} {self.change:+g}": changed[self.feature],
                f"{name} before": before,
                f"{name} after": after,
                "moved": moved,
            },
            index=rows.index,
        )[broken]
        wrong_way = "down" if self.direction == "up" else "up"
        found = f"{name} went {wrong_way} by up to {np.abs(evidence['moved']).max():.4g}"
        return _outcome(self, len(rows), evidence, found)


@dataclass(frozen=True, kw_only=True)
class Invariant(Expectation):
    """Setting `feature` to each of `values` moves the watched value by at most
    `tolerance`: a row where it spreads further breaks it."""

    feature: str
    values: list[Any]
    tolerance: float

    def columns(self) -> list[str]:
        return [self.feature]

    def evaluate(
        self, model: Pipeline, rows: pd.DataFrame, task: Task, schema: FeatureSchema
    ) -> Outcome:
        if len(self.values) < 2:
            raise DoesNotFit(f"give at least two values to compare, got {self.values!r}")
        variants = [rows.assign(**{self.feature: value}) for value in self.values]
        name, watched = _watched(task, model, variants, self.of_class)
        evidence = pd.DataFrame(
            {
                f"{name}, {self.feature}={value}": got
                for value, got in zip(self.values, watched, strict=True)
            },
            index=rows.index,
        )
        evidence["spread"] = evidence.max(axis=1) - evidence.min(axis=1)
        evidence = evidence[evidence["spread"] > self.tolerance]
        widest = evidence["spread"].max()
        found = f"{name} spread by up to {widest:.4g} (tolerance {self.tolerance})"
        return _outcome(self, len(rows), evidence, found)


@dataclass(frozen=True, kw_only=True)
class Examples(Expectation):
    """Hand-written rows (a dict of column values each; columns left out are missing, as
    the preprocessing fills them) get the expected outcome: a label each for
    classification, a (low, high) range of the prediction each for regression."""

    rows: list[dict[str, Any]]
    expected: list[Any]

    def bounds(self) -> dict[str, Any]:
        """The float fields, and the numbers of the expected outcomes (regression's
        (low, high) ranges, open with inf); labels (text, integers) bound nothing."""
        found = super().bounds()
        for number, outcome in enumerate(self.expected, start=1):
            ranged = isinstance(outcome, list | tuple)
            for end, value in enumerate(outcome if ranged else [outcome]):
                if isinstance(value, float):
                    found[f"expected[{number}]" + (f"[{end}]" if ranged else "")] = value
        return found

    def columns(self) -> list[str]:
        return list(dict.fromkeys(column for row in self.rows for column in row))

    def evaluate(
        self, model: Pipeline, rows: pd.DataFrame, task: Task, schema: FeatureSchema
    ) -> Outcome:
        if len(self.rows) != len(self.expected) or not self.rows:
            raise DoesNotFit(
                f"{len(self.rows)} rows but {len(self.expected)} expected outcomes: "
                "give one for each row"
            )
        index = pd.Index([f"example {number}" for number in range(1, len(self.rows) + 1)])
        written = pd.DataFrame(self.rows, index=index)
        examples = written.reindex(columns=rows.columns)
        predicted, met = task.meets_examples(model, examples, list(self.expected))
        evidence = written.assign(expected=[str(item) for item in self.expected], got=predicted)
        evidence = evidence[~np.asarray(met, dtype=bool)]
        return _outcome(self, len(examples), evidence, "the model gave another outcome")


@dataclass(frozen=True)
class Outcome:
    """The result of checking one expectation: passed, failed or not applicable; how many
    rows were checked; what was found (one line); and the evidence: the rows that broke
    it (index: the rows' index values, or "example <n>") and their values."""

    expectation: Expectation
    status: str
    rows_checked: int
    found: str = ""
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def summary(self) -> str:
        """One line: the status, how many rows broke it out of how many, what was found."""
        broken = f"{len(self.evidence)} of {self.rows_checked} rows"
        allowed = f"at most {self.expectation.allowed_share:.0%} allowed"
        if self.status == PASSED:
            if self.evidence.empty:
                return f"passed on {self.rows_checked} rows"
            return f"passed: {broken} broke it ({allowed}): {self.found}"
        if self.status == NOT_APPLICABLE:
            return f"not applicable: {self.found}"
        if self.evidence.empty:
            return f"failed: {self.found}"
        if self.expectation.allowed_share:
            return f"failed on {broken} ({allowed}): {self.found}"
        return f"failed on {broken}: {self.found}"

    def message(self) -> str:
        """The expectation, the summary, and the rows that broke it with their values."""
        head = f"{self.expectation.kind} {self.expectation.description!r}: {self.summary}"
        if self.evidence.empty:
            return head
        shown = self.evidence.head(SHOWN_ROWS)
        more = len(self.evidence) - len(shown)
        rows = ", ".join(map(str, shown.index))
        table = shown.to_string(float_format=lambda value: f"{value:.4g}")
        tail = f"\n... and {more} more rows" if more else ""
        return f"{head}\nrows {rows}{' ...' if more else ''}:\n{table}{tail}"


def _watched(
    task: Task, model: Pipeline, frames: list[pd.DataFrame], of_class: Any
) -> tuple[str, list[np.ndarray]]:
    """What the task watches on each frame, in one call to the model (one pass of the
    preprocessing instead of one per frame): its name and the values per frame."""
    name, values = task.watched(model, pd.concat(frames, ignore_index=True), of_class)
    ends = np.cumsum([len(frame) for frame in frames])[:-1]
    return name, np.split(np.asarray(values), ends)


def _outcome(expectation: Expectation, checked: int, evidence: pd.DataFrame, found: str) -> Outcome:
    if checked == 0:
        return Outcome(expectation, FAILED, 0, "no row to check (the column is always missing)")
    if evidence.empty:
        return Outcome(expectation, PASSED, checked)
    passed = len(evidence) <= expectation.allowed_share * checked
    return Outcome(expectation, PASSED if passed else FAILED, checked, found, evidence)


def _does_not_fit(expectation: Expectation, reason: str) -> Outcome:
    """An expectation that cannot be checked on this model: not applicable when it was
    written for the built-in data set, failed when it is yours (see the module's docstring)."""
    if expectation.built_in_data:
        return Outcome(
            expectation,
            NOT_APPLICABLE,
            0,
            f"{reason} (an expectation about the built-in data set, in expectations.py: "
            "write your own for your data, then delete it)",
        )
    return Outcome(expectation, FAILED, 0, f"{reason} (fix it in expectations.py)")


def check(
    expectation: Expectation,
    model: Pipeline,
    rows: pd.DataFrame,
    task: Task,
    schema: FeatureSchema,
) -> Outcome:
    """Check one expectation on rows (the held-out rows, at most MAX_ROWS of them)."""
    features = schema.columns
    for column in expectation.columns():
        if column not in features:
            where = "a feature of the model" if column in rows.columns else "in your data"
            return _does_not_fit(expectation, f"column {column!r} is not {where}")
    try:
        return expectation.evaluate(model, rows.head(MAX_ROWS), task, schema)
    except DoesNotFit as error:
        return _does_not_fit(expectation, str(error))
    except (TypeError, ValueError) as error:  # e.g. a value of another type than the column's
        reason = " ".join(str(error).split())
        return _does_not_fit(expectation, f"the model cannot score the rows it makes: {reason}")


def check_all(
    expectations: list[Expectation],
    model: Pipeline,
    rows: pd.DataFrame,
    task: Task,
    schema: FeatureSchema,
) -> list[Outcome]:
    """Check each expectation on the rows of a model built for the schema (the one its run
    recorded); the outcomes in the same order."""
    return [check(expectation, model, rows, task, schema) for expectation in expectations]
