"""`serve`'s request rows: a JSON body read into the rows `predict` scores, or one line
saying what is wrong with it.

A body is rows as records (a list of objects, one per row) or as columns (an object of
lists of equal length). Each row is checked against a pydantic model made from the
model's manifest (`row_model`): the columns the model reads and the ID columns, each
required, none other; numbers where training had numbers, text elsewhere, null for a
missing value. The same model is the request's schema in the OpenAPI document. The rows
then go through the one scoring of batch `predict` (ScoringModel.score): its schema
check, its data contract, the project's add_features inside the model.

JSON allows numbers that no float holds (1e400, a 30-digit integer) and Python's reader
also takes NaN and Infinity: they are read as markers the checks name with their row and
column, never as a float that silently became infinite or inexact.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Annotated, Any

import pyarrow as pa
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic import create_model as pydantic_model
from pydantic_core import PydanticCustomError

from trimode.core.secrets import redact
from trimode.workflows.predict import ScoringModel, numeric_inputs

# A number a float holds exactly (ints beyond it would merge); an ID fits an int64.
EXACT_INTEGER = 2**53
INT64 = 2**63 - 1
# How much of a bad value a message shows.
SHOWN_CHARACTERS = 60


class BadRequest(Exception):
    """A request the server refuses: an HTTP status (4xx) and one line saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Unreadable:
    """A JSON number or constant no float holds as written (1e400, NaN, Infinity)."""

    text: str

    def __repr__(self) -> str:
        return self.text


def shown(value: Any) -> str:
    """A value as a message shows it: its repr, cut short, credentials hidden."""
    text = repr(value)
    if len(text) > SHOWN_CHARACTERS:
        text = text[:SHOWN_CHARACTERS] + "..."
    return redact(text)


def _float(text: str) -> float | Unreadable:
    value = float(text)
    return value if math.isfinite(value) else Unreadable(text)


def parse_json(body: bytes) -> Any:
    """The body as JSON data; numbers beyond a float and NaN/Infinity as Unreadable."""
    try:
        return json.loads(body, parse_float=_float, parse_constant=Unreadable)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest(400, f"the body is not JSON: {redact(error)}") from None
    except RecursionError:
        raise BadRequest(
            400, "the body is not JSON this server reads: it nests too deeply"
        ) from None


def _refused(kind: str, value: Any) -> PydanticCustomError:
    return PydanticCustomError(
        "value", "{expected}, got {value}", {"expected": kind, "value": value}
    )


def _number(value: Any) -> float | None:
    """A numeric input: a JSON number a float holds exactly, or null."""
    if value is None:
        return None
    if isinstance(value, Unreadable):
        raise PydanticCustomError(
            "value",
            "expected a finite number or null, got {value} (a float holds no such value)",
            {"value": value.text},
        )
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > EXACT_INTEGER:
            raise PydanticCustomError(
                "value",
                "expected a number a float holds exactly, got {value} (beyond 2**53)",
                {"value": shown(value)},
            )
        return float(value)
    if isinstance(value, float):
        return value
    raise _refused("expected a number or null", shown(value))


def _text(value: Any) -> str | None:
    """A categorical, date or text input: a JSON string, or null."""
    if value is None or isinstance(value, str):
        return value
    raise _refused("expected a string or null", shown(value))


def _identifier(value: Any) -> str | int | None:
    """An ID column's value, echoed as sent: a string, an integer of int64's range, null."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= INT64:
        return value
    raise _refused("expected a string, an integer within int64 or null", shown(value))


Number = Annotated[float | None, BeforeValidator(_number)]
Text = Annotated[str | None, BeforeValidator(_text)]
Identifier = Annotated[str | int | None, BeforeValidator(_identifier)]
# list, subscripted below with a column's type known at run time only.
LIST: Any = list


@dataclass(frozen=True)
class RequestRows:
    """The rows a model's requests hold: their columns, the row model checking them."""

    ids: list[str]
    inputs: list[str]
    numeric: list[str]
    row: type[BaseModel]
    columns_model: type[BaseModel]
    # Checks a list of rows (made once: a request only runs it).
    adapter: TypeAdapter

    @property
    def names(self) -> list[str]:
        """Every column a row holds: the IDs, then the model's inputs."""
        return [*self.ids, *self.inputs]


