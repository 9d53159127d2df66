"""The one owner of every write: what the project writes, and the guard that decides,
before each write, whether it may happen.

What the project writes, by kind (KINDS):
- the mode's sample folder <data.sample_dir>/<mode>/: the sample, its metadata, the data
  contract, the copies for spreadsheets (data/sampling.py, data/spreadsheets.py);
- an output root (outputs.root): model, manifest, metrics, model card, leaderboards,
  report (artifacts/publish.py swaps and writes it);
- single files: the tracking store (the SQLite file of tracking.uri) and the predictions
  of `predict --output`; the folder of its runs' files (mlruns/ beside the store);
- by a named permission only (PERMISSIONS): `promote` edits configs/<mode>.toml, `eject`
  writes the runtime's source into src/ and rewrites pyproject.toml.

The guard's rules, the same for every kind:
1. Where: inside the project root, unless the config allows outside
   (outputs.allow_outside_project) or the user typed the very path (a command-line option
   such as `predict --output`). Never in the project's own folders (PROTECTED, the config
   folder, the package folder of [tool.trimode]), unless a permission opens that one
   place. Never a data source, nor inside one.
2. A single file is not a symbolic link: replacing it by a file would silently cut the
   link, and writing through it would write where it points, a file of someone's. (A
   folder may be a link: writing into it replaces nothing; rule 1 and 3 are checked
   where it leads.)
3. Whose: a folder is the project's when it holds the marker MARKER_FILE (the project
   made it), or is new or empty (then marked). A single file is the project's when the
   ledger (LEDGER, in the project) records it with the size and modification time it
   has now: a file a person changed since is theirs again. Anything else is refused.
4. How: io.write_together, a temporary beside each file renamed over it; temporaries of
   killed writers are removed when a folder is claimed again (io.remove_stale_temporaries).

A refusal is one line naming the key or option, the path and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trimode.core.errors import ProjectError
from trimode.core.io import (
    json_writer,
    read_json,
    remove_stale_temporaries,
    write_folder_atomically,
    write_json,
    write_together,
)
from trimode.core.layout import MARKER_FILE
from trimode.core.project import Project

# Folders of the project no run writes into (a permission may open one).
PROTECTED = ("configs", "src", "tests", "notebooks", "docs", ".git", ".github")
# The ledger of the single files the project wrote, in the project.
LEDGER = Path(".trimode") / "owned.json"


class WriteRefused(ProjectError):
    """A write the guard refused: a place the project does not own, or may not write."""


@dataclass(frozen=True)
class Kind:
    """A kind of path the project writes: an owned folder (marked) or a single file
    (recorded in the ledger); `what` names it in messages."""

    what: str
    folder: bool


SAMPLES = Kind("a mode's sample", folder=True)
OUTPUTS = Kind("a run's outputs", folder=True)
TRACKING = Kind("tracked runs", folder=False)
# The files MLflow keeps for the runs of a local store (mlruns/ beside its SQLite file).
TRACKED_FILES = Kind("tracked runs' files", folder=True)
PREDICTIONS = Kind("predictions", folder=False)
# `predict`'s output on a Dask cluster: a folder of Parquet files, one per part.
PARTITIONED_PREDICTIONS = Kind("partitioned predictions", folder=True)
# Files of the user's a command edits on purpose, by a permission (PERMISSIONS) only.
EDITS = Kind("a file it edits on purpose", folder=False)
KINDS = (SAMPLES, OUTPUTS, TRACKING, TRACKED_FILES, PREDICTIONS, PARTITIONED_PREDICTIONS, EDITS)


@dataclass(frozen=True)
class Permission:
    """A named exception to the protected folders: the one place a command may write."""

    command: str
    # The places it opens, relative to the project root ("" for the config folder).
    places: tuple[str, ...]


PROMOTE = Permission("promote", ("",))
EJECT = Permission("eject", ("src/trimode", "pyproject.toml"))
PERMISSIONS = (PROMOTE, EJECT)


@dataclass(frozen=True)
class Guard:
    """Decides every write of one project (see the module docstring)."""

    root: Path
    config_dir: Path | None = None
    # The folder of the project's own package ([tool.trimode] models = "<package>.models").
    package: Path | None = None
    # The local data sources: files, folders, SQLite files.
    sources: tuple[Path, ...] = ()
    # outputs.allow_outside_project.
    allow_outside: bool = False

    @classmethod
    def of(
        cls, project: Project, sources: Iterable[Path] = (), allow_outside: bool = False
    ) -> Guard:
        """The guard of a project's writes: its root, config folder and package."""
        return cls(
            root=project.root,
            config_dir=project.config_dir,
            package=project.package_dir,
            sources=tuple(sources),
            allow_outside=allow_outside,
        )

    def place(
        self,
        path: Path,
        key: str,
        kind: Kind,
        *,
        explicit: bool = False,
        permission: Permission | None = None,
    ) -> Path:
        """The absolute path, once the guard's rules of place (1, 2) accept it for writing
        `kind`; else WriteRefused naming key. explicit: the user typed this path."""
        if "\x00" in str(path):  # no file system takes it (Python raises ValueError)
            raise WriteRefused(f"{key}: {str(path)!r} holds a NUL character: not a path")
        given = Path(os.path.join(os.getcwd(), Path(path).expanduser()))
        # Before ".." is folded away: a file on the way (a/file.csv/../b) fails the OS.
        ends = len(given.parts) - (0 if kind.folder else 1)
        for end in range(2, ends + 1):
            if Path(*given.parts[:end]).is_file():
                raise WriteRefused(
                    f"{key}: {Path(*given.parts[:end])} is a file, not a folder: choose "
                    "another path"
                )
        path = Path(os.path.abspath(given))
        real = Path(os.path.realpath(path))
        root = Path(os.path.realpath(self.root))
        if path.is_symlink() and not kind.folder:
            raise WriteRefused(
                f"{key}: {path} is a symbolic link (to {os.readlink(path)}): a run never "
                f"writes {kind.what} through a link nor replaces one; give the path it "
                "points to, or another path"
            )
        if permission is not None:
            opened = [
                root / place if place else self._config_dir(root) for place in permission.places
            ]
            if any(real == place or real.is_relative_to(place) for place in opened):
                return path
            raise WriteRefused(f"{key}: {path} is not a place `{permission.command}` writes")
        # Inside as given (a data/ that links to a bigger disk is the project's still) or
        # where it leads; the project's own folders and the sources, where it leads.
        inside = path.is_relative_to(Path(os.path.abspath(self.root))) or real.is_relative_to(root)
        if not inside and not (self.allow_outside or explicit):
            raise WriteRefused(
                f"{key}: {path} lies outside the project {root}: a run writes {kind.what} "
                "inside it only (set outputs.allow_outside_project = true to allow outside)"
            )
        if kind.folder and (root.is_relative_to(real)):
            raise WriteRefused(
                f"{key}: {path} would hold the whole project: name a folder of its own"
            )
        for folder in self._protected(root):
            if _meets(real, folder, kind):
                raise WriteRefused(
                    f"{key}: {path} is or lies in the project's own folder "
                    f"{folder.relative_to(root).as_posix()}/, which no run writes: choose a "
                    f"place of its own for {kind.what} (e.g. under data/ or outputs/)"
                )
        for folder in (path, *path.parents) if kind.folder else path.parents:
            if folder.exists() and not folder.is_dir():
                raise WriteRefused(f"{key}: {folder} is a file, not a folder: choose another path")
        for source in self.sources:
            source = Path(os.path.realpath(source))
            if _meets(real, source, kind):
                raise WriteRefused(
                    f"{key}: {path} is, holds or lies in the data source {source}: a run "
                    f"never writes {kind.what} into the data it reads; choose another path"
                )
        return path

    def folder(
        self,
        folder: Path,
        key: str,
        kind: Kind,
        adopt: Callable[[Path], bool] = lambda folder: False,
        *,
        explicit: bool = False,
    ) -> Path:
        """Claim a folder for writing `kind` into it, writing nothing yet: accepted where it
        is (place; explicit: the user typed it), and the project's (marked, or new or empty:
        write() marks it; adopt: a folder an earlier version made without a marker). Stale
        temporaries in it, which only the project's writers name so, are removed."""
        folder = self.place(folder, key, kind, explicit=explicit)
        remove_stale_temporaries(folder)
        if folder.exists() and not is_marked(folder):
            foreign = sorted(entry.name for entry in folder.iterdir())
            if foreign and not adopt(folder):
                raise WriteRefused(
                    f"{key}: {folder} holds files this project did not make ({some(foreign)}) "
                    f"and no marker {MARKER_FILE}: a run writes {kind.what} only into a folder "
                    "of its own; choose another path, or move those files away"
                )
        return folder

    def write(self, kind: Kind, writes: dict[Path, Callable[[Path], object]]) -> None:
        """Write claimed paths (folder() or file() first) at once, as io.write_together
        does, in the order given; a folder of `kind` gets its marker with its first files,
        a single file of `kind` its ledger entry once written."""
        if kind.folder:
            folders = dict.fromkeys(path.parent for path in writes)
            marks = {
                folder / MARKER_FILE: json_writer(_marker(kind))
                for folder in folders
                if not is_marked(folder)
            }
            writes = {**marks, **writes}
        write_together(writes)
        if not kind.folder:
            for path in writes:
                self.record(path, kind)

    def write_folder(self, kind: Kind, folder: Path, fill: Callable[[Path], object]) -> None:
        """Write a claimed folder (folder() first) whole, as io.write_folder_atomically
        does: fill(temporary) fills a temporary folder beside it, marked as the project's,
        which replaces the folder only once fill has returned. Stale temporary folders of
        it are removed first."""
        remove_stale_temporaries(folder.parent, folder.name)

        def marked(temporary: Path) -> None:
            mark(temporary, kind)
            fill(temporary)

        write_folder_atomically(folder, marked)

    def file(
        self,
        path: Path,
        key: str,
        kind: Kind,
        *,
        explicit: bool = False,
        adopt: Callable[[Path], bool] = lambda path: False,
    ) -> Path:
        """Claim a single file for writing `kind`: accepted where it is (place), not a
        file of a marked folder's, and new or the project's (recorded in the ledger as it
        is now; adopt: one an earlier version wrote unrecorded). Stale temporaries of it
        are removed."""
        path = self.place(path, key, kind, explicit=explicit)
        remove_stale_temporaries(path.parent, path.name)
        if not path.exists():
            return path
        if path.is_dir():
            raise WriteRefused(f"{key}: {path} is a folder: give a file's path")
        if not self._recorded(path) and not adopt(path) and is_marked(path.parent):
            raise WriteRefused(
                f"{key}: {path} is a file the project keeps for itself in {path.parent}: a "
                f"run never replaces it with {kind.what}; choose another path"
            )
        if not self._recorded(path) and not adopt(path):
            raise WriteRefused(
                f"{key}: {path} exists and this project did not write it (or it changed "
                f"since): a run never replaces such a file with {kind.what}; choose another "
                "path, or move the file away yourself"
            )
        return path

    def write_permitted(
        self, permission: Permission, writes: dict[Path, Callable[[Path], object]]
    ) -> None:
        """Write files of the user's that a command edits on purpose (promote: a mode's
        config; eject: the runtime's source and pyproject.toml), each in a place the
        permission opens, at once as io.write_together does."""
        for path in writes:
            self.place(path, f"`{permission.command}`", EDITS, permission=permission)
        write_together(writes)

    def record(self, path: Path, kind: Kind) -> None:
        """Record in the ledger that the project wrote path as it is now."""
        from filelock import FileLock

        ledger = self.root / LEDGER
        ledger.parent.mkdir(exist_ok=True)
        with FileLock(ledger.with_name(ledger.name + ".lock")):
            files = self._ledger()
            files[str(path)] = {**stamp(path), "kind": kind.what, "at": _now()}
            write_json(
                ledger,
                {"note": "Files this project wrote (see trimode.core.writes)", "files": files},
            )

    def _recorded(self, path: Path) -> bool:
        """Whether the ledger records path as it is now."""
        entry = self._ledger().get(str(path))
        return isinstance(entry, dict) and {
            k: entry.get(k) for k in ("bytes", "mtime_ns")
        } == stamp(path)

    def _ledger(self) -> dict[str, Any]:
        ledger = self.root / LEDGER
        if not ledger.is_file():
            return {}
        try:
            files = read_json(ledger).get("files")
        except (ProjectError, AttributeError):
            return {}  # a damaged ledger vouches for nothing: every file is refused
        return files if isinstance(files, dict) else {}

    def _config_dir(self, root: Path) -> Path:
        return Path(os.path.realpath(self.config_dir or root / "configs"))

    def _protected(self, root: Path) -> Iterable[Path]:
        yield from (root / name for name in PROTECTED)
        yield self._config_dir(root)
        if self.package is not None:
            yield Path(os.path.realpath(self.package))


def _meets(path: Path, place: Path, kind: Kind) -> bool:
    """Whether writing `kind` at path touches place: is it, lies in it, or (a folder)
    would hold it."""
    return (
        path == place or path.is_relative_to(place) or (kind.folder and place.is_relative_to(path))
    )


def is_marked(folder: Path) -> bool:
    """Whether folder holds the marker that says the project made it."""
    return (folder / MARKER_FILE).is_file()


def mark(folder: Path, kind: Kind) -> None:
    """Write the marker that says the project made folder (made too when missing)."""
    write_json(folder / MARKER_FILE, _marker(kind))


def _marker(kind: Kind) -> dict[str, str]:
    return {
        "made_by": "trimode",
        "made_at": _now(),
        "note": f"A folder this project made for {kind.what}: its runs replace what is here.",
    }


def some(names: list[str], most: int = 3) -> str:
    """The first names, and how many more."""
    shown = ", ".join(names[:most])
    return f"{shown} and {len(names) - most} more" if len(names) > most else shown


def stamp(path: Path) -> dict[str, int]:
    """What tells a file changed: its size and modification time (ns)."""
    status = path.stat()
    return {"bytes": status.st_size, "mtime_ns": status.st_mtime_ns}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
