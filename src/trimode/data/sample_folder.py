"""The mode's sample folder, <data.sample_dir>/<mode>/, written only through the write
guard (core/writes.py): the sample, its metadata, the data contract and the copies for
spreadsheets go into a folder the project made and marked, never a folder of the user's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from trimode.config.model import Config
from trimode.core.io import read_json
from trimode.core.layout import META_FILE
from trimode.core.writes import SAMPLES


def claim(config: Config) -> Path:
    """The mode's sample folder, once the guard accepts writing into it (WriteRefused
    naming data.sample_dir otherwise); nothing is written yet."""
    key = config.where("data.sample_dir")
    return config.guard.folder(config.sample_folder, key, SAMPLES, adopt=_earlier_sample)


def write(config: Config, writes: dict[Path, Callable[[Path], object]]) -> None:
    """Write files into the claimed sample folder at once (the marker with the first)."""
    claim(config)
    config.guard.write(SAMPLES, writes)


def _earlier_sample(folder: Path) -> bool:
    """Whether folder is a sample folder an earlier version made without a marker: it holds
    the sample's metadata as fetch-sample writes it."""
    path = folder / META_FILE
    try:
        meta = read_json(path) if path.is_file() else None
    except Exception:  # not JSON: not a fetch's
        return False
    return isinstance(meta, dict) and {"content_hash", "source_fingerprint"} <= meta.keys()
