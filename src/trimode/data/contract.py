"""The data contract: what a mode's data looked like at its first load, checked on every
later one, so that a changed source never trains or scores silently.

At a mode's first load (its first sample, or production's first run) each column's
kind (number, boolean, date, text), whether it had missing values, its range (numbers,
dates) and its categories (text and booleans of at most CATEGORY_LIMIT distinct values)
are written to <sample_dir>/<mode>/contract.json; the manifest keeps a copy, and
`predict` checks its input against that copy. A later load that breaks the contract is
an error or a warning per check, as [contract] in configs/base.toml says; each names
the column, how many rows and an example value.

Some data are wrong whatever the contract says, and every load refuses them: a text
column of numbers but for a few values ("forty" among ages, see `mostly_numeric`), a
target of one class, a text target in a regression. Rows whose target is missing are
dropped, and the run says how many.

The checks are pandas and numpy over the loaded frame: pandera would say the same at an
import cost the commit hook pays on every commit (see the project's CHANGELOG).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trimode.config.model import Config
from trimode.core.dates import to_timestamps
from trimode.core.errors import DataError
from trimode.core.io import json_safe, json_writer, read_json
from trimode.core.kinds import EMPTY, kind_of
from trimode.core.layout import CONTRACT_FILE
from trimode.core.secrets import redact
from trimode.core.tasks import task_named
from trimode.data import sample_folder
from trimode.data.arrow_types import inexact_integers

CONTRACT_VERSION = 1
# Text or boolean columns with at most this many distinct values get a category list.
CATEGORY_LIMIT = 50
# A text column is "numbers but for a few values" when at least this share parses.
MOSTLY_NUMERIC = 0.9
# Rows the share is estimated on (every row is searched for the examples).
MOSTLY_NUMERIC_ROWS = 10_000


@dataclass
class Checked:
    """What checking a frame found: warnings to show, notes, rows dropped."""

    frame: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dropped_missing_target: int = 0


def _comparable(values: pd.Series, kind: str) -> pd.Series:
    """Values that can be compared with the recorded range (dates as timestamps)."""
    if kind == "date":
        return pd.to_datetime(values, errors="coerce", utc=True)
    return values


def source_identity(config: Config) -> dict[str, str]:
    """What names the rows a contract describes: the source (its password hidden) and the
    table or query. A contract of other rows does not apply."""
    data = config.data
    return {"source": redact(data.source), "table": data.table, "query": str(data.query)}


def record_contract(frame: pd.DataFrame, config: Config | None = None) -> dict[str, Any]:
    """The contract of a frame: per column its kind, missing values, range, categories
    (and, given the config, the source it came from)."""
    columns: dict[str, dict[str, Any]] = {}
    for name in frame.columns:
        values = frame[name]
        kind = kind_of(values)
        entry: dict[str, Any] = {"kind": kind, "missing": bool(values.isna().any())}
        present = values.dropna()
        if kind in ("number", "date") and len(present):
            comparable = _comparable(present, kind)
            entry["min"], entry["max"] = json_safe(comparable.min()), json_safe(comparable.max())
        elif kind in ("text", "boolean"):
            distinct = present.astype(str).unique()
            entry["categories"] = (
                sorted(distinct.tolist()) if len(distinct) <= CATEGORY_LIMIT else None
            )
        columns[str(name)] = entry
    contract = {"contract_version": CONTRACT_VERSION, "rows": len(frame), "columns": columns}
    if config is not None:
        contract["source"] = source_identity(config)
    return contract


def read_contract(config: Config) -> tuple[dict[str, Any] | None, list[str]]:
    """The contract of the mode's rows, or None when there is none yet, and notes: a
    contract recorded from another source (data.source, table or query changed: the
    project was pointed at other data) does not apply, and a new one is recorded."""
    path = config.sample_folder / CONTRACT_FILE
    if not path.is_file():
        return None, []
    contract = read_json(path, DataError, advice="; delete it to record the contract again")
    if contract.get("source") != source_identity(config):
        was = (contract.get("source") or {}).get("source", "an earlier source")
        return None, [f"the data contract in {path} was recorded from {was}: recording it anew"]
    return contract, []


def write_contract(config: Config, contract: dict[str, Any]) -> Path:
    """Write the contract of the mode's rows (atomically, into the claimed sample folder);
    return its path."""
    path = config.sample_folder / CONTRACT_FILE
    sample_folder.write(config, {path: json_writer(contract)})
    return path


def _example(values: pd.Series, mask: np.ndarray | pd.Series) -> str:
    """The count of rows the mask selects, and the first such value, as a message says it."""
    mask = np.asarray(mask, dtype=bool)
    first = values.to_numpy()[np.flatnonzero(mask)[0]]
    return f"{int(mask.sum()):,} of {len(values):,} rows, e.g. {json_safe(first)!r}"


def contract_breaches(
    frame: pd.DataFrame, contract: dict[str, Any], checks: tuple[str, ...] = ()
) -> list[tuple[str, str, str]]:
    """Every way the frame breaks the contract, as (check, column, one-line message); the
    checks are the keys of [contract] in the config (only those named, when given)."""
    recorded = contract.get("columns", {})
    breaches: list[tuple[str, str, str]] = []
    for name in recorded:
        if name not in frame.columns:
            breaches.append(("missing_column", name, f"column {name!r} is missing"))
    for name in map(str, frame.columns):
        if name not in recorded:
            breaches.append(("new_column", name, f"column {name!r} is new"))
    for name, entry in recorded.items():
        if name not in frame.columns:
            continue
        values = frame[name]
        kind = kind_of(values)
        if EMPTY not in (kind, entry["kind"]) and kind != entry["kind"]:
            breaches.append(
                ("type_changed", name, f"column {name!r} was {entry['kind']}, is {kind}")
            )
        empty = values.isna().to_numpy()
        if empty.any() and not entry["missing"]:
            breaches.append(
                (
                    "new_missing_values",
                    name,
                    f"column {name!r} had no missing values, has {int(empty.sum()):,} of "
                    f"{len(values):,}",
                )
            )
        if kind == entry["kind"] and entry.get("min") is not None:
            comparable = _comparable(values, kind)
            low, high = _comparable(pd.Series([entry["min"], entry["max"]]), kind)
            outside = ((comparable < low) | (comparable > high)).fillna(False).to_numpy()
            if outside.any():
                breaches.append(
                    (
                        "out_of_range",
                        name,
                        f"column {name!r} outside [{entry['min']}, {entry['max']}]: "
                        f"{_example(values, outside)}",
                    )
                )
        if entry.get("categories") is not None:
            # Compared as text: a boolean read back from CSV as "True" is the same category.
            unseen = (values.notna() & ~values.astype(str).isin(entry["categories"])).to_numpy()
            if unseen.any():
                breaches.append(
                    (
                        "new_category",
                        name,
                        f"column {name!r} has categories the contract did not see: "
                        f"{_example(values, unseen)}",
                    )
                )
    return [breach for breach in breaches if not checks or breach[0] in checks]


def unread_dates(frame: pd.DataFrame, dates: list[str]) -> list[tuple[str, str, str]]:
    """Per date column of the frame, the values present that are no date (read as missing,
    as training reads them): (check, column, one-line message), as contract_breaches."""
    found = []
    for name in [name for name in dates if name in frame.columns]:
        values = frame[name]
        unread = (to_timestamps(values).isna() & values.notna()).to_numpy()
        if unread.any():
            message = f"column {name!r} holds values that are no date, read as missing: "
            found.append(("unread_date", name, message + _example(values, unread)))
    return found


def mostly_numeric(frame: pd.DataFrame, skip: set[str]) -> list[str]:
    """Text columns whose values are numbers but for a few: one message per column
    naming the count and the values that are not numbers."""
    found = []
    for name in frame.columns:
        values = frame[name]
        if name in skip or kind_of(values) != "text":
            continue
        present = values.dropna()
        if present.empty:
            continue
        head = present.iloc[:MOSTLY_NUMERIC_ROWS]
        if pd.to_numeric(head, errors="coerce").notna().mean() < MOSTLY_NUMERIC:
            continue
        bad = pd.to_numeric(present, errors="coerce").isna()
        if bad.any():
            examples = ", ".join(repr(value) for value in present[bad].unique()[:3])
            found.append(
                f"column {name!r} holds numbers but for {int(bad.sum()):,} of "
                f"{len(present):,} values ({examples})"
            )
    return found


def date_breaches(frame: pd.DataFrame, dates: list[str], where: str) -> list[str]:
    """Text in the declared date columns ([columns] dates) that reads as no date: one
    message per column, naming how many rows and a few of their values. A
    declared date column of numbers or booleans is an error of its own: its values are
    no dates at all."""
    found = []
    for name in dates:
        if name not in frame.columns:
            continue
        values = frame[name]
        kind = kind_of(values)
        if kind in ("number", "boolean"):
            raise DataError(
                f"{where}: column {name!r} is under [columns] dates but holds {kind} values "
                f"(e.g. {json_safe(values.dropna().iloc[0])!r}): a date column holds dates or "
                "text dates; take it out of [columns] dates"
            )
        if kind != "text":
            continue
        unread = (values.notna() & to_timestamps(values).isna()).to_numpy()
        if unread.any():
            # The values, not row numbers: a sample's rows are in no order of the source's.
            shown = ", ".join(repr(value)[:40] for value in values[unread].unique()[:3])
            found.append(
                f"column {name!r} ([columns] dates) holds text that is no date in "
                f"{int(unread.sum()):,} of {len(values):,} rows: {shown}"
            )
    return found


def refuse_inexact_integers(frame: pd.DataFrame, columns: list[str], where: str) -> None:
    """Refuse numeric columns holding whole numbers a float cannot hold exactly (beyond
    2**53): a model reads numbers as floats, and their distinct values would merge. An
    identifier of that size belongs under [columns] ids (or drop), where it stays as is."""
    found = {name: inexact_integers(frame[name]) for name in columns}
    beyond = {name: value for name, value in found.items() if value is not None}
    if beyond:
        listed = ", ".join(f"{name!r} (e.g. {value!r})" for name, value in beyond.items())
        raise DataError(
            f"{where}: column(s) {listed} hold whole numbers beyond 2**53, which a float "
            "cannot hold exactly (distinct values would merge): name an identifier under "
            "[columns] ids or drop, or store the column as text"
        )


def mask_infinities(frame: pd.DataFrame) -> dict[str, int]:
    """Read the infinities of the frame's float columns as missing values (in place), as
    models and imputers know missing values and fail on infinite ones; how many each
    column held (only columns that held some)."""
    counts = {}
    for name in frame.columns:
        values = frame[name]
        if not pd.api.types.is_float_dtype(values.dtype):
            continue
        infinite = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
        if infinite.any():
            frame[name] = values.mask(infinite)
            counts[name] = int(infinite.sum())
    return counts


def infinities_read_as_missing(where: str, counts: dict[str, int]) -> list[str]:
    """One warning per column whose infinities were read as missing."""
    return [
        f"{where}: column {name!r} holds {count} infinite value(s), read as missing"
        for name, count in counts.items()
    ]


def infinities_as_missing(frame: pd.DataFrame, where: str) -> list[str]:
    """mask_infinities, in words: a target's infinity is then an unlabelled row."""
    return infinities_read_as_missing(where, mask_infinities(frame))


