"""Fetch a local sample of the source: streamed, deterministic, schema-checked.

The sample is a bottom-k hash sample: every row gets a pseudo-random key, a hash
of its content and the seed, and the sample is the k rows with the smallest keys.
It is a uniform sample without replacement; it depends on the rows and the seed
only, not on batch sizes or row order; and it is computed while streaming, keeping
at most k rows (per class, when stratified) plus one batch in memory.

The sample goes to data/<mode>/sample.parquet, with sample.meta.json beside it:
source (its password hidden), rows seen and kept, seed, schema, content hash, time,
a fingerprint of the source (files: count, size, modification time; a database: the
rows of the table or query), and the copies written with it for spreadsheets and
scripts, sample.csv and sample.xlsx, when data.sample_formats asks (see
spreadsheets.py). A later fetch compares the source's
schema with the stored one and reports what changed; a run whose source or sampling
settings changed since the fetch fetches again, so it never trains on a stale sample.
A sample is checked against the mode's data contract before it is written, and the
first one records the contract (see contract.py).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from trimode.config.model import Config, DataConfig
from trimode.core.errors import DataError
from trimode.core.io import json_writer, read_json, remove_stale_temporaries
from trimode.core.layout import META_FILE, SAMPLE_FILE
from trimode.core.locations import SYNTHETIC
from trimode.core.progress import rows as progress_rows
from trimode.core.secrets import redact
from trimode.core.stopping import interrupts_held
from trimode.core.tasks import task_named
from trimode.core.writes import stamp
from trimode.data import sample_folder
from trimode.data.contract import check_loaded, read_contract, record_contract, write_contract
from trimode.data.sources import open_source, source_fingerprint
from trimode.data.spreadsheets import Writer, plan_copies
from trimode.data.stream import Source
from trimode.data.timeouts import SourceTimeout

_KEY = "__sample_key"


@dataclass(frozen=True)
class SchemaDrift:
    """How the source's columns changed since the last fetch."""

    added: dict[str, str] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    retyped: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.retyped)

    def describe(self) -> str:
        """One line per kind of change, e.g. "added: plan (string)"."""
        lines = []
        if self.added:
            lines.append("added: " + ", ".join(f"{n} ({t})" for n, t in self.added.items()))
        if self.removed:
            lines.append("removed: " + ", ".join(f"{n} ({t})" for n, t in self.removed.items()))
        if self.retyped:
            lines.append(
                "retyped: " + ", ".join(f"{n} ({a} -> {b})" for n, (a, b) in self.retyped.items())
            )
        return "; ".join(lines)


@dataclass(frozen=True)
class FetchResult:
    """Where the sample went, what its metadata says, and how the schema drifted."""

    path: Path
    meta: dict[str, Any]
    drift: SchemaDrift
    # Why the fetch happened, when a run made it ("no sample yet", "the source changed").
    reason: str = ""
    # What breaks the data contract without stopping the fetch.
    warnings: list[str] = field(default_factory=list)
    # What the user should hear: rows without a target left out, a new contract.
    notes: list[str] = field(default_factory=list)


def sample_settings(config: Config) -> dict[str, Any]:
    """The settings that decide a sample's content; a change means a new fetch."""
    data, group = config.data, config.columns.group
    return {
        "source": redact(data.source),
        "table": data.table,
        "query": str(data.query),
        "sample_rows": data.max_rows,
        "seed": config.train.seed,
        # Rows of one group share a key (their group's): whole groups are sampled, so
        # classes cannot be stratified row by row.
        "stratify": data.stratify and task_named(config.task).has_classes and not group,
        "group": group or None,
        "synthetic_rows": data.synthetic_rows if data.source.reveal() == SYNTHETIC else None,
    }


def read_meta(folder: Path) -> dict[str, Any] | None:
    """The metadata of the sample in folder, or None when there is none."""
    path = folder / META_FILE
    return read_json(path, DataError, advice="; run fetch-sample again") if path.exists() else None


