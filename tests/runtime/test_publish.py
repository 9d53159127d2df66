"""Publishing: a kill at any step of the swap leaves the newest complete outputs, leftovers
of killed runs go, and a folder the project did not make is never replaced or written into.

A kill is a child process (os.fork) that ends with os._exit at the chosen step (the hook
publish._fault): like SIGKILL, it runs no `except`, `finally` or exit handler, and its
lock goes with it. The "models" are a few small files: publishing only moves folders.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trimode.artifacts import publish
from trimode.artifacts.publish import (
    STEPS,
    check_output_root,
    lock_path,
    publishing,
    recover,
    writing_into,
)
from trimode.core.errors import ConfigError
from trimode.core.layout import (
    LEADERBOARD_JSON,
    MANIFEST_FILE,
    MARKER_FILE,
    METRICS_FILE,
    MODEL_FILE,
    PIPELINE_FILES,
    REPORT_FILE,
)
from trimode.modelling.compare import Leaderboard
from trimode.workflows.compare import compare, save_leaderboard

from .conftest import machine_config

# The runtime's guarantee, whatever the data: slow tests (-m "not slow" leaves them out).
pytestmark = pytest.mark.slow

KEY = "outputs.root in configs/production.toml"
KILLED = 77  # the exit status of a child killed at its step


def model(label: str) -> dict[str, bytes]:
    """The files of a fake run's outputs."""
    return {
        MODEL_FILE: f"model {label}".encode(),
        METRICS_FILE: json.dumps({"model": label}).encode(),
        MANIFEST_FILE: json.dumps({"model": label, "finished_at": label}).encode(),
    }


OLDER, OLD, NEW, NEXT = (model(label) for label in ("older", "old", "new", "next"))


def write(folder: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (folder / name).write_bytes(content)


def publish_model(root: Path, files: dict[str, bytes]) -> None:
    with publishing(root, KEY) as staging:
        write(staging, files)


def model_in(root: Path) -> dict[str, bytes] | None:
    """The outputs in root, without the marker; None when there is no root."""
    if not root.exists():
        return None
    return {path.name: path.read_bytes() for path in root.iterdir() if path.name != MARKER_FILE}


def beside(root: Path) -> list[str]:
    """Everything beside the output root (staging and previous folders, the journal), but
    the lock's file: it stays by design (publish.py), since removing it while another run
    waits on it would let a third take a lock of its own."""
    kept = {root.name, lock_path(root).name}
    return sorted(path.name for path in root.parent.iterdir() if path.name not in kept)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
    }


def killed_at(step: str, root: Path, files: dict[str, bytes]) -> int:
    """Publish files into root in a child process killed at step; return its exit status
    (0: it never reached the step and published)."""
    pid = os.fork()
    if pid == 0:  # the child: leave only through os._exit, as a killed process does
        status = 1
        try:
            publish._fault = lambda reached: os._exit(KILLED) if reached == step else None
            publish_model(root, files)
            status = 0
        finally:
            os._exit(status)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def plant_stale_leftovers(root: Path) -> None:
    """What a run killed long before can leave: an older model set aside in a folder whose
    name sorts last (the one a guess by name would take), and a half-written staging folder."""
    aside = root.parent / f".{root.name}.previous-zzzzzzzz" / root.name
    aside.mkdir(parents=True)
    write(aside, OLDER)
    (aside / MARKER_FILE).write_text("{}")
    staging = root.parent / f".{root.name}.staging-zzzzzzzz"
    staging.mkdir()
    (staging / MODEL_FILE).write_bytes(b"half")


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch):
    """A killed process loses nothing it wrote (the kernel still has it); fsync is for a
    power cut, which these tests do not make: spare its cost (most of their time)."""
    monkeypatch.setattr(os, "fsync", lambda handle: None)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "outputs" / "production"