def request_rows(model: ScoringModel) -> RequestRows:
    """The request's columns for this model, from its manifest: the ID columns (role
    "id"), then the columns it reads, numbers where training read numbers."""
    roles = model.features.get("roles", {})
    inputs = model.columns
    ids = [name for name, role in roles.items() if role == "id" and name not in inputs]
    numeric = numeric_inputs(model.features)
    kinds: dict[str, Any] = dict.fromkeys(ids, Identifier)
    kinds |= {name: Number if name in numeric else Text for name in inputs}
    # Column names need not be Python names: each field takes its column name as alias.
    forbid = ConfigDict(extra="forbid")
    row_fields: dict[str, Any] = {}
    column_fields: dict[str, Any] = {}
    for index, (name, kind) in enumerate(kinds.items()):
        row_fields[f"column_{index}"] = (kind, Field(..., alias=name, title=name))
        column_fields[f"column_{index}"] = (LIST[kind], Field(..., alias=name, title=name))
    row = pydantic_model("Row", __config__=forbid, **row_fields)
    columns_model = pydantic_model("Columns", __config__=forbid, **column_fields)
    adapter = TypeAdapter(LIST[row])
    return RequestRows(ids, inputs, numeric, row, columns_model, adapter)


def read_rows(body: bytes, rows: RequestRows, max_rows: int) -> dict[str, list]:
    """The body's rows, checked: {column: values} for every column of rows.names.
    BadRequest names the row, the column and the value of the first fault."""
    data = parse_json(body)
    records = as_records(data)
    if not records:
        raise BadRequest(422, "no rows to predict: send at least one row")
    if len(records) > max_rows:
        raise BadRequest(
            413, f"{len(records):,} rows: a request may hold at most {max_rows:,} (serve.max_rows)"
        )
    try:
        rows.adapter.validate_python(records)
    except ValidationError as error:
        raise BadRequest(422, validation_message(error, rows)) from None
    # The values as sent (the checks above changed none but ints to floats).
    values = {name: [record[name] for record in records] for name in rows.names}
    for name in rows.numeric:
        values[name] = [None if value is None else float(value) for value in values[name]]
    return values


def as_records(data: Any) -> list[dict[str, Any]]:
    """Rows as records, from records or from columns (an object of lists of one length)."""
    if isinstance(data, list):
        for index, record in enumerate(data):
            if not isinstance(record, dict):
                raise BadRequest(
                    422,
                    f"row {index + 1}: expected an object of column values, got {shown(record)}",
                )
        return data
    if isinstance(data, dict):
        lengths = {}
        for name, values in data.items():
            if not isinstance(values, list):
                raise BadRequest(
                    422,
                    f"column {shown(name)}: expected a list of values (rows as columns), "
                    f"got {shown(values)}",
                )
            lengths[name] = len(values)
        if len(set(lengths.values())) > 1:
            listed = ", ".join(f"{shown(name)} {count}" for name, count in lengths.items())
            raise BadRequest(422, f"columns of different lengths: {listed}")
        count = next(iter(lengths.values()), 0)
        return [{name: data[name][index] for name in data} for index in range(count)]
    raise BadRequest(
        422,
        f"expected rows as a list of objects or columns as an object of lists, got {shown(data)}",
    )


def validation_message(error: ValidationError, rows: RequestRows) -> str:
    """The first fault of a validation error, in one line: the row, the column, the value."""
    fault = error.errors()[0]
    location = fault["loc"]
    row = int(location[0]) + 1 if location and isinstance(location[0], int) else None
    column = str(location[1]) if len(location) > 1 else None
    where = f"row {row}" if row is not None else "the rows"
    if fault["type"] == "missing":
        return f"{where}: missing column {shown(column)} (a row holds: {', '.join(rows.names)})"
    if fault["type"] == "extra_forbidden":
        return f"{where}: unknown column {shown(column)} (a row holds: {', '.join(rows.names)})"
    return f"{where}, column {shown(column)}: {redact(fault['msg'])}"


def rows_table(values: dict[str, list], rows: RequestRows) -> pa.Table:
    """The model's input columns as the Arrow table `ScoringModel.score` reads: numbers as
    float64, the rest as text (as `predict` reads a CSV file's)."""
    return pa.table(
        {
            name: pa.array(values[name], pa.float64() if name in rows.numeric else pa.string())
            for name in rows.inputs
        }
    )
