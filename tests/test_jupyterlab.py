"""`uv run jupyter lab` opens a generated project's notebooks: the server of the project's
environment starts, lists them, opens one with a kernel of that environment that imports
the project's package and the runtime, and stops.

The project is the classification project of the shared environment of the slow tests
(generated.py): the dev group it installs holds JupyterLab, as a project's own does.
"""

from __future__ import annotations

import ast
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from generated import PROJECTS, XDIST_GROUP, Environment

# One worker owns the shared environment when the suite runs under pytest-xdist (-n).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(XDIST_GROUP)]

PROJECT = PROJECTS[0]
# A first start on a busy machine imports a lot (the server, its extensions).
START_TIMEOUT_S = 120
TOKEN = "test-token-of-this-run"


@dataclass(frozen=True)
class Server:
    """A running JupyterLab: its address, its runtime folder (kernel connection files),
    the project it is rooted at, and the environment it runs in."""

    url: str
    runtime: Path
    project: Path
    environment: Environment

    def call(self, path: str, method: str = "GET", body: object = None) -> object:
        """The JSON answer of the REST API at path, with the token."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Authorization", f"token {TOKEN}")
        with urllib.request.urlopen(request, timeout=30) as answer:
            text = answer.read().decode()
        return json.loads(text) if text else None


def free_port() -> int:
    """A port nobody listens on now on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def status_of(url: str, token: str | None) -> int:
    """The HTTP status of a GET of url, with the token if any; 0 when nothing answers."""
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


@pytest.fixture
def jupyterlab(tmp_path: Path, environment: Environment) -> Iterator[Server]:
    """JupyterLab from the project's environment on 127.0.0.1, rooted at the project, with
    a known token and its own config, data and runtime folders (a user's Jupyter settings
    change nothing, and nothing is written in their home). Stopped at the end, even on
    failure."""
    project = environment.folders[PROJECT.slug]
    port, runtime, log = free_port(), tmp_path / "runtime", tmp_path / "jupyterlab.log"
    folders = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
        "IPYTHONDIR": "ipython",
    }
    variables = environment.variables()
    variables |= {name: str(tmp_path / sub) for name, sub in folders.items()}
    variables["JUPYTER_PLATFORM_DIRS"] = "1"  # the paths of jupyter_core 6, no warning
    command = [
        environment.command("python"),
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # that port or fail, never another one
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={project}",
        "--ServerApp.allow_root=True",  # CI containers run as root
    ]
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=variables, cwd=project
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while status_of(f"{url}/api/status", TOKEN) != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start ({command}):\n{log.read_text()}")
            time.sleep(0.5)
        yield Server(url, runtime, project, environment)
    finally:
        process.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_jupyterlab_lists_and_opens_the_notebooks(jupyterlab: Server):
    url = jupyterlab.url
    # The token is required: without it the API refuses.
    assert status_of(f"{url}/api/contents", None) == 403
    assert status_of(f"{url}/lab", TOKEN) == 200  # JupyterLab's page, not only the server
    listing = jupyterlab.call("/api/contents/notebooks")
    assert isinstance(listing, dict)
    listed = {item["name"] for item in listing["content"] if item["type"] == "notebook"}
    files = sorted((jupyterlab.project / "notebooks").glob("*.ipynb"))
    assert files and listed == {path.name for path in files}
    for path in files:
        opened = jupyterlab.call(f"/api/contents/notebooks/{path.name}?content=1")
        assert isinstance(opened, dict) and opened["format"] == "json"
        saved = json.loads(path.read_text(encoding="utf-8"))
        assert len(opened["content"]["cells"]) == len(saved["cells"]) > 0

    # Open the first notebook as JupyterLab does: a session with a Python kernel, which
    # must run in the project's environment and import its package and the runtime.
    session = jupyterlab.call(
        "/api/sessions",
        "POST",
        {"path": f"notebooks/{files[0].name}", "type": "notebook", "kernel": {"name": "python3"}},
    )
    assert isinstance(session, dict)
    kernel_id = session["kernel"]["id"]
    value = evaluate_in_kernel(
        jupyterlab.runtime / f"kernel-{kernel_id}.json",
        f"import sys, trimode, {PROJECT.package}",
        "sys.prefix",
    )
    # The project's environment, not the one running the tests.
    assert Path(ast.literal_eval(value)).resolve() == jupyterlab.environment.venv.resolve()
    jupyterlab.call(f"/api/sessions/{session['id']}", "DELETE")
    assert jupyterlab.call("/api/kernels") == []


def evaluate_in_kernel(connection_file: Path, code: str, expression: str) -> str:
    """Run code in the kernel of the connection file, then return the repr of expression.
    Only the shell channel is used: its requests wait until the kernel is up, and its
    reply carries the value (no output to catch on a channel subscribed late)."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    client.start_channels(iopub=False, stdin=False, hb=False, control=False)
    try:
        request = client.execute(code, silent=True, user_expressions={"value": expression})
        reply = client.get_shell_msg(timeout=START_TIMEOUT_S)
        assert reply["parent_header"]["msg_id"] == request
        content = reply["content"]
        assert content["status"] == "ok", content
        result = content["user_expressions"]["value"]
        assert result["status"] == "ok", result
        return str(result["data"]["text/plain"])
    finally:
        client.stop_channels()
