"""What a column's Arrow type means to a run, decided once where data enter.

Every source (files, a database, the built-in set) gives Arrow batches; before any row
reaches sampling, loading or predict, its schema goes through `readable_schema` and its
batches through `conform`:
- decimals (Parquet decimal128/decimal256, SQL NUMERIC) are numbers: float64, whose 15
  to 17 significant digits hold any measurement exactly enough; whole numbers a float
  cannot hold exactly are refused where they would become features (see
  `inexact_integers`);
- nested values (lists, structs, maps, unions) are no column a model can read: one line
  naming the column;
- files that lack a column get it as missing values (see files.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from trimode.core.errors import DataError

# Whole numbers beyond this lose digits as float64 (2**53 + 1 reads as 2**53).
FLOAT_EXACT = 2**53


def _nested(kind: pa.DataType) -> bool:
    types = pa.types
    return (
        types.is_list(kind)
        or types.is_large_list(kind)
        or types.is_fixed_size_list(kind)
        or types.is_struct(kind)
        or types.is_map(kind)
        or types.is_union(kind)
        or (types.is_dictionary(kind) and _nested(kind.value_type))
    )


def readable_type(kind: pa.DataType) -> pa.DataType:
    """The type a column of this Arrow type is read as: float64 for decimals, itself
    otherwise."""
    return pa.float64() if pa.types.is_decimal(kind) else kind


def readable_schema(schema: pa.Schema, source: str) -> pa.Schema:
    """The schema the rest of the run sees; a nested column is an error naming it."""
    nested = [field for field in schema if _nested(field.type)]
    if nested:
        listed = ", ".join(f"{field.name!r} ({field.type})" for field in nested)
        raise DataError(
            f"data source {source}: column(s) {listed} hold nested values (lists, structs or "
            "maps): a model reads flat columns of numbers, text, booleans or dates; flatten "
            "them into columns of their own, or leave them out of the source (e.g. a "
            "data.query that selects the others)"
        )
    return pa.schema(
        [field.with_type(readable_type(field.type)) for field in schema],
        metadata=schema.metadata,
    )


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch in the readable schema: decimals as floats, a column the batch lacks as
    missing values, the schema's column order."""
    if batch.schema.equals(schema):
        return batch
    arrays = []
    for field in schema:
        index = batch.schema.get_field_index(field.name)
        if index < 0:
            arrays.append(pa.nulls(batch.num_rows, field.type))
            continue
        values = batch.column(index)
        if values.type != field.type:
            # Decimals to floats are not exact by definition: safe=False allows it.
            values = values.cast(field.type, safe=not pa.types.is_decimal(values.type))
        arrays.append(values)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def inexact_integers(values: pd.Series) -> int | float | None:
    """The first whole number of a numeric column that a float cannot hold exactly
    (|x| > 2**53), or None: integers of 20 digits, uint64 IDs, or such numbers already
    read as floats (a CSV column of them), whose distinct values would merge."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    present = values.dropna()
    if not len(present):
        return None
    if pd.api.types.is_integer_dtype(present):
        numbers = present.to_numpy()
        # Two comparisons, not abs(): abs() of the smallest int64 overflows.
        beyond = numbers > FLOAT_EXACT
        if numbers.dtype.kind == "i":
            beyond |= numbers < -FLOAT_EXACT
        beyond = np.flatnonzero(beyond)
        return int(numbers[beyond[0]]) if len(beyond) else None
    numbers = present.to_numpy(dtype="float64")
    # Floats read from whole numbers: every value whole, some beyond 2**53.
    if not np.isfinite(numbers).all() or not (numbers == np.round(numbers)).all():
        return None
    beyond = np.flatnonzero(np.abs(numbers) > FLOAT_EXACT)
    # Shown as the float it became (its last digits are lost already).
    return float(numbers[beyond[0]]) if len(beyond) else None
