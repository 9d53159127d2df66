"""Passwords written out in config files: where each is (file, line, key) and what to
write instead, a ${env:NAME} reference and the variable's line in .env.

The commit hook (`trimode check-secrets`) refuses a config holding one, and `train`
warns of one in the files it loaded; both find them here, with the one test of a
password written out in a URL (core/secrets.py's `written_password`). What either
prints names the variable, never the password.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trimode.config.environment import ENV_FILE
from trimode.core import tomlfile
from trimode.core.errors import ConfigError
from trimode.core.secrets import with_reference, written_password

if TYPE_CHECKING:
    from trimode.config.model import Config

# The committed file listing the variables a project's configs take (copied to .env).
ENV_EXAMPLE = ".env.example"


@dataclass(frozen=True)
class WrittenPassword:
    """A password written out in a config: the file, its line (0 when not found as
    written), the key, the variable it should come from, and the line to write instead."""

    path: Path
    line: int
    key: str
    variable: str
    instead: str

    def advice(self) -> str:
        """One line: where the password is and what to write instead (no password)."""
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return (
            f"{where}: {self.key} holds a password written out: write {self.instead} instead, "
            f"and {self.variable}=... in {ENV_FILE} (git-ignored; see {ENV_EXAMPLE})"
        )


def variable_for(key: str) -> str:
    """The environment variable suggested for the password of a key: DB_PASSWORD for a
    data source, else the key's name (tracking.uri: TRACKING_URI_PASSWORD)."""
    if key.startswith("data."):
        return "DB_PASSWORD"
    return f"{key.upper().replace('.', '_')}_PASSWORD"


def written_passwords(path: Path) -> list[WrittenPassword]:
    """Every password written out in a URL of the TOML file at path, in file order. A
    file that is no valid TOML is a ConfigError naming it."""
    content = tomlfile.read_toml(path)  # anything wrong with the file: one line
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    found = []
    for key, value in _strings(content):
        match = written_password(value)
        if match is None:
            continue
        variable = variable_for(key)
        number = _line_of(lines, match[0], key)
        instead = (
            with_reference(lines[number - 1].strip(), variable)
            if number and match[0] in lines[number - 1]
            else f"{key.rpartition('.')[2]} = {json.dumps(with_reference(value, variable))}"
        )
        found.append(WrittenPassword(path, number, key, variable, instead))
    return sorted(found, key=lambda item: item.line)


def in_files_of(config: Config) -> list[WrittenPassword]:
    """The passwords written out in the config files a config was loaded from (a value
    given with --set is in no committed file)."""
    files = sorted({path for path in config.origin.values() if isinstance(path, Path)})
    return [item for path in files for item in written_passwords(path)]


def check_files(paths: Iterable[Path]) -> None:
    """Refuse (ConfigError, a line per password) config files holding a password written
    out; the commit hook's check."""
    found = [item for path in paths for item in written_passwords(path)]
    if found:
        raise ConfigError("\n".join(item.advice() for item in found))


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Each text of a TOML document with its dotted key (a list's items share it)."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _strings(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)


def _line_of(lines: list[str], written: str, key: str) -> int:
    """The number of the line holding the URL as written, else of the line setting the
    key's last part; 0 when neither is found (a multi-line or escaped string)."""
    setting = re.compile(rf"\s*[\"']?{re.escape(key.rpartition('.')[2])}[\"']?\s*=")
    for test in (lambda line: written in line, setting.match):
        for number, line in enumerate(lines, start=1):
            if test(line):
                return number
    return 0
