"""Crash consistency of real runs: `train` and `fetch-sample` killed with SIGKILL at every
checkpoint of publishing, then `predict` and `report` (readers) see a complete model, the
last one that was published, and the next run leaves no temporaries or leftovers.

The run is a child process of the command line whose publishing pauses at the chosen
checkpoint (the hook publish._fault; steps: publish.STEPS): the test waits until it is
there, then kills it with SIGKILL, which runs no handler of any kind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trimode.artifacts.publish import STEPS
from trimode.core.layout import MANIFEST_FILE, META_FILE, SAMPLE_FILE
from trimode.data.sampling import ensure_sample, read_meta
from trimode.workflows.predict import predict_file
from trimode.workflows.report import build_report
from trimode.workflows.session import load_config
from trimode.workflows.train import train

from .conftest import make_configs

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX"),
]

# A child that runs the command line and pauses at one checkpoint of publishing (or at the
# sample's metadata, for a fetch), saying so in a file: the test kills it there.
CHILD = """
import sys, time
from pathlib import Path
from trimode.artifacts import publish
from trimode.core import io
step, flag, argv = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]

def pause():
    flag.write_text(step)
    time.sleep(600)

publish._fault = lambda reached: pause() if reached == step else None
if step.startswith("sample-"):  # a fetch: at the sample's or its metadata's temporary
    write_together = io.write_together
    def paused(writes):  # the file's temporary written, not yet renamed
        name = "sample.meta.json" if step == "sample-written" else "sample.parquet"
        if any(path.name == name for path in writes):
            writes = {path: lambda temporary, write=write: (write(temporary), pause())
                      for path, write in writes.items()}
        write_together(writes)
    io.write_together = paused
    import trimode.core.writes
    trimode.core.writes.write_together = paused
from trimode.cli.main import main
sys.exit(main(argv))
"""


def killed_at(step: str, argv: list[str], folder: Path, starter: Path) -> None:
    """Run the command line in a child paused at step, and SIGKILL it there."""
    flag = folder / f"reached-{step}"
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(starter.parent), *sys.path])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, step, str(flag), *argv],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300
    while not flag.exists():
        if child.poll() is not None:
            raise AssertionError(f"the run ended before {step}: {child.stderr.read().decode()}")
        assert time.monotonic() < deadline, f"the run never reached {step}"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    flag.unlink()


def temporaries(root: Path) -> list[str]:
    """Files a run writes only for a while: temporaries, staging and previous folders, the
    publishing journal."""
    names = (".tmp", ".staging-", ".previous-", ".journal.json")
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if any(name in path.name for name in names) and ".venv" not in path.parts
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project whose test mode reads a few hundred rows of its own CSV file (a sample)."""
    root = tmp_path_factory.mktemp("crash")
    configs = make_configs(root, base={"data": {"synthetic_rows": 600}})
    return root, configs


@pytest.mark.parametrize("step", STEPS)
def test_a_train_killed_at_any_checkpoint_leaves_readers_a_complete_model(
    project, step, starter_package, tmp_path
):
    root, configs = project
    config = load_config("test", configs)
    output_root = config.output_dir
    if not output_root.exists():
        train(config)  # the last good model
    before = json.loads((output_root / MANIFEST_FILE).read_text())

    killed_at(
        step, ["train", "--mode", "test", "--config-dir", str(configs)], root, starter_package
    )

    # Readers, right after the kill, before any run settles anything: the model is whole,
    # the one before or the new one (once the new outputs were renamed into place).
    rows = tmp_path / "rows.csv"
    rows.write_text(_rows(config), encoding="utf-8")
    scored = predict_file(
        config.project, str(rows), tmp_path / "scored.csv", output_root, allow_non_production=True
    )
    swapped = STEPS.index(step) >= STEPS.index("staging-renamed")
    # (two runs' manifests differ at least in their timings)
    assert (scored.manifest == before) == (not swapped)
    report = build_report(load_config("test", configs), tracked_runs=[])
    assert report.is_file() and output_root.is_dir()
    assert json.loads((output_root / MANIFEST_FILE).read_text()) == scored.manifest
    # The report is the next run here (it writes into the output root): it settled what
    # the kill left, and nothing of the killed run is left.
    assert temporaries(root) == []


def _rows(config) -> str:
    """A few rows of the mode's data as CSV: what predict scores."""
    from trimode.workflows.session import load_data

    return load_data(config).frame.head(20).to_csv(index=False)


def fetched_once(tmp_path):
    """A project whose test-mode sample is fetched, and the command line of a fetch of
    another sample (another seed) for a run to kill."""
    configs = make_configs(tmp_path, base={"data": {"max_rows": 300, "synthetic_rows": 2_000}})
    config = load_config("test", configs)
    ensure_sample(config)
    argv = ["fetch-sample", "--mode", "test", "--config-dir", str(configs), "--set", "train.seed=7"]
    return config, argv


def test_a_fetch_killed_between_the_sample_and_its_metadata_is_fetched_again(
    tmp_path, starter_package
):
    config, argv = fetched_once(tmp_path)
    folder = config.sample_folder
    first = read_meta(folder)
    killed_at("sample-written", argv, tmp_path, starter_package)
    # The new sample is in place, its metadata not yet: a run sees they do not match...
    assert read_meta(folder) == first
    assert (folder / META_FILE).stat().st_mtime_ns < (folder / SAMPLE_FILE).stat().st_mtime_ns
    assert [path.name for path in folder.iterdir() if path.name.endswith(".tmp")] != []
    fetched, _ = ensure_sample(config)
    # ... and fetches again: the sample and its metadata agree, the killed fetch's
    # temporaries are gone.
    assert fetched is not None and "metadata" in fetched.reason
    assert read_meta(folder)["content_hash"] == fetched.meta["content_hash"]
    assert ensure_sample(config)[0] is None
    assert temporaries(tmp_path) == []


def test_a_fetch_killed_before_any_rename_leaves_the_sample_and_no_temporary(
    tmp_path, starter_package
):
    config, argv = fetched_once(tmp_path)
    folder = config.sample_folder
    sample = (folder / SAMPLE_FILE).read_bytes()
    killed_at("sample-temporary-written", argv, tmp_path, starter_package)
    assert (folder / SAMPLE_FILE).read_bytes() == sample and temporaries(tmp_path) != []
    assert ensure_sample(config)[0] is None  # the sample in place is whole: kept
    assert temporaries(tmp_path) == []
