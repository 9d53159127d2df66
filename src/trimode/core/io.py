"""Write files so that readers see the old content or the new, never half of it; and the
one way the project writes and reads its JSON records (manifest, metrics, leaderboard,
sample metadata, data contract)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from trimode.core.errors import ProjectError
from trimode.core.secrets import Secret, redact


def usual_mode(directory: bool = False) -> int:
    """The permissions a plain open() or mkdir() would give under the current umask
    (temporary files and folders are private; published ones should not be)."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call write(temporary_path) beside `path`, then rename the result over `path`. When
    writing fails, nothing is left: not the temporary file, nor the folders made for it.
    Callers outside core/writes.py reach it through the guard there, which decides first
    whether `path` may be written at all."""
    write_together({path: write})


def write_together(writes: dict[Path, Callable[[Path], object]]) -> None:
    """Write several files as write_atomically does one, each by its function: every file
    is written to a temporary beside it first, and only when all are written are they
    renamed into place, in the order given (a file that vouches for the others goes last).
    When one write fails, no file is replaced, and the temporary files and the folders made
    for them are removed. A kill leaves temporaries named by temporary_name: the next run
    removes them (remove_stale_temporaries)."""
    made: list[Path] = []
    temporaries: dict[Path, Path] = {}
    try:
        for path in writes:
            made += [
                folder for folder in (path.parent, *path.parent.parents) if not folder.exists()
            ]
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(
                dir=path.parent, prefix=temporary_name(path.name), suffix=".tmp"
            )
            os.close(handle)
            temporaries[path] = Path(name)
        for path, write in writes.items():
            write(temporaries[path])
            temporaries[path].chmod(usual_mode())
        for path, temporary in temporaries.items():
            os.replace(temporary, path)
    except BaseException:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)
        for folder in sorted(made, key=lambda folder: len(folder.parts), reverse=True):
            with contextlib.suppress(OSError):  # deepest first; only if still empty
                folder.rmdir()
        raise


def write_folder_atomically(path: Path, fill: Callable[[Path], object]) -> None:
    """Call fill(temporary_folder) beside `path`, then move the folder into place: a
    folder that was there (which the caller, through the guard, has claimed) is moved
    aside first and removed after. When fill fails, nothing is left: not the temporary
    folder, nor the folders made for it, and a folder that was there stays as it was."""
    made = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(
        tempfile.mkdtemp(dir=path.parent, prefix=temporary_name(path.name), suffix=".tmp")
    )
    try:
        fill(temporary)
        temporary.chmod(usual_mode(directory=True))
        if path.exists():
            aside = Path(
                tempfile.mkdtemp(dir=path.parent, prefix=temporary_name(path.name), suffix=".tmp")
            )
            aside.rmdir()  # a free name to move the old folder to
            os.rename(path, aside)
            os.rename(temporary, path)
            remove_folder(aside)
        else:
            os.rename(temporary, path)
    except BaseException:
        remove_folder(temporary)
        for folder in sorted(made, key=lambda folder: len(folder.parts), reverse=True):
            with contextlib.suppress(OSError):  # deepest first; only if still empty
                folder.rmdir()
        raise


def remove_folder(folder: Path, attempts: int = 20) -> None:
    """Remove a folder and what it holds, trying again a few times (bounded) while a
    writer that has not stopped yet, e.g. a cluster's task, still adds files to it."""
    for _ in range(attempts):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.25)
    shutil.rmtree(folder)  # the error, at last, says what stays


# A temporary's name: hidden, the file it becomes, the writer's process id, mkstemp's
# random part, ".tmp". The pid tells a later run whether its writer is gone.
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.tmp")


def temporary_name(name: str) -> str:
    """The prefix of the temporaries of the file `name` written by this process."""
    return f".{name}.{os.getpid()}."


def remove_stale_temporaries(folder: Path, name: str | None = None) -> list[Path]:
    """Remove the temporaries in folder that a killed writer left (its process is gone);
    name: only those of that file. Return what was removed."""
    removed = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in folder.iterdir():
            found = _TEMPORARY.fullmatch(entry.name)
            if not found or (name is not None and found["name"] != name):
                continue
            if entry.is_symlink() or _alive(int(found["pid"])):
                continue
            if entry.is_file():
                entry.unlink(missing_ok=True)
                removed.append(entry)
            elif entry.is_dir():  # a folder written whole (write_folder_atomically)
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    """Whether a process with this id runs (a reused id counts: its file stays)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would end the process on Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # type: ignore[attr-defined]
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)  # type: ignore[attr-defined]
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def json_safe(value: Any) -> Any:
    """A value as strict JSON data: numpy scalars and arrays become numbers and lists,
    containers are converted item by item (keys as text), dates become ISO text, NaN and
    infinities become null (JSON has no such numbers), any other object its repr. Every
    text is redacted (see secrets.py): no JSON the project writes holds a credential."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, int | bool):
        return value
    if isinstance(value, str | Secret):
        return redact(value)
    if isinstance(value, np.ndarray | list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {redact(key): json_safe(item) for key, item in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return redact(repr(value))


def write_json(path: Path, value: Any) -> Path:
    """Write value as indented, strict JSON (see json_safe), whole or not at all."""
    write_atomically(path, json_writer(value))
    return path


def json_writer(value: Any) -> Callable[[Path], None]:
    """The function that writes value into a file as write_json does (for write_together)."""
    text = json.dumps(json_safe(value), indent=2, allow_nan=False) + "\n"

    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return write


def read_json(path: Path, error: type[ProjectError] = ProjectError, advice: str = "") -> Any:
    """The JSON data in path; a file that is not JSON raises `error` naming the file and
    what to do (advice), in one line."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as problem:
        raise error(f"{path}: not valid JSON ({problem}){advice}") from None
