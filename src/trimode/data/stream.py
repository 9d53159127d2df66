"""A source opened for reading: what every kind of source gives the rest of the data
layer (sampling, loading, predict), a stream of Arrow record batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from trimode.data.arrow_types import conform, readable_schema


@dataclass
class Source:
    """A source opened for reading: its description, its schema and its batches."""

    description: str
    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    # Rows in the source when it is cheap to know (Parquet metadata, synthetic), else None.
    total_rows: int | None = None
    # What the user should be warned of about how it was read (files that lack columns).
    warnings: list[str] = field(default_factory=list)
    # The decimal mark of numbers written as text (a CSV file's: "," in many locales).
    decimal_point: str = "."

    def __post_init__(self) -> None:
        # Every source's columns mean what they say from here on (see arrow_types.py).
        self.schema = readable_schema(self.schema, self.description)
        self.batches = (conform(batch, self.schema) for batch in self.batches)
