"""The rows a run uses: the mode's local sample, or every row of the source.

`data.max_rows` decides. Above 0 (test and human mode), the run reads a uniform
sample of that many rows kept under data/<mode>/, fetching it from the source
first when it is missing or was made with other settings (see sampling.py).
At 0 (production), the run reads every row of the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

from trimode.config.model import Config
from trimode.core.errors import DataError
from trimode.core.layout import SAMPLE_FILE
from trimode.core.secrets import redact
from trimode.data.contract import check_loaded, read_contract, record_contract, write_contract
from trimode.data.files import read_all_with_dask
from trimode.data.sampling import FetchResult, ensure_sample, read_meta, unlabelled_note
from trimode.data.sources import is_file_source, read_all


@dataclass(frozen=True)
class LoadedData:
    """The rows of a run, where they came from, and the fetch it needed, if any."""

    frame: pd.DataFrame
    # The source, its password hidden.
    source: str
    sample_path: Path | None
    fetched: FetchResult | None = None
    # What the user should hear about the data (a source that could not be checked,
    # rows dropped) and what breaks the data contract without stopping the run.
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The data contract the rows were checked against (recorded now, at the first load).
    contract: dict[str, Any] | None = None
    # Rows left out because their target is missing.
    dropped_missing_target: int = 0


def load_dataset(config: Config, fetch: bool = True) -> LoadedData:
    """Return the rows the configured mode uses, checked against the mode's data contract
    (recorded at its first load) and with the rows whose target is missing left out.

    fetch=False reads the mode's sample as it is, never fetching it again (a report
    describes the rows its model was trained on, not the source's rows of today)."""
    source = redact(config.data.source)
    fetched, sample_path, left_out = None, None, 0
    notes: list[str] = []
    read_warnings: list[str] = []
    if config.data.max_rows:
        sample_path = config.sample_folder / SAMPLE_FILE
        if fetch:
            fetched, notes = ensure_sample(config)
        elif not sample_path.is_file():
            raise DataError(
                f"no sample of {config.mode} mode's rows at {sample_path}: run "
                f"`fetch-sample --mode {config.mode}`, or `train --mode {config.mode}`"
            )
        frame = pd.read_parquet(sample_path)
        # Rows without a target never enter a sample: the fetch counted them.
        meta = read_meta(config.sample_folder) or {}
        left_out = meta.get("rows_without_target") or 0
        notes += unlabelled_note(meta, config.data.target)
    else:
        labelled = _Labelled(config.data.target)
        if config.compute.engine == "dask" and is_file_source(config.data):
            table = labelled(read_all_with_dask(config.data))
        else:
            table, read_warnings = read_all(config.data, config.task, keep=labelled)
        left_out = labelled.left_out
        notes += unlabelled_note(
            {"rows_without_target": left_out, "rows_seen": table.num_rows + left_out},
            config.data.target,
        )
        # Without the pandas metadata a writer stored, columns get pandas' default types
        # (text as `str`, missing as NaN), whoever wrote the files. Consolidated blocks
        # (no split_blocks): splitting and hashing 1M rows were 1.5 times faster so.
        frame = table.replace_schema_metadata(None).to_pandas()
        del table
        # Arrow's allocator keeps what it freed (the file's decoding, the batches): give
        # it back before the fit, the run's peak (flights: 109 MiB of 429).
        pa.default_memory_pool().release_unused()
    contract, contract_notes = read_contract(config)
    checked = check_loaded(frame, config, source, contract)
    if contract is None:
        contract = record_contract(checked.frame, config)
        write_contract(config, contract)
    fetch_notes = [note for note in (fetched.notes if fetched else []) if note not in notes]
    if fetched is not None:  # what the fetch warned of about reading the source
        read_warnings = [item for item in fetched.warnings if item not in checked.warnings]
    return LoadedData(
        checked.frame,
        source,
        sample_path,
        fetched,
        [*notes, *fetch_notes, *contract_notes, *checked.notes],
        [*read_warnings, *checked.warnings],
        contract,
        left_out + checked.dropped_missing_target,
    )


# A table or one batch of it: what _Labelled filters.
Rows = TypeVar("Rows", pa.Table, pa.RecordBatch)


class _Labelled:
    """Keeps the rows whose target is known, of each table or batch it is given, and
    counts those it left out. Filtered in Arrow: an integer target with missing values
    stays integers (pandas would make them floats, and labels 0/1 would become 0.0/1.0);
    rows that all hold a target are kept as they are (no copy)."""

    def __init__(self, target: str) -> None:
        self.target, self.left_out = target, 0

    def __call__(self, rows: Rows) -> Rows:
        """The rows of `rows` whose target is known."""
        import pyarrow.compute as pc

        if self.target not in rows.schema.names or not rows.column(self.target).null_count:
            return rows  # a missing target: the check names it
        kept = rows.filter(pc.is_valid(rows.column(self.target)))
        self.left_out += rows.num_rows - kept.num_rows
        return kept
