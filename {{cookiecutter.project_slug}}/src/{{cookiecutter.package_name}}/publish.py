"""Publish a run's outputs all at once, or not at all.

A run writes into a staging folder beside its output root (same file system, hidden
name). Only when everything is written does `publishing` swap the staging folder in
for the output root; a run that fails, misses its quality gate, runs over budget or
is interrupted leaves the previous outputs exactly as they were and removes its
staging folder. The swap is two renames: if the process dies between them, the next
run puts the previous outputs back before it starts (`recover`). The leaderboard
`compare` wrote into the output root is carried over into the new one; a report of
the previous model is not.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ConfigError
from .files import usual_mode

# Files other commands write into an output root that stay true for a new model.
CARRIED_OVER = ("leaderboard.csv", "leaderboard.json")


@contextmanager
def publishing(output_root: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces output_root."""
    output_root.parent.mkdir(parents=True, exist_ok=True)
    recover(output_root)
    folders = sorted(entry.name for entry in output_root.glob("*") if entry.is_dir())
    if folders:  # a run writes files only: this is a folder shared with something else
        raise ConfigError(
            f"outputs.root {output_root} holds folders ({', '.join(folders)}): a run "
            "replaces its output root whole, so it must be a folder of this mode's own"
        )
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
    for name in CARRIED_OVER:
        if (output_root / name).is_file() and not (staging / name).exists():
            shutil.copy2(output_root / name, staging / name)
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


def recover(output_root: Path) -> None:
    """Put back the previous outputs a run left aside when it died in mid-swap."""
    if output_root.exists():
        return
    left = sorted(output_root.parent.glob(f".{output_root.name}.previous-*/{output_root.name}"))
    if left:
        os.replace(left[-1], output_root)
        shutil.rmtree(left[-1].parent, ignore_errors=True)
