"""Read the TOML files people edit (configs, pyproject.toml) and the TOML values they type
(`--set key=value`): whatever is wrong with one is an error line naming the file.

One reader, so that every way a file can be wrong is answered once: missing, a folder,
unreadable, another encoding than UTF-8 (a UTF-8 byte-order mark, which Windows editors
write, is accepted), not TOML, or nested deeper than the parser's recursion allows.
"""

from __future__ import annotations

import codecs
import tomllib
from pathlib import Path
from typing import Any

from trimode.core.errors import ConfigError, ProjectError

# Byte-order marks of the encodings an editor may save as instead of UTF-8.
_OTHER_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def read_toml(
    path: Path, error: type[ProjectError] = ConfigError, missing: str = "file not found"
) -> dict[str, Any]:
    """The TOML document in path. Anything wrong raises `error` naming the file in one
    line; a missing file says `missing` (what it is, and what to do)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder; a TOML file was expected") from None
    except OSError as problem:  # permissions, a folder on Windows, a broken disk
        raise error(f"{path}: cannot be read ({problem.strerror or problem})") from None
    return parse_toml(_text(data, path, error), str(path), error)


def parse_toml(text: str, where: str, error: type[ProjectError] = ConfigError) -> dict[str, Any]:
    """The TOML document in text; `where` names it (a file, an option) in the error line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{where}: not valid TOML: {problem}") from None
    except RecursionError:
        raise error(f"{where}: arrays or tables nest too deeply to read") from None


def _text(data: bytes, path: Path, error: type[ProjectError]) -> str:
    """The bytes as UTF-8 text, without a leading byte-order mark."""
    for mark, encoding in _OTHER_ENCODINGS:
        if data.startswith(mark):
            raise error(f"{path}: is {encoding} text; save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise error(
            f"{path}: is not UTF-8 text (byte 0x{data[problem.start]:02x} at position "
            f"{problem.start}); save it as UTF-8"
        ) from None
