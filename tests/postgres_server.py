"""Start and stop a throwaway PostgreSQL server for the tests (standard library only).

The server is a fresh cluster (initdb) in a folder of its own, listening on 127.0.0.1
on a free port, with a password-protected role and a database for the tests. As root it
runs as the `postgres` user (PostgreSQL refuses to run as root).

.ci/run uses it from the command line before the tests, and exports the URL it prints:

    python3 tests/postgres_server.py start FOLDER   # prints postgresql+psycopg://...
    python3 tests/postgres_server.py stop FOLDER

The tests use it through `start` and `stop` when TRIMODE_TEST_POSTGRES_URL is not set.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

URL_VARIABLE = "TRIMODE_TEST_POSTGRES_URL"
ROLE = "trimode"
PASSWORD = "trimode-tests"
DATABASE = "trimode_tests"


class ServerError(RuntimeError):
    """No server could be started; the message says why."""


def binaries() -> Path:
    """The folder of initdb and pg_ctl: Debian's newest /usr/lib/postgresql/*/bin, or PATH."""
    folders = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda name: int(Path(name).parent.name)
    )
    for folder in reversed(folders):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    raise ServerError("no PostgreSQL server binaries (initdb, pg_ctl): install `postgresql`")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_as_owner(command: list[str], folder: Path) -> subprocess.CompletedProcess:
    """Run a server command as the folder's owner (the `postgres` user when we are root)."""
    user = "postgres" if os.geteuid() == 0 else None
    result = subprocess.run(
        [str(part) for part in command],
        cwd=folder,
        user=user,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    if result.returncode != 0:
        raise ServerError(f"{Path(command[0]).name} failed:\n{result.stdout}{result.stderr}")
    return result


def start(folder: Path | str) -> str:
    """Make a cluster in folder (new or empty), start it; return its SQLAlchemy URL."""
    folder = Path(folder)
    bin_dir = binaries()
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        try:
            shutil.chown(folder, "postgres", "postgres")
        except (LookupError, OSError) as error:
            raise ServerError(
                f"running as root and no `postgres` user to run as: {error}"
            ) from None
    data = folder / "data"
    password_file = folder / "password"
    password_file.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(password_file, "postgres", "postgres")
    _run_as_owner(
        [
            bin_dir / "initdb",
            "--pgdata",
            data,
            "--username",
            ROLE,
            "--pwfile",
            password_file,
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--no-sync",
        ],
        folder,
    )
    port = free_port()
    (folder / "port").write_text(str(port))
    options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off"
    log = folder / "server.log"
    start_server = ["start", "--wait", "--pgdata", data, "--log", log, "--options", options]
    _run_as_owner([bin_dir / "pg_ctl", *start_server], folder)
    createdb = bin_dir / "createdb"
    env = {**os.environ, "PGPASSWORD": PASSWORD}
    made = subprocess.run(
        [str(createdb), "-h", "127.0.0.1", "-p", str(port), "-U", ROLE, DATABASE],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if made.returncode != 0:
        stop(folder)
        raise ServerError(f"createdb failed: {made.stderr}")
    return f"postgresql+psycopg://{ROLE}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}"


def stop(folder: Path | str) -> None:
    """Stop the server started in folder, if it runs."""
    data = Path(folder) / "data"
    if (data / "postmaster.pid").exists():
        _run_as_owner(
            [binaries() / "pg_ctl", "--pgdata", data, "--mode", "fast", "--wait", "stop"],
            Path(folder),
        )


def main(arguments: list[str]) -> int:
    """`start FOLDER` (prints the URL) or `stop FOLDER`."""
    if len(arguments) != 2 or arguments[0] not in {"start", "stop"}:
        print(f"usage: {sys.argv[0]} start|stop FOLDER", file=sys.stderr)
        return 2
    try:
        if arguments[0] == "start":
            print(start(arguments[1]))
        else:
            stop(arguments[1])
    except ServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