@pytest.mark.parametrize("then", ["recover", "next run"])
@pytest.mark.parametrize("before", ["nothing", "a model", "a model and stale leftovers"])
@pytest.mark.parametrize("step", STEPS)
def test_a_kill_at_any_step_leaves_the_newest_complete_outputs(root, step, before, then):
    previous = None if before == "nothing" else OLD
    if previous:
        publish_model(root, previous)
    status = killed_at(step, root, NEW)
    # Without a root before, the run has no old root to move aside: those steps never come.
    reached = previous is not None or step not in ("root-renamed", "moved-previous-aside")
    assert status == (KILLED if reached else 0)
    swapped = not reached or STEPS.index(step) >= STEPS.index("staging-renamed")
    assert (root.parent / ".production.journal.json").exists() == (reached and step != "done")
    if before == "a model and stale leftovers":  # (a run's start removes those before it)
        plant_stale_leftovers(root)
    expected = NEW if swapped else previous
    if then == "recover":
        recover(root)
        assert model_in(root) == expected
    else:
        with publishing(root, KEY) as staging:
            assert model_in(root) == expected  # settled before the run writes anything
            write(staging, NEXT)
        expected = NEXT
    assert beside(root) == []
    assert expected is None or (root / MARKER_FILE).is_file()


def test_a_kill_in_the_swap_of_an_earlier_version_gets_the_last_set_aside_back(root):
    """Earlier template versions kept no journal: their last set-aside outputs come back."""
    root.parent.mkdir(parents=True)
    for name, files, seconds in (("zzzzzzzz", OLDER, 1_000), ("aaaaaaaa", OLD, 2_000)):
        aside = root.parent / f".production.previous-{name}"
        (aside / root.name).mkdir(parents=True)
        write(aside / root.name, files)
        os.utime(aside, (seconds, seconds))
    recover(root)
    assert model_in(root) == OLD
    assert beside(root) == []


def test_a_failed_run_leaves_the_previous_outputs_and_no_leftovers(root):
    publish_model(root, OLD)

    def interrupted_run() -> None:
        with publishing(root, KEY) as staging:
            write(staging, NEW)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_run()
    assert model_in(root) == OLD
    assert beside(root) == []


def test_the_leaderboard_is_carried_over_and_the_report_is_not(root):
    publish_model(root, OLD)
    (root / "leaderboard.csv").write_text("model\nx\n")
    (root / "report.html").write_text("<p>the old model</p>")
    publish_model(root, NEW)
    assert model_in(root) == {**NEW, "leaderboard.csv": b"model\nx\n"}


def test_a_file_a_person_put_beside_the_model_survives_the_next_run(root):
    publish_model(root, OLD)
    (root / "scores.csv").write_text("id,prediction\n1,0\n")  # predict --output there
    publish_model(root, NEW)
    assert model_in(root) == {**NEW, "scores.csv": b"id,prediction\n1,0\n"}


def test_a_second_run_waits_for_the_first(root, monkeypatch):
    """It takes the lock only when the first is done: it never sees the first's staging
    folder as a leftover of a killed run."""
    steps: list[tuple[str, str]] = []
    monkeypatch.setattr(publish, "_fault", lambda step: steps.append((thread_name(), step)))
    second = threading.Thread(target=publish_model, args=(root, NEXT), name="second")
    with publishing(root, KEY) as staging:
        write(staging, NEW)
        second.start()
        second.join(0.2)  # time to reach the lock; a second run that did not wait is done
        assert second.is_alive()
        assert model_in(staging) == NEW
    second.join()
    first = [step for step in STEPS if step not in ("root-renamed", "moved-previous-aside")]
    assert steps == [("MainThread", step) for step in first] + [("second", step) for step in STEPS]
    assert model_in(root) == NEXT
    assert beside(root) == []


def thread_name() -> str:
    return threading.current_thread().name


def foreign_folder(tmp_path: Path) -> Path:
    """A folder of the user's own files: notebooks, a subfolder."""
    folder = tmp_path / "my_files"
    (folder / "drafts").mkdir(parents=True)
    (folder / "analysis.ipynb").write_text('{"cells": []}')
    (folder / "drafts" / "notes.txt").write_text("mine")
    return folder


