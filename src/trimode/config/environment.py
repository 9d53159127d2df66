"""Config values taken from the environment: `${env:NAME}` anywhere in a config string
(a database URL's password, say) is replaced by the variable NAME, from the process's
environment or else the project's `.env` file (git-ignored; local work), so that no
secret sits in a committed file. A variable set in neither is one error naming the
file, the key and the variable.

`.env` is read with python-dotenv (quoting, `export`, comments as shells and Docker
Compose read them); it never changes the process's environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trimode.core.secrets import ENV_REFERENCE

ENV_FILE = ".env"


def local_variables(root: Path) -> dict[str, str]:
    """The variables of the project's .env file (none without one); values left empty
    there count as unset."""
    path = root / ENV_FILE
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {name: value for name, value in dotenv_values(path).items() if value}


def resolved(
    value: Any, variables: Mapping[str, str], unset: list[tuple[str, str]], key: str = ""
) -> Any:
    """The value (text, or lists and tables of them) with every ${env:NAME} replaced by
    the process's environment or else `variables`; each (key, NAME) set in neither is
    appended to `unset` and left as written."""
    if isinstance(value, str):

        def replace(found: re.Match[str]) -> str:
            name = found[1]
            if name in os.environ:
                return os.environ[name]
            if name in variables:
                return variables[name]
            unset.append((key, name))
            return found[0]

        return ENV_REFERENCE.sub(replace, value)
    if isinstance(value, dict):
        return {
            name: resolved(item, variables, unset, f"{key}.{name}" if key else name)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [resolved(item, variables, unset, key) for item in value]
    return value
