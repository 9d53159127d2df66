"""Where things are: data sources, and paths given relative to the project root.

Every relative path in the configs (`data.source`, a SQLite file in a database URL,
`data.sample_dir`, `outputs.root`) means a path under the project root, the folder
that holds `configs/`, whatever the current folder is (a notebook runs in
`notebooks/`, a test in a temporary folder, CI anywhere).
"""

from __future__ import annotations

import re
from pathlib import Path

SYNTHETIC = "synthetic"
SQL_URL = re.compile(r"^(sqlite|postgresql|postgres|mysql|mariadb|mssql|oracle)(\+\w+)?://")
# A URL scheme (s3://, https://, memory://...): not a local path.
URL_SCHEME = re.compile(r"^[A-Za-z][\w+.-]*://")


def is_sql(source: str) -> bool:
    """Whether the source is a database URL (SQLAlchemy)."""
    return bool(SQL_URL.match(source))


def is_local_path(source: str) -> bool:
    """Whether the source is a file or folder on this machine, given as a path."""
    return source != SYNTHETIC and not URL_SCHEME.match(source)


def under_root(path: str | Path, root: Path) -> Path:
    """The path itself when absolute, else the path under the project root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else root / path


def resolve_source(source: str, root: Path) -> str:
    """The source with a relative file path (or SQLite database file) made absolute
    under the project root; URLs and the built-in data set are left as they are."""
    if is_local_path(source):
        return str(under_root(source, root))
    if source.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        url = make_url(source)
        database = url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            resolved = under_root(database, root)
            return url.set(database=str(resolved)).render_as_string(hide_password=False)
    return source


def local_files(source: str) -> tuple[Path, ...]:
    """The files or folders on this machine a resolved source reads: a path, or the file
    of a SQLite URL; none for a remote source or the built-in data set."""
    if is_local_path(source):
        return (Path(source),)
    if source.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        database = make_url(source).database
        if database and database != ":memory:" and not database.startswith("file:"):
            return (Path(database),)
    return ()
