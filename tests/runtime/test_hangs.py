"""Nothing hangs: a source that does not answer, a step past the time budget, too many
workers, SIGTERM. The waits asserted are upper bounds with generous slack: these tests
are about not hanging, never about speed."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from http_files import RangeRequestHandler, http_server

from trimode.data.loading import load_dataset
from trimode.data.sampling import fetch_sample
from trimode.data.sources import source_fingerprint
from trimode.data.synthetic import make_dataset
from trimode.data.timeouts import SourceTimeout

from .conftest import machine_config

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
    """A test-mode config with short source timeouts, its samples under tmp_path."""
    base = {"data": {"target": "churned", "max_rows": 200, "sample_dir": str(tmp_path / "data")}}
    return machine_config(tmp_path / "project", base=base, data=QUICK)


def with_source(config, source: str):
    return config.model_copy(update={"data": config.data.model_copy(update={"source": source})})


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


def test_a_run_with_a_sample_goes_on_when_the_source_does_not_answer(config, tmp_path):
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
        finally:
            Silenced.released.set()
    assert second.fetched is None
    assert second.frame.equals(first.frame)
    (note,) = [note for note in second.notes if "cannot check the source" in note]
    assert "did not answer" in note and "data.read_timeout_s" in note, note
    print(f"waited {waited:.1f} s on a source that never answers, with a sample")
    assert waited < 1.5 + 10, waited
