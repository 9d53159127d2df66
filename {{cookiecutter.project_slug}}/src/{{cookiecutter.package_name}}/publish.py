"""Publish a run's outputs all at once, or not at all.

A run writes into a staging folder beside its output root (same file system, hidden
name). Only when everything is written does `publishing` swap the staging folder in
for the output root; a run that fails, misses its quality gate, runs over budget or
is interrupted leaves the previous outputs exactly as they were and removes its
staging folder. Files other commands wrote into the output root (the leaderboard,
the report) are carried over into the new one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .files import usual_mode


@contextmanager
def publishing(output_root: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces output_root."""
    output_root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_root.name}.staging-", dir=output_root.parent))
    staging.chmod(usual_mode(directory=True))
    try:
        yield staging
        _swap_in(staging, output_root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, output_root: Path) -> None:
    """Move staging to output_root; the previous root is kept until the move succeeded."""
    if not output_root.exists():
        os.replace(staging, output_root)
        return
    for entry in output_root.iterdir():
        if not (staging / entry.name).exists():
            _copy(entry, staging / entry.name)
    previous = Path(
        tempfile.mkdtemp(prefix=f".{output_root.name}.previous-", dir=output_root.parent)
    )
    os.replace(output_root, previous / output_root.name)
    try:
        os.replace(staging, output_root)
    except BaseException:
        os.replace(previous / output_root.name, output_root)  # put the last good one back
        raise
    finally:
        shutil.rmtree(previous, ignore_errors=True)


def _copy(source: Path, destination: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, destination)
    else:
        shutil.copy2(source, destination)
