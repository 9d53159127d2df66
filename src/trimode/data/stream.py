"""A source opened for reading: what every kind of source gives the rest of the data
layer (sampling, loading, predict), a stream of Arrow record batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa


@dataclass
class Source:
    """A source opened for reading: its description, its schema and its batches."""

    description: str
    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    # Rows in the source when it is cheap to know (Parquet metadata, synthetic), else None.
    total_rows: int | None = None
