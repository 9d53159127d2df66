"""Nothing hangs: a source that does not answer, a step past the time budget, too many
workers, SIGTERM. The waits asserted are upper bounds with generous slack: these tests
are about not hanging, never about speed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import tomlkit
from http_files import RangeRequestHandler, http_server

from trimode.core.errors import ConfigError
from trimode.core.layout import META_FILE, SAMPLE_FILE
from trimode.core.stopping import Terminated, handling_signals, interrupts_held
from trimode.data.loading import load_dataset
from trimode.data.sampling import fetch_sample
from trimode.data.sources import source_fingerprint
from trimode.data.synthetic import make_dataset
from trimode.data.timeouts import SourceTimeout, connect_args, timed_out

from .conftest import machine_config, make_configs, with_data, write_pyproject

# Short timeouts, so that a test waits a second or two on a source that never answers.
QUICK = {"connect_timeout_s": 0.5, "read_timeout_s": 1}


@contextmanager
def silent_server() -> Iterator[str]:
    """A server on 127.0.0.1 that accepts connections and never answers; its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:  # closed: the test is over
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for connection in accepted:
            connection.close()


class Silenced:
    """A switch the file server consults: once on, requests wait until the test ends."""

    on = False
    released = threading.Event()


class SilenceableHandler(RangeRequestHandler):
    def send_head(self):
        if Silenced.on:  # accepted, never answered
            Silenced.released.wait(60)
            return None
        return super().send_head()


@pytest.fixture
def config(tmp_path):
    """A test-mode config with short source timeouts, its samples in its project."""
    base = {"data": {"target": "churned", "max_rows": 200, "sample_dir": "data"}}
    return machine_config(tmp_path / "project", base=base, data=QUICK)


def with_source(config, source: str):
    return with_data(config, source=source)


def test_a_source_that_never_answers_is_one_line_naming_it_and_the_key(config):
    with silent_server() as url:
        source = with_source(config, f"{url}/rows.csv")
        started = time.monotonic()
        with pytest.raises(SourceTimeout) as refused:
            source_fingerprint(source.data)
        waited = time.monotonic() - started
        with pytest.raises(SourceTimeout) as no_sample:
            fetch_sample(source)
    message = str(refused.value)
    assert f"{url}/rows.csv" in message and "data.read_timeout_s" in message, message
    assert "\n" not in message
    assert "data.read_timeout_s" in str(no_sample.value)
    # Bounded by the two timeouts (1.5 s here), whatever fsspec retries: slack for a busy
    # machine.
    assert waited < 1.5 + 10, waited
    assert not (config.sample_folder).exists()  # nothing half-written


def test_a_run_with_a_sample_goes_on_when_the_source_does_not_answer(config, tmp_path, monkeypatch):
    from trimode.data import sampling

    folder = tmp_path / "served"
    folder.mkdir()
    make_dataset("classification", 500, seed=5).to_csv(folder / "rows.csv", index=False)
    Silenced.on = False
    with http_server(folder, handler=SilenceableHandler) as url:
        source = with_source(config, f"{url}/rows.csv")
        first = load_dataset(source)
        assert first.fetched is not None and len(first.frame) == 200
        Silenced.on = True
        try:
            started = time.monotonic()
            second = load_dataset(source)
            waited = time.monotonic() - started
            # Not asked again in this process for a while (a commit's tests load often).
            asked = []
            monkeypatch.setattr(sampling, "source_fingerprint", lambda *a, **k: asked.append(1))
            third = load_dataset(source)
        finally:
            Silenced.released.set()
    assert second.fetched is None and third.fetched is None and asked == []
    assert second.frame.equals(first.frame) and third.frame.equals(first.frame)
    (note,) = [note for note in second.notes if "cannot check the source" in note]
    assert "did not answer" in note and "data.read_timeout_s" in note, note
    assert [note for note in third.notes if "cannot check the source" in note] == [note]
    print(f"waited {waited:.1f} s on a source that never answers, with a sample")
    assert waited < 0.5 + 10, waited  # the check waits data.connect_timeout_s at most


