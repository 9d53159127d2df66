"""Publish a run's outputs all at once or not at all, and only into a folder of the project's.

The guarantee: whatever stops a run (an error, the quality gate, Ctrl-C, a kill at any
instant, even in the middle of the swap), the output root afterwards holds one complete
set of outputs: the newest one that was swapped in. And a run never replaces a folder
the project did not make.

How, beside the output root `<root>` (same file system, hidden names):
- A run writes into a staging folder `.<root>.staging-*`. When everything is written,
  two renames swap it in: the old root into `.<root>.previous-*/<root>`, then the
  staging folder onto `<root>`.
- The journal `.<root>.journal.json` names the run's staging and previous folders and
  the step reached (STEPS); it is replaced atomically and fsynced before the next step,
  and removed when the run is done. Whoever comes next (the next run, `recover`) reads
  it: if `<root>` is there it is the newest complete outputs (the old root before the
  swap, the new one after it), else the journal's previous folder goes back. Only then
  are the leftovers of killed runs (`.<root>.staging-*`, `.<root>.previous-*`) removed.
  Nothing is guessed from folder names.
- The lock `.<root>.lock` (filelock: flock on POSIX, LockFileEx on Windows) is held for
  the recovery and the whole publishing, so a second run waits for the first instead of
  taking its staging folder for a leftover. Only its holder writes in these folders:
  every leftover it finds is a dead run's. The lock's file stays (empty, hidden): removing
  it while another run waits on it would let a third take a lock of its own.
- Every output root the project makes holds the marker MARKER_FILE. An existing root
  is replaced only when it holds the marker, is empty (nothing can be lost), or holds
  nothing but files the pipeline writes by name (an output root of an earlier template
  version, which had no marker); anything else is refused before anything is touched.

The leaderboard `compare` wrote into the output root is carried over into the new one,
and so is any file a person put there (predictions written next to the model); a
report of the previous model is not.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from trimode.core.errors import ConfigError
from trimode.core.io import remove_stale_temporaries, usual_mode
from trimode.core.layout import CARRIED_OVER, MARKER_FILE, PIPELINE_FILES
from trimode.core.writes import OUTPUTS, is_marked, mark, some

# The points of a publishing, in order, at which a kill leaves a different state on disk.
# The journal is written at "staging", "staged", "moved-previous-aside" and "swapped";
# "done" is the journal removed. From "staging-renamed" on, the new outputs are the root.
STEPS = (
    "staging",  # staging folder made, marked and journaled; the run writes into it
    "staged",  # staging complete and synced, previous folder made (when there is a root)
    "root-renamed",  # old root moved into the previous folder
    "moved-previous-aside",
    "staging-renamed",  # staging folder is the root now
    "swapped",
    "previous-removed",
    "done",
)
# Called with each step's name as it is reached: tests set it to kill a run there.
_fault: Callable[[str], None] | None = None


@contextmanager
def publishing(output_root: Path, key: str = "outputs.root") -> Iterator[Path]:
    """Yield an empty staging folder (but for the marker); when the block ends without an
    error, it replaces output_root. key names the setting in messages."""
    with _held(output_root, key):
        staging = _new_folder(output_root, "staging")
        try:
            staging.chmod(usual_mode(directory=True))
            mark(staging, OUTPUTS)
            _record(output_root, "staging", staging)
            yield staging
            _swap_in(staging, output_root)
        except BaseException:
            _settle(output_root)  # what the next run would do: the previous outputs stay
            raise


@contextmanager
def writing_into(output_root: Path, key: str = "outputs.root") -> Iterator[Path]:
    """Yield output_root for writing files into it (leaderboard, report), made with its
    marker when missing; refuse a folder the project did not make (check_output_root).
    The lock is held meanwhile: a publishing in progress finishes first."""
    with _held(output_root, key):
        output_root.mkdir(exist_ok=True)
        if not is_marked(output_root):
            mark(
                output_root, OUTPUTS
            )  # new, empty or of an earlier version: the project's from now
        yield output_root


def check_output_root(output_root: Path, key: str = "outputs.root") -> None:
    """Refuse (ConfigError) an existing output_root that a run may not replace whole: one
    without the marker that holds anything but files the pipeline writes by name, or one
    holding folders (a run writes files only, so they are someone else's)."""
    if not output_root.exists():
        return
    if not output_root.is_dir():
        raise ConfigError(
            f"{key}: {output_root} is a file, not a folder: choose another outputs.root"
        )
    names = sorted(entry.name + "/" * entry.is_dir() for entry in output_root.iterdir())
    if not is_marked(output_root):
        foreign = [
            name
            for name in names
            if name not in PIPELINE_FILES and not _is_lock(output_root / name)
        ]
        if foreign:
            raise ConfigError(
                f"{key}: {output_root} was not made by this project (no marker {MARKER_FILE}; "
                f"it holds {some(foreign)}): a run replaces only folders it created; choose "
                "another outputs.root or empty/remove the folder yourself"
            )
    folders = [name for name in names if name.endswith("/")]
    if folders:
        raise ConfigError(
            f"{key}: {output_root} holds folders ({some(folders)}) no run wrote: a run replaces "
            "its output root whole; move them out or choose another outputs.root"
        )


def recover(output_root: Path) -> None:
    """Settle what a killed run left beside output_root: the newest complete outputs are
    the root, and no staging or previous folder is left. With nothing left (no journal,
    no such folder) it takes no lock either: a run refused next (a folder it may not
    replace) then leaves no lock file beside that folder."""
    if output_root.parent.is_dir() and _left_behind(output_root):
        with _locked(output_root):
            _settle(output_root)


def last_complete(output_root: Path) -> Path:
    """Where a reader finds the newest complete outputs of output_root, taking no lock and
    writing nothing: output_root itself, or, when a run was killed between the swap's two
    renames, the folder its journal says the outputs were moved into (the next run or
    `recover` moves them back). output_root when there is neither."""
    if output_root.exists() or not output_root.parent.is_dir():
        return output_root
    aside = _set_aside(output_root, _read_journal(output_root))
    return output_root if aside is None else aside


def _left_behind(output_root: Path) -> bool:
    """Whether a run left a journal or a staging or previous folder beside output_root
    (a run publishing now has them too: then the lock waits for it)."""
    journal = _journal(output_root)
    return (
        journal.exists()
        or journal.with_name(journal.name + ".tmp").exists()
        or bool(_leftovers(output_root, "staging|previous"))
    )


@contextmanager
def _held(output_root: Path, key: str) -> Iterator[None]:
    """Hold the lock on a settled output_root that a run may replace or write into."""
    check_output_root(output_root, key)  # before the lock: a refusal touches nothing
    output_root.parent.mkdir(parents=True, exist_ok=True)
    with _locked(output_root):
        _settle(output_root)
        check_output_root(output_root, key)
        remove_stale_temporaries(output_root)  # a killed report's, say: not carried over
        yield


def _swap_in(staging: Path, output_root: Path) -> None:
    """Replace output_root with the complete staging folder, journaling every step."""
    previous = None
    if output_root.exists():
        # The leaderboard stays true for a new model; a file a person put there (a
        # predictions file) is not the run's to delete. A report of the old model goes, and
        # so does the lock of an output root that was inside this one.
        for entry in output_root.iterdir():
            keep = entry.name in CARRIED_OVER or entry.name not in PIPELINE_FILES
            keep = keep and not _is_lock(entry)
            if entry.is_file() and keep and not (staging / entry.name).exists():
                shutil.copy2(entry, staging / entry.name)
        previous = _new_folder(output_root, "previous")
    _sync_tree(staging)  # the files are on disk before a rename can make them the root
    _record(output_root, "staged", staging, previous)
    if previous is not None:
        os.replace(output_root, previous / output_root.name)
        _sync(previous, output_root.parent)
        _reached("root-renamed")
        _record(output_root, "moved-previous-aside", staging, previous)
    os.replace(staging, output_root)
    _sync(output_root.parent)
    _reached("staging-renamed")
    _record(output_root, "swapped", staging, previous)
    if previous is not None:
        shutil.rmtree(previous)
    _reached("previous-removed")
    _journal(output_root).unlink()
    _sync(output_root.parent)
    _reached("done")


def _settle(output_root: Path) -> None:
    """Under the lock: make output_root the newest complete outputs a killed run left
    (see the module docstring), then remove its journal and every leftover folder."""
    if not output_root.exists():
        aside = _set_aside(output_root, _read_journal(output_root))
        if aside is not None:
            os.replace(aside, output_root)
    for folder in _leftovers(output_root, "staging|previous"):
        shutil.rmtree(folder)
    journal = _journal(output_root)
    for path in (journal, journal.with_name(journal.name + ".tmp")):
        path.unlink(missing_ok=True)
    _sync(output_root.parent)


def _set_aside(output_root: Path, journal: dict[str, Any] | None) -> Path | None:
    """The outputs a killed run had moved aside: those its journal names. With no journal
    (a run of an earlier template version), the last set aside."""
    if journal is None:
        candidates = [folder / output_root.name for folder in _leftovers(output_root, "previous")]
        found = [aside for aside in candidates if aside.is_dir()]
        return max(found, key=lambda aside: aside.parent.stat().st_mtime_ns, default=None)
    name = journal.get("previous")
    if not isinstance(name, str) or not _pattern(output_root, "previous").fullmatch(name):
        return None  # there was no root before that run: there is none now
    aside = output_root.parent / name / output_root.name
    return aside if aside.is_dir() else None


def _record(output_root: Path, step: str, staging: Path, previous: Path | None = None) -> None:
    """Write the journal, durably, before the next step begins."""
    entry = {
        "step": step,
        "staging": staging.name,
        "previous": previous.name if previous else None,
        "pid": os.getpid(),
        "at": _now(),
    }
    journal = _journal(output_root)
    # Not write_json: the journal must reach the disk (fsync) before the step it announces.
    temporary = journal.with_name(journal.name + ".tmp")  # one writer: the lock's holder
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(entry, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, journal)
    _sync(output_root.parent)
    _reached(step)


def _read_journal(output_root: Path) -> dict[str, Any] | None:
    """The journal a killed run left; None when there is none, or none readable (it is
    replaced whole, so only a hand could have damaged it)."""
    try:
        entry = json.loads(_journal(output_root).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return entry if isinstance(entry, dict) else None


@contextmanager
def _locked(output_root: Path) -> Iterator[None]:
    """Hold `.<root>.lock`, waiting for another run that holds it."""
    with FileLock(lock_path(output_root), mode=usual_mode()):
        yield


def lock_path(output_root: Path) -> Path:
    """The file the lock of output_root is taken on, beside it."""
    return output_root.parent / f".{output_root.name}.lock"


def _is_lock(path: Path) -> bool:
    """Whether path is the lock's file of an output root that was inside its folder (empty,
    named as lock_path names it): the project's own, which stays by design, not a file
    someone else put there."""
    return (
        bool(re.fullmatch(r"\..+\.lock", path.name)) and path.is_file() and not path.stat().st_size
    )


def _leftovers(output_root: Path, kinds: str) -> list[Path]:
    """The staging or previous folders beside output_root (kinds: "staging|previous")."""
    pattern = _pattern(output_root, kinds)
    with os.scandir(output_root.parent) as entries:
        return sorted(
            Path(entry.path)
            for entry in entries
            if pattern.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)
        )


def _pattern(output_root: Path, kinds: str) -> re.Pattern[str]:
    # mkdtemp's suffixes: no dot, so the folders of a root named "x.previous-a" never match.
    return re.compile(rf"\.{re.escape(output_root.name)}\.(?:{kinds})-[a-z0-9_]+")


def _new_folder(output_root: Path, kind: str) -> Path:
    """A new empty folder `.<root>.<kind>-*` beside output_root."""
    return Path(tempfile.mkdtemp(prefix=f".{output_root.name}.{kind}-", dir=output_root.parent))


def _journal(output_root: Path) -> Path:
    return output_root.parent / f".{output_root.name}.journal.json"


def _sync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _sync(folder)


def _sync(*folders: Path) -> None:
    """Make renames and removals in these folders durable (Windows has no fsync of a
    folder: its renames are journaled by NTFS)."""
    if os.name == "nt":
        return
    for folder in folders:
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        except OSError as error:
            if error.errno != errno.EINVAL:  # EINVAL: a file system that cannot sync folders
                raise
        finally:
            os.close(handle)


def _reached(step: str) -> None:
    if _fault is not None:
        _fault(step)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