def fetch_sample(config: Config, reason: str = "") -> FetchResult:
    """Stream the source and write the mode's sample and its metadata; return both."""
    if config.data.max_rows < 1:
        raise DataError(
            f"{config.mode} mode samples no rows: set data.max_rows to the sample size "
            f"({config.where('data.max_rows')})"
        )
    folder = sample_folder.claim(config)  # a folder it may not write into: before the work
    settings = sample_settings(config)
    fingerprint = source_fingerprint(config.data)
    source = open_source(config.data, config.task)
    schema = _schema_of(source.schema)
    previous = read_meta(folder)
    drift = schema_drift(previous["schema"], schema) if previous else SchemaDrift()
    # Files in the way of the copies are refused before the source is read.
    copies = plan_copies(
        folder, config.data.sample_formats, previous, config.where("data.sample_formats")
    )
    target = config.data.target if settings["stratify"] else None
    if target is not None and target not in source.schema.names:
        raise DataError(
            f"data source {source.description} has no target column {target!r} (columns: "
            f"{', '.join(source.schema.names)}); set data.target in "
            f"{config.file_of('data.target')}"
        )
    group = settings["group"]
    if group is not None and group not in source.schema.names:
        raise DataError(
            f"data source {source.description} has no group column {group!r} (columns: "
            f"{', '.join(source.schema.names)}); set columns.group in "
            f"{config.file_of('columns.group')}"
        )
    sample, rows_seen, unlabelled = _bottom_k(
        source, config.data.max_rows, config.train.seed, target, config.data.target, group
    )
    # Checked before anything is written: a sample that breaks the contract leaves the
    # previous one in place.
    contract, notes = read_contract(config)
    checked = check_loaded(sample, config, source.description, contract)
    content_hash = frame_hash(sample)
    copies.same_rows = previous is not None and previous.get("content_hash") == content_hash
    meta = {
        **settings,
        "source_description": source.description,
        "rows_seen": rows_seen,
        "rows_kept": len(sample),
        "rows_without_target": unlabelled,
        "schema": schema,
        "content_hash": content_hash,
        "source_fingerprint": fingerprint,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    table = pa.Table.from_pandas(sample, schema=source.schema, preserve_index=False)
    writes: dict[Path, Writer] = {folder / SAMPLE_FILE: lambda path: _write_parquet(table, path)}
    if copies.formats:  # the values as the Parquet file holds them
        writes |= copies.writers(table.to_pandas(), schema)
    # The sample and its metadata describe each other: an interrupt (Ctrl-C, SIGTERM) waits
    # until both are written.
    with interrupts_held():
        sample_folder.write(config, writes)
        meta["copies"] = copies.record()
        # The metadata vouches for the sample file it was written after: a fetch killed
        # between the two leaves a sample that ensure_sample sees is not the one described.
        meta["sample_file"] = stamp(folder / SAMPLE_FILE)
        sample_folder.write(config, {folder / META_FILE: json_writer(meta)})
    copies.remove_stale()
    if contract is None:
        write_contract(config, record_contract(checked.frame, config))
    notes += [*unlabelled_note(meta, config.data.target), *checked.notes, *copies.notes]
    warnings = [*source.warnings, *checked.warnings]
    return FetchResult(folder / SAMPLE_FILE, meta, drift, reason, warnings, notes)


def unlabelled_note(meta: dict[str, Any], target: str) -> list[str]:
    """What a sample's metadata says of the source's rows left out for a missing target."""
    left_out = meta.get("rows_without_target") or 0
    if not left_out:
        return []
    return [
        f"left out {left_out:,} of {meta['rows_seen']:,} rows of the source whose target "
        f"{target!r} is missing"
    ]


def frame_hash(frame: pd.DataFrame) -> str:
    """The sha256 of a frame's values, row by row (the index is left out)."""
    return hashlib.sha256(
        pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    ).hexdigest()


def schema_drift(old: dict[str, str], new: dict[str, str]) -> SchemaDrift:
    """Columns added, removed and retyped between two schemas (name -> type)."""
    return SchemaDrift(
        added={name: kind for name, kind in new.items() if name not in old},
        removed={name: kind for name, kind in old.items() if name not in new},
        retyped={
            name: (old[name], kind)
            for name, kind in new.items()
            if name in old and old[name] != kind
        },
    )


def _schema_of(schema: pa.Schema) -> dict[str, str]:
    return {item.name: str(item.type) for item in schema}


def _write_parquet(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path)


def _bottom_k(
    source: Source,
    k: int,
    seed: int,
    stratum: str | None,
    target: str,
    group_column: str | None = None,
) -> tuple[pd.DataFrame, int, int]:
    """Keep the k rows with the smallest keys (per stratum, then allocated by share) among
    the rows whose target is known; return them, the rows seen and the rows left out
    because their target is missing (they cannot be learned from).

    With a group column a row's key is its group's: the rows tied with the k-th key are
    kept too, so the sample holds whole groups (a few rows more than k, at most one
    group's)."""
    import pyarrow.compute as pc

    hash_key = hashlib.sha256(str(seed).encode()).hexdigest()[:16]
    ties = "all" if group_column else "first"
    kept: dict[Any, pd.DataFrame] = {}
    seen: dict[Any, int] = {}
    rows_seen = unlabelled = 0
    labelled = target in source.schema.names
    with progress_rows(f"reading {source.description}", source.total_rows) as advance:
        for read in source.batches:
            rows_seen += read.num_rows
            advance(read.num_rows)
            batch = read
            if labelled and read.num_rows:
                batch = read.filter(pc.is_valid(read.column(target)))
                unlabelled += read.num_rows - batch.num_rows
            if not batch.num_rows:
                continue
            keys = _arrow_row_keys(
                batch.select([group_column]) if group_column else batch, hash_key
            )
            if stratum:
                codes, values = pd.factorize(
                    batch.column(stratum).to_numpy(zero_copy_only=False), use_na_sentinel=False
                )
                values = list(values)
            else:
                codes, values = np.zeros(len(keys), dtype=np.intp), [None]
            counts = np.bincount(codes, minlength=len(values))
            limits = np.array(
                [
                    kept[v][_KEY].max()
                    if v in kept and len(kept[v]) >= k
                    else np.iinfo(np.uint64).max
                    for v in values
                ],
                dtype=np.uint64,
            )
            for value, count in zip(values, counts, strict=True):
                seen[value] = seen.get(value, 0) + int(count)
            # A group's rows tied with the limit may complete it.
            mask = keys <= limits[codes] if group_column else keys < limits[codes]
            if not mask.any():
                continue
            frame = batch.filter(pa.array(mask)).to_pandas()
            frame[_KEY] = keys[mask]
            groups = (
                frame.groupby(stratum, dropna=False, sort=False) if stratum else [(None, frame)]
            )
            for group_key, group in groups:
                value = group_key[0] if isinstance(group_key, tuple) else group_key
                candidates = pd.concat([kept[value], group]) if value in kept else group
                kept[value] = candidates.nsmallest(k, _KEY, keep=ties)
    if not rows_seen:
        raise DataError(f"data source {source.description} holds no rows")
    if not kept:
        raise DataError(
            f"data source {source.description}: target column {target!r} holds no values"
        )
    quotas = _allocate(k, seen)
    parts = [kept[value].nsmallest(quotas[value], _KEY, keep=ties) for value in kept]
    sample = pd.concat(parts).sort_values(_KEY, kind="stable").drop(columns=_KEY)
    return sample.reset_index(drop=True), rows_seen, unlabelled


def _arrow_row_keys(batch: pa.RecordBatch, hash_key: str) -> np.ndarray:
    """A pseudo-random 64-bit key per row from its values and the seed, computed in Arrow/numpy."""
    keys = np.full(batch.num_rows, np.uint64(int(hash_key, 16)), dtype=np.uint64)
    for column in batch.columns:  # column hashes are mixed already: a multiply chains them
        keys = (keys ^ _column_hashes(column, hash_key)) * np.uint64(0x9E3779B97F4A7C15)
    return pd.util.hash_array(keys)


def _column_hashes(column: pa.Array, hash_key: str) -> np.ndarray:
    kind = column.type
    if pa.types.is_dictionary(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind):
        encoded = column if pa.types.is_dictionary(kind) else column.dictionary_encode()
        words = np.asarray([*encoded.dictionary.to_pylist(), None], dtype=object)
        hashes = pd.util.hash_array(words, hash_key=hash_key)
        indices = encoded.indices.fill_null(len(words) - 1).to_numpy()
        return hashes[indices]
    return pd.util.hash_array(column.to_numpy(zero_copy_only=False), hash_key=hash_key)


def _allocate(k: int, seen: dict[Any, int]) -> dict[Any, int]:
    """Split k rows over strata in proportion to their sizes (largest remainders)."""
    total = sum(seen.values())
    if total <= k:
        return dict(seen)
    exact = {value: k * count / total for value, count in seen.items()}
    quotas = {value: int(share) for value, share in exact.items()}
    by_remainder = sorted(exact, key=lambda value: exact[value] - quotas[value], reverse=True)
    for value in by_remainder[: k - sum(quotas.values())]:
        quotas[value] += 1
    return quotas


# Sources that did not answer a check for changes lately (source -> when, the error),
# not asked again for this long in the same process: a commit's tests load the sample
# several times, and the run goes on with the sample anyway.
_SILENT: dict[str, tuple[float, DataError]] = {}
SILENT_FOR_S = 300.0


def _checked_fingerprint(data: DataConfig) -> dict[str, Any]:
    """The source's fingerprint, for telling whether a sample is current: asked for at most
    data.connect_timeout_s (a sample is there to use, so a run never waits long on the
    source), and not asked again for a while once it did not answer."""
    key = data.source.reveal() + "\0" + data.table + "\0" + data.query.reveal()
    silent = _SILENT.get(key)
    if silent is not None and time.monotonic() - silent[0] < SILENT_FOR_S:
        raise silent[1]
    try:
        return source_fingerprint(data, seconds=data.connect_timeout_s)
    except SourceTimeout as error:
        _SILENT[key] = (time.monotonic(), error)
        raise


def ensure_sample(config: Config) -> tuple[FetchResult | None, list[str]]:
    """Fetch the mode's sample unless an up-to-date one is there. Return the fetch (None
    when nothing was fetched) and notes for the user (a source that could not be checked).

    Up to date means: made with the same settings, from a source whose fingerprint has
    not changed since. A source that cannot be reached leaves the sample in use, said in
    a note: a commit must not need the database.
    """
    folder = config.sample_folder
    remove_stale_temporaries(folder)  # a killed fetch's, even when nothing is fetched now
    meta = read_meta(folder)
    if meta is None or not (folder / SAMPLE_FILE).exists():
        return fetch_sample(config, "no sample yet"), []
    if meta.get("sample_file", stamp(folder / SAMPLE_FILE)) != stamp(folder / SAMPLE_FILE):
        return fetch_sample(config, "the sample is not the one its metadata describes"), []
    changed = [key for key, value in sample_settings(config).items() if meta.get(key) != value]
    if changed:
        return fetch_sample(config, f"the sampling settings changed ({', '.join(changed)})"), []
    try:
        fingerprint = _checked_fingerprint(config.data)
    except DataError as error:
        note = (
            f"cannot check the source for changes ({redact(str(error))}); using the sample "
            f"fetched at {meta.get('fetched_at')} in {folder}"
        )
        return None, [note]
    if meta.get("source_fingerprint") != fingerprint:
        return fetch_sample(config, "the source changed since the last fetch"), []
    return None, []
