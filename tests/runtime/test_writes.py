"""The write guard (core/writes.py): where a run may write, what it owns, its writers'
temporaries; and a property test over every path-like key and option: whatever path a
user gives, no file that was there before changes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trimode
from trimode.artifacts import tracking
from trimode.artifacts.publish import publishing
from trimode.core.errors import ProjectError
from trimode.core.io import remove_stale_temporaries, temporary_name, write_atomically
from trimode.core.layout import MARKER_FILE, SAMPLE_FILE
from trimode.core.writes import (
    EJECT,
    PREDICTIONS,
    PROMOTE,
    SAMPLES,
    Guard,
    WriteRefused,
)
from trimode.data.sampling import fetch_sample
from trimode.workflows.predict import predict_file
from trimode.workflows.session import load_config

from .conftest import make_configs


@pytest.fixture
def guard(tmp_path: Path) -> Guard:
    """A project with its own folders, a source file and a source folder."""
    root = tmp_path / "project"
    for folder in ("configs", "src/pkg", "tests", "docs", ".git", "parts", "mine"):
        (root / folder).mkdir(parents=True)
    (root / "source.csv").write_text("a,b\n1,2\n")
    (root / "mine" / "notes.txt").write_text("my notes\n")
    sources = (root / "source.csv", root / "parts")
    return Guard(root, root / "configs", root / "src" / "pkg", sources)


def write(guard: Guard, path: Path, text: str = "x\n") -> None:
    guard.write(PREDICTIONS, {path: lambda temporary: temporary.write_text(text)})


@pytest.mark.parametrize(
    "place, says",
    [
        ("configs/test.toml", "own folder configs/"),
        ("src/pkg/out.csv", "own folder src/"),
        (".git/out.csv", "own folder .git/"),
        ("docs/x/y.csv", "own folder docs/"),
        ("source.csv", "the data source"),
        ("parts/extra.parquet", "the data source"),
        ("../outside.csv", "outside the project"),
    ],
)
def test_a_file_in_a_place_no_run_writes_is_refused(guard, place, says):
    path = guard.root / place
    with pytest.raises(WriteRefused, match=says) as refused:
        guard.file(path, "--output", PREDICTIONS)
    assert str(refused.value).startswith("--output: ")
    assert not (guard.root / "../outside.csv").exists()


def test_a_path_the_user_typed_or_the_config_allows_may_lie_outside(guard, tmp_path):
    outside = tmp_path / "elsewhere" / "scores.csv"
    assert guard.file(outside, "--output", PREDICTIONS, explicit=True) == outside
    allowing = Guard(guard.root, allow_outside=True)
    assert allowing.folder(tmp_path / "samples", "data.sample_dir", SAMPLES).name == "samples"


def test_a_folder_holding_a_source_or_leading_into_the_projects_folders_is_refused(guard):
    source = guard.root / "raw" / "customers.csv"
    reading = Guard(guard.root, sources=(source,))
    with pytest.raises(WriteRefused, match="holds or lies in the data source"):
        reading.folder(guard.root / "raw", "data.sample_dir", SAMPLES)
    (guard.root / "to-configs").symlink_to(guard.root / "configs")
    with pytest.raises(WriteRefused, match="own folder configs/"):
        guard.folder(guard.root / "to-configs" / "test", "data.sample_dir", SAMPLES)


def test_a_link_is_never_written_through_nor_replaced(guard):
    link = guard.root / "link.csv"
    link.symlink_to(guard.root / "mine" / "notes.txt")
    with pytest.raises(WriteRefused, match="symbolic link"):
        guard.file(link, "--output", PREDICTIONS, explicit=True)
    assert link.is_symlink() and (guard.root / "mine" / "notes.txt").read_text() == "my notes\n"


def test_a_folder_is_the_projects_when_new_empty_or_marked(guard):
    new = guard.folder(guard.root / "data" / "test", "data.sample_dir", SAMPLES)
    guard.write(SAMPLES, {new / SAMPLE_FILE: lambda temporary: temporary.write_text("rows")})
    assert (new / MARKER_FILE).is_file()
    assert guard.folder(new, "data.sample_dir", SAMPLES) == new  # marked: the project's
    (guard.root / "empty").mkdir()
    assert guard.folder(guard.root / "empty", "data.sample_dir", SAMPLES).name == "empty"
    with pytest.raises(WriteRefused, match=r"data.sample_dir: .*mine holds files .*notes.txt"):
        guard.folder(guard.root / "mine", "data.sample_dir", SAMPLES)
    adopted = guard.folder(guard.root / "mine", "key", SAMPLES, adopt=lambda folder: True)
    assert adopted.name == "mine"


@pytest.mark.parametrize("folder", [".", "..", "tests", "src"])
def test_a_folder_holding_the_project_or_its_folders_is_refused(guard, folder):
    with pytest.raises(WriteRefused, match=r"data\.sample_dir"):
        guard.folder(guard.root / folder, "data.sample_dir", SAMPLES)


def test_a_file_is_the_projects_while_it_is_as_the_project_wrote_it(guard):
    path = guard.root / "out" / "scores.csv"
    write(guard, path)
    assert guard.file(path, "--output", PREDICTIONS) == path  # in the ledger, unchanged
    write(guard, path, "again\n")
    with path.open("a") as edited:  # a person's edit: theirs now
        edited.write("mine\n")
    with pytest.raises(WriteRefused, match="this project did not write it"):
        guard.file(path, "--output", PREDICTIONS)
    with pytest.raises(WriteRefused, match="did not write it"):
        guard.file(guard.root / "mine" / "notes.txt", "--output", PREDICTIONS)
    assert path.read_text() == "again\nmine\n"


def test_a_permission_opens_its_one_place(guard):
    config = guard.root / "configs" / "test.toml"
    guard.write_permitted(PROMOTE, {config: lambda temporary: temporary.write_text("[a]\n")})
    assert config.read_text() == "[a]\n"
    with pytest.raises(WriteRefused, match="`promote`"):
        guard.write_permitted(PROMOTE, {guard.root / "src" / "x.py": lambda t: t.write_text("")})
    runtime = guard.root / "src" / "trimode" / "api.py"
    guard.write_permitted(EJECT, {runtime: lambda temporary: temporary.write_text("")})
    with pytest.raises(WriteRefused, match="`eject`"):
        guard.write_permitted(EJECT, {guard.root / "configs" / "x": lambda t: t.write_text("")})
    assert not (guard.root / "src" / "x.py").exists()


def test_a_killed_writers_temporaries_go_at_the_next_claim(guard):
    folder = guard.folder(guard.root / "data" / "test", "data.sample_dir", SAMPLES)
    folder.mkdir(parents=True)
    dead = subprocess_pid_that_ended()
    stale = folder / f".{SAMPLE_FILE}.{dead}.abc123.tmp"
    live = folder / f"{temporary_name(SAMPLE_FILE)}def456.tmp"
    lookalike = folder / f".{SAMPLE_FILE}.{dead}.tmp.bak"  # not a name a writer gives
    for path in (stale, live, lookalike):
        path.write_text("half")
    guard.folder(folder, "data.sample_dir", SAMPLES, adopt=lambda folder: True)
    assert not stale.exists() and live.exists() and lookalike.exists()
    assert remove_stale_temporaries(folder) == []


def test_a_failed_write_leaves_nothing(tmp_path):
    def fail(temporary: Path) -> None:
        temporary.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomically(tmp_path / "new" / "file.csv", fail)
    assert list(tmp_path.iterdir()) == []


def subprocess_pid_that_ended() -> int:
    """The id of a process that has ended (and was waited for)."""
    import subprocess
    import sys

    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


# -- the property: whatever path a user gives any path-like key or option, nothing that
# was there before changes (a run writes only new files, or its own).

# Places a path may start from, relative to the project: new ones, outside, the project's
# own folders, a folder of the user's files named as the project names its own, an
# existing file, links, the data source.
BASES = [
    "out",
    "data",
    "outputs/test",
    "../outside",
    ".",
    "configs",
    "src",
    ".git",
    "tests",
    "mine",
    "mine/sample.parquet",
    "mine/contract.json",
    "notes.csv",
    "link-to-mine",
    "link-to-notes.csv",
    "customers.csv",
    "shop.db",
]
TAILS = ["", "test", "sample.parquet", "scores.csv", "x.db", ".."]


@st.composite
def user_paths(draw) -> str:
    base = draw(st.sampled_from(BASES))
    tail = draw(st.lists(st.sampled_from(TAILS), max_size=2))
    return "/".join([base, *[part for part in tail if part]])


def user_project(folder: Path) -> Path:
    """A project with the user's own files in it; return its config folder."""
    configs = make_configs(
        folder,
        base={"data": {"source": "customers.csv", "target": "churned", "max_rows": 50}},
    )
    (folder / "customers.csv").write_text(
        "age,plan,churned\n" + "".join(f"{20 + i % 50},{'ab'[i % 2]},{i % 2}\n" for i in range(80))
    )
    mine = folder / "mine"
    (mine / "test").mkdir(parents=True)
    for name in ("sample.parquet", "contract.json", "test/sample.parquet", "notes.txt"):
        (mine / name).write_text(f"the user's {name}\n")
    (folder / "notes.csv").write_text("age,plan\n30,a\n")
    (folder / "link-to-mine").symlink_to(mine)
    (folder / "link-to-notes.csv").symlink_to(folder / "notes.csv")
    for name in ("src/pkg/models.py", "tests/test_x.py", ".git/HEAD"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"# {name}\n")
    with sqlite3.connect(folder / "shop.db") as db:
        db.execute("create table metrics (a int)")
    return configs


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under folder (its parent too, for paths outside): content hashes, link
    targets."""
    found = {}
    for path in sorted(folder.parent.rglob("*")):
        if path.is_symlink():
            found[str(path)] = "link:" + os.readlink(path)
        elif path.is_file():
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


KEYS = ["outputs.root", "data.sample_dir", "tracking.uri", "--output"]


@pytest.fixture(scope="module")
def model(machine_run) -> tuple[Path, str]:
    """The model trained on the built-in rows, and a few of those rows as CSV to score."""
    from trimode.workflows.session import load_data

    configs = machine_run.output_dir.parents[1] / "configs"
    rows = load_data(load_config("test", configs)).frame.head(10).to_csv(index=False)
    return machine_run.output_dir, rows


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(key=st.sampled_from(KEYS), given_path=user_paths(), outside=st.booleans())
def test_no_path_given_to_any_key_or_option_changes_a_users_file(
    key, given_path, outside, model, starter_package
):
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary) / "project"
        configs = user_project(root)
        (root.parent / "outside").mkdir()
        (root.parent / "outside" / "theirs.txt").write_text("not the project's\n")
        (root / "rows.csv").write_text(model[1])
        before = snapshot(root)
        # A relative --output is relative to where one runs. Refused (ProjectError: one
        # line) or done: either way nothing may have changed.
        with contextlib.chdir(root), contextlib.suppress(ProjectError):
            run_with(key, given_path, outside, root, configs, model[0])
        after = snapshot(root)
        changed = [path for path, digest in before.items() if after.get(path) != digest]
        assert changed == [], f"{key} = {given_path!r} changed {changed}"


def run_with(key: str, path: str, outside: bool, root: Path, configs: Path, model: Path) -> None:
    """Run what writes the path of key (or option) set to path."""
    allow = {"outputs.allow_outside_project": outside}
    if key == "--output":
        project = load_config("test", configs).project
        predict_file(project, str(root / "rows.csv"), Path(path), model, True)
    elif key == "outputs.root":
        config = load_config("test", configs, {"outputs.root": path, **allow})
        with publishing(config.output_dir, config.where("outputs.root")) as staging:
            (staging / "model.skops").write_text("a model")
    elif key == "data.sample_dir":
        fetch_sample(load_config("test", configs, {"data.sample_dir": path, **allow}))
    else:
        uri = f"sqlite:///{path}"
        config = load_config("test", configs, {"tracking.uri": uri, "tracking.enabled": True})
        tracking.check_store(config)
        # Accepted: write as MLflow does when it makes its store (a table of its own); a
        # store that cannot be opened is skipped, as tracking skips it.
        uri = tracking.tracking_uri(config)
        with (
            tracking._store(config, uri),
            contextlib.suppress(sqlite3.Error),
            sqlite3.connect(tracking.local_files(uri)[0]) as db,
        ):
            db.execute("create table if not exists experiments (id int)")


# -- by construction: the runtime writes through the guard, or in a place it claimed.

# What writes, moves or removes a file or folder (the writers themselves, or by hand).
WRITES = re.compile(
    r"\b(write_atomically|write_together|write_json|os\.replace|os\.rename|shutil\.\w+"
    r"|mkstemp|mkdtemp|write_table)\b|\.(unlink|rmdir|mkdir|rename|touch|write_text|write_bytes"
    r"|to_parquet|to_csv|to_excel)\(|open\([^)]*[\"'][wax]"
)
# The modules that may, and why: any other write must go through core/writes.py.
WRITERS = {
    "core/io.py": "the atomic writers the guard uses",
    "core/writes.py": "the guard",
    "artifacts/publish.py": "the owner of output roots: staging, swapping, markers",
    "core/cache.py": "the runtime's own cache, outside any project (TRIMODE_CACHE_DIR)",
    # Files written into the staging folder or output root publishing() and
    # writing_into() hand out, once the guard and publish accepted the output root.
    "workflows/train.py": "into publishing's staging folder",
    "workflows/compare.py": "into writing_into's output root",
    "workflows/report.py": "into writing_into's output root",
    "artifacts/model_file.py": "into publishing's staging folder",
    # Writers the guard calls with a temporary, or the copies a claimed folder holds.
    "workflows/eject.py": "copies a file into the temporary the guard gives",
    "workflows/promote.py": "writes the config into the temporary the guard gives",
    "workflows/predict.py": "writes predictions into the temporary the guard gives",
    "data/sampling.py": "writes the sample into the temporary the guard gives",
    "data/spreadsheets.py": "copies into the guard's temporaries; removes its own old copies",
}


def test_only_the_guard_and_the_places_it_claimed_write():
    package = Path(trimode.__file__).parent
    writing = set()
    for path in package.rglob("*.py"):
        code = "\n".join(
            line.split("#")[0] for line in path.read_text(encoding="utf-8").splitlines()
        )
        if WRITES.search(code):
            writing.add(path.relative_to(package).as_posix())
    assert sorted(writing - set(WRITERS)) == [], "write through core/writes.py's guard"
    assert sorted(set(WRITERS) - writing) == [], "a module listed that writes nothing"