def check_target(frame: pd.DataFrame, config: Config, source: str) -> Checked:
    """Drop the rows whose target is missing; refuse a target that cannot be learned."""
    target = config.data.target
    where = f"data source {source!r}"
    if target not in frame.columns:
        raise DataError(
            f"{where} has no target column {target!r} (columns: "
            f"{', '.join(map(str, frame.columns))}); set data.target in "
            f"{config.file_of('data.target')}"
        )
    values = frame[target]
    missing = values.isna()
    if missing.all():
        raise DataError(f"{where}: target column {target!r} holds no values")
    checked = Checked(frame)
    if missing.any():
        checked.frame = frame[~missing.to_numpy()].reset_index(drop=True)
        checked.dropped_missing_target = int(missing.sum())
        checked.notes.append(
            f"dropped {checked.dropped_missing_target:,} of {len(frame):,} rows whose target "
            f"{target!r} is missing"
        )
    values = checked.frame[target]
    if task_named(config.task).has_classes:
        classes = values.unique()
        if len(classes) < 2:
            raise DataError(
                f"{where}: target column {target!r} holds one class only "
                f"({json_safe(classes[0])!r}): a classifier needs two or more (check "
                "data.target and the source)"
            )
    elif kind_of(values) != "number":
        bad = pd.to_numeric(values, errors="coerce").isna().to_numpy()
        got = f"text in {_example(values, bad)}" if bad.any() else f"{kind_of(values)} values"
        raise DataError(
            f'{where}: target column {target!r} must hold numbers for task = "regression", '
            f"got {got}; choose a numeric data.target (stored as numbers), or set "
            f'task = "classification" in {config.file_of("task")}'
        )
    else:
        refuse_inexact_integers(checked.frame, [target], where)
    return checked