def test_a_folder_the_project_did_not_make_is_refused_untouched(tmp_path):
    folder = foreign_folder(tmp_path)
    before, around = snapshot(folder), sorted(tmp_path.iterdir())
    with pytest.raises(ConfigError) as refused, publishing(folder, KEY):
        pytest.fail("a run may not write for a folder it will not publish into")
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"{KEY}: {folder} was not made by this project (no marker")
    assert "choose another outputs.root or empty/remove the folder yourself" in message
    assert snapshot(folder) == before
    assert sorted(tmp_path.iterdir()) == around


def test_a_folder_put_into_an_output_root_is_refused(root):
    publish_model(root, OLD)
    (root / "mine").mkdir()
    before = snapshot(root)
    with pytest.raises(ConfigError, match=r"holds folders \(mine/\)"), publishing(root, KEY):
        pass
    assert snapshot(root) == before


def test_the_lock_of_an_output_root_once_inside_a_folder_is_the_projects_own(tmp_path):
    """A root's lock file stays beside it: once outputs/production/ is removed, outputs/
    holds only the project's own lock, and may become an output root itself."""
    inner, outer = tmp_path / "outputs" / "production", tmp_path / "outputs"
    publish_model(inner, OLD)
    with pytest.raises(ConfigError, match=r"was not made by this project .*it holds production/\)"):
        check_output_root(outer, KEY)
    shutil.rmtree(inner)
    assert [path.name for path in outer.iterdir()] == [lock_path(inner).name]
    publish_model(outer, NEW)
    assert model_in(outer) == NEW  # the stale lock is not carried over
    # A file of that name that is not empty is not a lock of the project's.
    (outer.parent / "mine").mkdir()
    (outer.parent / "mine" / ".notes.lock").write_text("mine")
    with pytest.raises(ConfigError, match=r"it holds \.notes\.lock\)"):
        publish_model(outer.parent / "mine", NEW)


EARLIER = [MODEL_FILE, METRICS_FILE, MANIFEST_FILE, "leaderboard.json", "report.html"]


@pytest.mark.parametrize("names", [[], EARLIER], ids=["empty", "earlier version"])
def test_an_empty_folder_or_one_of_an_earlier_version_is_replaced(root, names):
    """Output roots of earlier template versions have no marker, only the pipeline's files."""
    root.mkdir(parents=True)
    for name in names:
        (root / name).write_text("earlier")
    publish_model(root, NEW)
    carried = {"leaderboard.json": b"earlier"} if names else {}
    assert model_in(root) == {**NEW, **carried}
    assert (root / MARKER_FILE).is_file()


def tiny_leaderboard() -> Leaderboard:
    rows = pd.DataFrame({"model": ["dummy_baseline"], "roc_auc_mean": [0.5], "roc_auc_std": [0.0]})
    folds = [(np.array([0, 1]), np.array([2, 3])), (np.array([2, 3]), np.array([0, 1]))]
    return Leaderboard("test", "classification", "roc_auc", 4, 2, 0, rows, folds, {})


@pytest.mark.parametrize("earlier", [False, True], ids=["missing", "earlier version"])
def test_the_leaderboard_goes_into_a_marked_folder_of_its_own(root, earlier):
    before = OLD if earlier else {}
    if earlier:
        root.mkdir(parents=True)
        write(root, OLD)
    written = [path.name for path in save_leaderboard(tiny_leaderboard(), root, KEY)]
    assert set(written) <= PIPELINE_FILES
    assert sorted(path.name for path in root.iterdir()) == sorted([MARKER_FILE, *before, *written])


def test_compare_and_report_refuse_a_folder_the_project_did_not_make(tmp_path):
    from trimode.workflows.report import build_report

    assert {REPORT_FILE, LEADERBOARD_JSON} <= PIPELINE_FILES
    folder = foreign_folder(tmp_path)
    before = snapshot(folder)
    config = machine_config(tmp_path, outputs={"root": folder.name})
    for write_into in (
        lambda: save_leaderboard(tiny_leaderboard(), folder, KEY),
        lambda: compare(config),
        lambda: build_report(config),
        lambda: writing_into(folder, KEY).__enter__(),
    ):
        with pytest.raises(ConfigError, match="was not made by this project"):
            write_into()
    assert snapshot(folder) == before
