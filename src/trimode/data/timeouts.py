"""How long a source may keep a run waiting: data.connect_timeout_s and data.read_timeout_s.

Every way the runtime talks to a source goes through here: fsspec filesystems (a URL's
HTTP client gets both timeouts, S3 its botocore ones), SQLAlchemy engines (each
dialect's driver gets its connect timeout, and a statement or read timeout where the
driver has one), and any wait that must end whatever the driver does (`within`). A
source that does not answer in time is one line naming it and the key to raise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from trimode.config.model import DataConfig
from trimode.core.errors import DataError

T = TypeVar("T")

# The defaults, for a read no config bounds (predict's input).
DEFAULTS = DataConfig.model_construct()
CONNECT_KEY = "data.connect_timeout_s"
READ_KEY = "data.read_timeout_s"


class SourceTimeout(DataError):
    """A source did not answer within the configured time."""


def timeout_error(
    shown: str,
    data: DataConfig | None,
    cause: BaseException | None = None,
    waited: float | None = None,
) -> SourceTimeout:
    """The one line said when the source `shown` (redacted) did not answer in time (cause:
    the timeout a library raised, which tells a connection from an answer; waited: the
    seconds waited, when not the timeout's own)."""
    data = data or DEFAULTS
    key, seconds = (
        (CONNECT_KEY, data.connect_timeout_s)
        if cause is not None and _connecting(cause)
        else (READ_KEY, data.read_timeout_s)
    )
    seconds = waited or seconds
    return SourceTimeout(
        f"data source {shown!r} did not answer within {seconds:g} s: raise {key} in configs/ "
        "if it is only slow"
    )


def timed_out(error: BaseException) -> bool:
    """Whether the error, or one it came from, is a timeout (libraries wrap them: fsspec
    says FileNotFoundError, SQLAlchemy OperationalError)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError) or "timeout" in type(current).__name__.lower():
            return True
        text = str(current).lower()
        if "timeout expired" in text or "timed out" in text or "statement timeout" in text:
            return True
        current = current.__cause__ or current.__context__
    return False


def _connecting(error: BaseException) -> bool:
    """Whether a timeout happened while connecting (rather than waiting for an answer)."""
    current: BaseException | None = error
    while current is not None:
        name = type(current).__name__.lower()
        if "connect" in name or "connection timeout" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__
    return False


@contextmanager
def answering(shown: str, data: DataConfig | None) -> Iterator[None]:
    """Turn a timeout raised in the body of a `with` block into the one line naming the
    source and the key to raise; other errors pass through."""
    try:
        yield
    except SourceTimeout:
        raise
    except Exception as error:
        if timed_out(error):
            raise timeout_error(shown, data, error) from None
        raise


def within(seconds: float, call: Callable[[], T], shown: str, data: DataConfig) -> T:
    """call() on a helper thread, waited for at most `seconds`: whatever a driver does, the
    run goes on (the thread, a daemon, is left to end with the process)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the waiting thread
            outcome["error"] = error

    helper = threading.Thread(target=run, name="trimode-source-check", daemon=True)
    helper.start()
    helper.join(seconds)
    if helper.is_alive():
        raise timeout_error(shown, data, waited=seconds)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def filesystem_of(source: str, data: DataConfig | None = None):
    """fsspec's filesystem and path of a source, its client given the source's timeouts."""
    import fsspec

    protocol = fsspec.core.split_protocol(source)[0] or "file"
    options = storage_options(protocol, data or DEFAULTS)
    return fsspec.core.url_to_fs(source, **options)


def storage_options(protocol: str, data: DataConfig) -> dict[str, Any]:
    """The fsspec options that bound a filesystem's waits, for the protocols that have any."""
    connect, read = data.connect_timeout_s, data.read_timeout_s
    if protocol in ("http", "https"):
        import aiohttp

        timeout = aiohttp.ClientTimeout(sock_connect=connect, connect=connect, sock_read=read)
        return {"client_kwargs": {"timeout": timeout}}
    if protocol in ("s3", "s3a"):
        return {"config_kwargs": {"connect_timeout": connect, "read_timeout": read}}
    return {}


def exists(filesystem, path: str) -> bool:
    """Whether path exists, a source that does not answer raising (fsspec's own `exists`
    says False then, and the run would say the source does not exist)."""
    try:
        filesystem.info(path)
    except FileNotFoundError as error:
        if timed_out(error):
            raise
        return False
    return True


def connect_args(url, data: DataConfig) -> dict[str, Any]:
    """The driver's arguments that bound a database's waits, by dialect and driver (a
    setting the URL makes itself is left to it)."""
    import sqlalchemy as sa

    connect, read = data.connect_timeout_s, data.read_timeout_s
    try:
        backend, driver = url.get_backend_name(), url.get_driver_name()
    except sa.exc.NoSuchModuleError:  # no such dialect installed: create_engine says so
        return {}
    if backend == "sqlite":  # how long to wait for a lock another process holds
        args: dict[str, Any] = {"timeout": connect}
    elif backend == "postgresql" and driver in ("psycopg", "psycopg2"):
        args = {"connect_timeout": max(1, round(connect))}
        args["options"] = f"-c statement_timeout={round(read * 1000)}"
    elif backend in ("mysql", "mariadb") and driver in ("pymysql", "mysqldb"):
        args = {"connect_timeout": max(1, round(connect)), "read_timeout": max(1, round(read))}
    elif backend == "mssql" and driver == "pyodbc":
        args = {"timeout": max(1, round(connect))}
    else:
        args = {}
    return {name: value for name, value in args.items() if name not in url.query}