def check_loaded(
    frame: pd.DataFrame, config: Config, source: str, contract: dict[str, Any] | None
) -> Checked:
    """Check a loaded frame: the target, the content checks, and the contract when there is
    one. A check whose verdict is "error" raises DataError (every such breach in one
    line); the others become warnings."""
    infinite = infinities_as_missing(frame, f"data source {source!r}")
    checked = check_target(frame, config, source)
    checked.warnings[:0] = infinite
    columns = config.columns
    skip = {*columns.text, *columns.ids, *columns.drop, *columns.dates}
    # Numbers that become a model's features: checked before a sample is written.
    features = [name for name in checked.frame.columns if name not in skip]
    features = [name for name in features if name != config.data.target]
    refuse_inexact_integers(checked.frame, features, f"data source {source!r}")
    breaches = [("mostly_numeric", message) for message in mostly_numeric(checked.frame, skip)]
    breaches += [
        ("unreadable_date", message)
        for message in date_breaches(checked.frame, columns.dates, f"data source {source!r}")
    ]
    if contract is not None:
        # Columns dropped on purpose may come and go: the model never reads them.
        breaches += [
            (check, message)
            for check, column, message in contract_breaches(checked.frame, contract)
            if column not in columns.drop
        ]
    errors = []
    for check, message in breaches:
        if getattr(config.contract, check) == "error":
            errors.append((check, message))
        else:
            checked.warnings.append(f'data contract: {message} (contract.{check} = "warn")')
    if errors:
        checks = {check for check, _ in errors}
        base = config.config_dir / "base.toml"
        if checks == {"mostly_numeric"}:
            advice = (
                "fix those values, or name the column under [columns] text or ids in "
                f'{base}, or set contract.mostly_numeric = "warn"'
            )
        elif checks == {"unreadable_date"}:
            advice = (
                "fix those values, or take the column out of [columns] dates in "
                f'{base}, or set contract.unreadable_date = "warn"'
            )
        else:
            advice = (
                "fix the data; if it changed for good, delete "
                f"{config.sample_folder / CONTRACT_FILE} to record it anew, or set "
                f'{", ".join(f"contract.{check}" for check in sorted(checks))} = "warn" in {base}'
            )
        raise DataError(
            f"data source {source!r} breaks the data contract: "
            f"{'; '.join(message for _, message in errors)} ({advice})"
        )
    return checked
