"""A `serve` process for the tests: started on a free port of 127.0.0.1, asked over real
HTTP, always stopped. Used by the runtime's serve tests and by generated projects'."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Bounds of every wait: they end the test, never set its pace.
START_TIMEOUT_S = 120
REQUEST_TIMEOUT_S = 60


@dataclass
class Server:
    """A `serve` process and where it answers."""

    process: subprocess.Popen
    port: int
    log: Path

    def ask(self, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
        """One request; the status and the answer's JSON (its text if it is none)."""
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(command: list[str], cwd: Path, environment: dict[str, str]) -> Iterator[Server]:
    """The serve command (the port added) run in cwd on a free port, until the block ends
    (then stopped: SIGTERM, a kill if it lingers); its log in cwd. Fails, with its log, if
    it does not answer /health in time."""
    port = free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=cwd,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, (
                f"serve ended ({process.returncode}):\n{server.log_text()}"
            )
            assert time.monotonic() < deadline, f"serve did not start:\n{server.log_text()}"
            try:
                if server.ask("GET", "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