# A registry whose models never finish fitting: in small steps, in one long call, or in
# worker processes (each writes its process id into the folder PIDS names, then sleeps).
SLEEPY_MODELS = """
import os
import time
from pathlib import Path

from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin

from starter.models import MODELS as STARTER_MODELS
from trimode import ModelSpec


def nap(folder):
    (Path(folder) / f"worker-{os.getpid()}").touch()
    time.sleep(600)


class Sleepy(ClassifierMixin, BaseEstimator):
    def __init__(self, how="steps"):
        self.how = how

    def fit(self, x, y):
        Path(os.environ["PIDS"], "fitting").touch()
        if self.how == "steps":
            for _ in range(6_000):
                time.sleep(0.1)
        elif self.how == "call":
            time.sleep(600)
        else:
            Parallel(n_jobs=2)(delayed(nap)(os.environ["PIDS"]) for _ in range(2))
        return self


MODELS = {
    **STARTER_MODELS,
    "classification": {
        **STARTER_MODELS["classification"],
        **{
            f"sleepy_{how}": ModelSpec(make=lambda seed, n_jobs, how=how: Sleepy(how))
            for how in ("steps", "call", "workers")
        },
    },
}
"""


@pytest.fixture
def sleepy_project(tmp_path, starter_package):
    """A project whose registry holds the sleepy models; its root."""
    root = tmp_path / "project"
    make_configs(root)
    package = root / "src" / "sleepy"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(SLEEPY_MODELS)
    for name in ("features", "expectations"):
        (package / f"{name}.py").write_text(f"from starter.{name} import *  # noqa: F403\n")
    write_pyproject(root, package="sleepy")
    return root


def run_cli(root, pids, *argv: str) -> subprocess.Popen:
    """The command line in a process of its own, in the project, its output captured."""
    environment = {
        **os.environ,
        "PIDS": str(pids),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "trimode", *argv],
        cwd=root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def marked(pids) -> list[int]:
    """The processes alive whose environment holds PIDS=pids: the command's and every
    process it started, whether or not it got to run a task (Linux: /proc)."""
    found = []
    marker = f"PIDS={pids}".encode() + b"\0"
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def workers_in(pids) -> list[int]:
    return [int(path.name.split("-")[1]) for path in pids.glob("worker-*")]


def wait_for(condition, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def none_left(pids, seconds: float = 10) -> bool:
    """Whether every process the command started is gone (within seconds: a killed
    process takes a moment to go)."""
    wait_for(lambda: not marked(pids), seconds)
    return not marked(pids)


def test_a_commits_pytest_stopped_by_the_watchdog_still_says_why(sleepy_project, tmp_path):
    """pytest captures the error stream (file descriptor 2) and a forced exit drops what
    it caught: the plugin hands the watchdog the stream it found, so the line is seen."""
    pids = tmp_path / "pids"
    pids.mkdir()
    budget = {"train": {"models": ["sleepy_call"]}, "compute": {"time_budget_s": 2}}
    (sleepy_project / "configs" / "test.toml").write_text(tomlkit.dumps(budget))
    (sleepy_project / "tests").mkdir()
    (sleepy_project / "tests" / "test_pipeline.py").write_text(
        "from trimode.testing import checks\n\n"
        "test_writes = checks.writes_model_metrics_and_manifest\n"
    )
    environment = {**os.environ, "PIDS": str(pids), "PYTHONPATH": os.pathsep.join(sys.path)}
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=sleepy_project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 2, finished.stdout + finished.stderr
    assert "stopped in step 'fit'" in finished.stderr, finished.stdout + finished.stderr
    assert "compute.time_budget_s" in finished.stderr


# Seconds of budget per model: workers need some to start.
BUDGETS_S = {"steps": 4, "call": 4, "workers": 10}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds processes in /proc")
@pytest.mark.parametrize("how", sorted(BUDGETS_S))
def test_a_fit_past_the_budget_ends_in_one_line_within_the_budget(sleepy_project, tmp_path, how):
    budget = BUDGETS_S[how]
    pids = tmp_path / "pids"
    pids.mkdir()
    started = time.monotonic()
    process = run_cli(
        sleepy_project,
        pids,
        "train",
        "--mode",
        "test",
        "--model",
        f"sleepy_{how}",
        "--set",
        f"compute.time_budget_s={budget}",
        "--set",
        "compute.n_jobs=1",
    )
    try:
        _, stderr = process.communicate(timeout=budget + 120)
    finally:
        process.kill()
    waited = time.monotonic() - started
    print(f"waited {waited:.1f} s on a fit that sleeps ({how}), budget {budget} s")
    assert (pids / "fitting").exists(), stderr  # the fit did start
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert process.returncode == 2, stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "compute.time_budget_s" in lines[0] and "'fit'" in lines[0], stderr
    assert waited < budget + 30 + 30, waited  # the interpreter's start-up too
    assert not (sleepy_project / "outputs" / "test").exists()
    assert none_left(pids), marked(pids)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds processes in /proc")
def test_sigterm_during_train_ends_workers_in_one_line_exit_143(sleepy_project, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    process = run_cli(sleepy_project, pids, "train", "--mode", "test", "--model", "sleepy_workers")
    try:
        wait_for(lambda: len(workers_in(pids)) == 2 or process.poll() is not None)
        assert process.poll() is None, process.communicate()
        assert len(marked(pids)) >= 3  # the command and its two workers, found
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 143, stderr
    assert stderr.strip() == "terminated", stderr
    assert none_left(pids), marked(pids)
    assert not (sleepy_project / "outputs" / "test").exists()


def test_sigterm_while_a_sample_is_written_waits_for_its_metadata(config, monkeypatch):
    from trimode.data import sampling

    written = sampling.json_writer

    def terminated_first(value):
        signal.raise_signal(signal.SIGTERM)  # in the middle of the writes
        return written(value)

    monkeypatch.setattr(sampling, "json_writer", terminated_first)
    with pytest.raises(Terminated), handling_signals():
        fetch_sample(config)
    meta = json.loads((config.sample_folder / META_FILE).read_text("utf-8"))
    sample = pd.read_parquet(config.sample_folder / SAMPLE_FILE)
    assert meta["content_hash"] == sampling.frame_hash(sample)


def test_held_interrupts_come_after_the_body_and_handlers_are_restored():
    before = signal.getsignal(signal.SIGINT)
    finished = []
    with pytest.raises(KeyboardInterrupt), handling_signals(), interrupts_held():
        signal.raise_signal(signal.SIGINT)
        finished.append(True)
    assert finished == [True]
    assert signal.getsignal(signal.SIGINT) is before


def test_more_jobs_than_cores_is_one_line_naming_the_key_the_file_and_the_cores(tmp_path):
    cores = os.cpu_count()
    with pytest.raises(ConfigError) as refused:
        machine_config(tmp_path, compute={"n_jobs": cores + 1})
    message = str(refused.value)
    assert "compute.n_jobs" in message and "test.toml" in message, message
    assert f"{cores} cores" in message and "-1" in message, message
    assert machine_config(tmp_path / "ok", compute={"n_jobs": cores}).compute.n_jobs == cores


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///shop.db", {"timeout": 0.5}),
        (
            "postgresql+psycopg://bob@db/shop",
            {"connect_timeout": 1, "options": "-c statement_timeout=1000"},
        ),
        ("postgresql+psycopg://bob@db/shop?options=-c%20x%3D1", {"connect_timeout": 1}),
        ("mysql+pymysql://bob@db/shop", {"connect_timeout": 1, "read_timeout": 1}),
        ("mssql+pyodbc://bob@dsn", {"timeout": 1}),
        ("duckdb:///shop.duckdb", {}),
    ],
)
def test_each_database_driver_gets_the_timeouts_it_takes(config, url, expected):
    import sqlalchemy as sa

    assert connect_args(sa.engine.make_url(url), config.data) == expected


def test_a_timeout_is_told_from_other_failures_through_what_wraps_it():
    try:
        try:
            raise TimeoutError
        except TimeoutError as error:
            raise FileNotFoundError("http://host/rows.csv") from error
    except FileNotFoundError as wrapped:
        assert timed_out(wrapped)
    assert not timed_out(FileNotFoundError("rows.csv"))
