"""The bad-input corpus: what careless users do to a generated project, and what it must do.

Every case is a copy of the generated classification project (copier, all defaults)
with one mistake in it: an output root on the user's own files, predictions written
over their input, a password in a database or HTTP URL, a file with one bad cell, a
config that weakens the quality guard, a [tool.trimode] table in pyproject.toml that
names what is not there, an add_features that raises, a command run outside any
project, and more. Each case asserts the exit status, a
single `error:` line naming the culprit (key, file, column or value), no traceback,
that every file that was there before is byte for byte unchanged, and that nothing
new was written by a run that failed. Wherever a URL holds a password, the password is
searched for in the standard output, the standard error and every file of the project.

The cases run the runtime's command line (what `ml-project ...` and `python -m trimode
...` run) in one Python process of the shared environment (corpus_driver.py), each
with its copy's own code: importing scikit-learn once keeps the corpus fast. Ctrl-C
needs a real process and a real signal, and a password in a URL that works needs a
real database, so those two run apart. The totals (tried, clear errors, tracebacks,
data lost, secrets leaked) are printed at the end of the session. The template's
answers have a corpus of their own: tests/test_validation.py.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import fnmatch
import hashlib
import json
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from generated import PROJECTS, XDIST_GROUP, Environment, ok
from http_files import RangeRequestHandler, http_server

from trimode.artifacts.manifest import sealed

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(XDIST_GROUP)]

PROJECT = PROJECTS[0]  # classification, copier
PACKAGE = PROJECT.package
DRIVER = Path(__file__).with_name("corpus_driver.py")
# Planted in every URL that has a password; it must never be seen again.
PLANT = "Pl4nted-Secret-7731"
SKIPPED = {".venv", "data", "outputs", "__pycache__", ".pytest_cache", ".ruff_cache"}
ROWS = 400


def write_table(path: Path, rows: list[dict], encoding: str = "utf-8") -> None:
    """Write rows as CSV (or Parquet, by the suffix, through the environment: see below)."""
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def customers(rows: int = ROWS, seed: int = 0) -> list[dict]:
    """Rows of a small churn table whose target the features predict."""
    draw = random.Random(seed)
    table = []
    for _ in range(rows):
        spend = round(draw.uniform(10, 120), 2)
        plan = draw.choice(["basic", "plus", "pro"])
        churned = int(spend + draw.gauss(0, 15) > 70)
        table.append(
            {"age": draw.randint(18, 80), "plan": plan, "spend": spend, "churned": churned}
        )
    return table


def set_keys(root: Path, mode: str, settings: dict[str, str]) -> None:
    """Set keys ("section.key": a TOML value) in configs/<mode>.toml, replacing those the
    file sets and adding the others under their section."""
    path = root / "configs" / f"{mode}.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    for dotted, value in settings.items():
        if "." not in dotted:  # a top-level key goes before the first table
            lines.insert(0, f"{dotted} = {value}")
            continue
        section, key = dotted.split(".", 1)
        header = lines.index(f"[{section}]") if f"[{section}]" in lines else None
        if header is None:
            lines += ["", f"[{section}]", f"{key} = {value}"]
            continue
        end = next(
            (i for i in range(header + 1, len(lines)) if lines[i].startswith("[")), len(lines)
        )
        for i in range(header + 1, end):
            if lines[i].split("=")[0].strip() == key:
                lines[i] = f"{key} = {value}"
                break
        else:
            lines.insert(header + 1, f"{key} = {value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def semicolon_csv(path: Path, point_at: Path | None = None) -> None:
    """The customers as a spreadsheet in many locales saves them: ';' between fields, a
    decimal comma in numbers; with point_at, test mode reads them."""
    rows = [{**row, "spend": str(row["spend"]).replace(".", ",")} for row in customers()]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    if point_at is not None:
        set_keys(point_at, "test", {"data.source": f'"{path.name}"', "data.target": '"churned"'})


def csv_source(rows: Callable[[], list[dict]], encoding="utf-8", **keys: str):
    """A setup writing rows to customers.csv and pointing test mode at it."""

    def setup(root: Path) -> None:
        write_table(root / "customers.csv", rows(), encoding)
        set_keys(
            root,
            "test",
            {"data.source": '"customers.csv"', "data.target": '"churned"', **keys},
        )

    return setup


def keys(mode: str = "test", **settings: str) -> Callable[[Path], None]:
    """A setup setting config keys, written section__key=value."""

    def setup(root: Path) -> None:
        set_keys(root, mode, {name.replace("__", "."): value for name, value in settings.items()})

    return setup


def both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        for step in setups:
            step(root)

    return setup


def sqlite_customers(root: Path) -> None:
    """The customers table in the project's own SQLite database, shop.db."""
    with sqlite3.connect(root / "shop.db") as connection:
        rows = customers()
        connection.execute(f"CREATE TABLE customers ({', '.join(rows[0])})")
        connection.executemany(
            f"INSERT INTO customers VALUES ({', '.join('?' * len(rows[0]))})",
            [tuple(row.values()) for row in rows],
        )
    connection.close()


def folder_of_user_files(name: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "notes.txt").write_text("my own notes\n", encoding="utf-8")
        (folder / "figures").mkdir(exist_ok=True)
        (folder / "figures" / "plot.svg").write_text("<svg/>", encoding="utf-8")

    return setup


def with_rows(change: Callable[[list[dict]], None]) -> Callable[[], list[dict]]:
    def rows() -> list[dict]:
        table = customers()
        change(table)
        return table

    return rows


def cell(row: int, column: str, value) -> Callable[[list[dict]], None]:
    def change(table: list[dict]) -> None:
        table[row][column] = value

    return change


def every(column: str, value) -> Callable[[list[dict]], None]:
    def change(table: list[dict]) -> None:
        for row in table:
            row[column] = value

    return change


def some_empty(column: str, count: int) -> Callable[[list[dict]], None]:
    def change(table: list[dict]) -> None:
        for row in table[:count]:
            row[column] = ""

    return change


def latin1_file(root: Path) -> None:
    rows = customers()
    rows[7]["plan"] = "München"
    write_table(root / "customers.csv", rows, encoding="latin-1")
    set_keys(root, "test", {"data.source": '"customers.csv"', "data.target": '"churned"'})


def sqlite_with(table: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        with sqlite3.connect(root / "shop.db") as connection:
            connection.execute(f"CREATE TABLE {table} (age INTEGER, churned INTEGER)")
            connection.executemany(
                f"INSERT INTO {table} VALUES (?, ?)", [(i, i % 2) for i in range(50)]
            )
        connection.close()
        set_keys(
            root,
            "test",
            {"data.source": '"sqlite:///shop.db"', "data.table": '"customers"'},
        )

    return setup


def in_pyproject(old: str, new: str) -> Callable[[Path], None]:
    """A setup replacing text the project's pyproject.toml holds (its [tool.trimode])."""

    def setup(root: Path) -> None:
        path = root / "pyproject.toml"
        text = path.read_text(encoding="utf-8")
        assert old in text, f"pyproject.toml no longer holds {old!r}: update this case"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return setup


def without_tool_trimode(root: Path) -> None:
    """The project's pyproject.toml without its [tool.trimode] table (header and keys)."""
    path = root / "pyproject.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("[tool.trimode]")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("["))
    path.write_text("\n".join(lines[:start] + lines[end:]) + "\n", encoding="utf-8")


def add_features_returning(expression: str) -> Callable[[Path], None]:
    """A setup making the project's add_features return the expression (of `frame`)."""

    def setup(root: Path) -> None:
        [path] = (root / "src").glob("*/features.py")
        text = path.read_text(encoding="utf-8")
        assert "    return frame\n" in text, "features.py changed: update this case"
        path.write_text(text.replace("    return frame\n", f"    return {expression}\n", 1))

    return setup


def models_importing(module: str) -> Callable[[Path], None]:
    """A setup adding an import of a module to the project's models.py, at its top."""

    def setup(root: Path) -> None:
        [path] = (root / "src").glob("*/models.py")
        path.write_text(f"import {module}\n" + path.read_text(encoding="utf-8"))

    return setup


# -- helpers of issue 22: groups, time, weights, metrics and thresholds


def visits(*changes: Callable[[list[dict]], None]) -> Callable[[], list[dict]]:
    """Rows of customers() as visits: four per customer (a key that repeats), two a day
    (visit_date), each with a weight; changed by the functions given."""

    def rows() -> list[dict]:
        table = customers()
        for number, row in enumerate(table):
            day = datetime.date(2024, 1, 1) + datetime.timedelta(days=number // 2)
            row.update(customer=f"c{number // 4}", visit_date=day.isoformat(), weight=1.5)
        for change in changes:
            change(table)
        return table

    return rows


def visits_source(*changes: Callable[[list[dict]], None], **keys: str):
    """A setup writing visits to customers.csv, test mode pointed at it with the keys."""
    return csv_source(visits(*changes), **keys)


def own_metric(entry: str) -> Callable[[Path], None]:
    """A setup adding an entry to the METRICS of the project's metrics.py (a function
    `careless` that raises is there for it), ranked by it in test mode."""

    def setup(root: Path) -> None:
        [path] = (root / "src").glob("*/metrics.py")
        text = path.read_text(encoding="utf-8")
        assert "METRICS = {" in text, "metrics.py changed: update this case"
        path.write_text(
            text + "\n\ndef careless(y_true, y_pred):\n    raise ValueError('no such cost')\n"
            f"\n\nMETRICS['mine'] = {entry}\n",
            encoding="utf-8",
        )
        set_keys(root, "test", {"evaluation.primary_metric": '"mine"'})

    return setup


NEIGHBOURS_MODEL = """

from sklearn.neighbors import KNeighborsClassifier as _Neighbours

MODELS["classification"]["neighbours"] = ModelSpec(make=lambda seed, n_jobs: _Neighbours())
"""


def neighbours_balanced(root: Path) -> None:
    """A setup adding a model that takes no class weights, trained with balanced ones."""
    [path] = (root / "src").glob("*/models.py")
    path.write_text(path.read_text(encoding="utf-8") + NEIGHBOURS_MODEL, encoding="utf-8")
    set_keys(root, "test", {"train.models": '["neighbours"]', "train.class_weight": '"balanced"'})


# -- helpers of issue 21, nothing hangs: a source that never answers, a fit that never ends


class QuietableHandler(RangeRequestHandler):
    """Serve any file by its absolute path; a file whose path is in QUIET is never
    answered (the connection is accepted and left waiting)."""

    def send_head(self):
        if Path(self.translate_path(self.path)) in QUIET:
            QUIET_RELEASED.wait(600)
            return None
        return super().send_head()


QUIET: set[Path] = set()
QUIET_RELEASED = threading.Event()
_SERVERS: dict[str, str] = {}
_RUNNING: list = []  # the servers' contexts, kept: one collected would stop its server


@pytest.fixture(scope="module", autouse=True)
def _release_quiet_requests():
    """After the corpus, answer the requests left waiting: closing the server joins their
    threads, and the process would otherwise wait up to 10 minutes at exit for them."""
    yield
    QUIET_RELEASED.set()


def quietable_url(path: Path) -> str:
    """The URL of a file served by this session's server, which goes quiet on request."""
    if "files" not in _SERVERS:
        _RUNNING.append(http_server(Path("/"), handler=QuietableHandler))
        _SERVERS["files"] = _RUNNING[-1].__enter__()  # lives as long as the session
    return _SERVERS["files"] + path.resolve().as_posix()


def never_answering_url() -> str:
    """A server of this session's that accepts connections and never answers."""
    if "silent" not in _SERVERS:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        accepted = []  # kept open: the client waits for an answer that never comes

        def accept() -> None:
            while True:
                accepted.append(listener.accept()[0])

        threading.Thread(target=accept, daemon=True).start()
        _SERVERS["silent"] = f"http://127.0.0.1:{listener.getsockname()[1]}"
    return _SERVERS["silent"]


def quiet_source(root: Path) -> None:
    """A setup pointing test mode at customers.csv over HTTP, from a server that answers
    until the case's `then` silences it."""
    write_table(root / "customers.csv", customers())
    url = quietable_url(root / "customers.csv")
    set_keys(root, "test", {"data.source": json.dumps(url), "data.target": '"churned"'})


def silenced(root: Path, model: Path) -> None:
    QUIET.add((root / "customers.csv").resolve())


def silent_source(root: Path) -> None:
    """A setup pointing test mode at a URL of a server that never answers."""
    url = f"{never_answering_url()}/customers.csv"
    set_keys(root, "test", {"data.source": json.dumps(url), "data.target": '"churned"'})


SLEEPY_MODEL = """

import time as _time

from sklearn.base import BaseEstimator as _Base, ClassifierMixin as _Classifier


class Sleepy(_Classifier, _Base):
    def fit(self, x, y):
        for _ in range(6_000):  # ten minutes
            _time.sleep(0.1)
        return self


MODELS["classification"]["sleepy"] = ModelSpec(make=lambda seed, n_jobs: Sleepy())
"""


def sleepy_model(budget_s: int):
    """A setup adding a model whose fit takes ten minutes, trained by test mode within a
    budget of budget_s seconds."""

    def setup(root: Path) -> None:
        [path] = (root / "src").glob("*/models.py")
        path.write_text(path.read_text(encoding="utf-8") + SLEEPY_MODEL, encoding="utf-8")
        set_keys(
            root, "test", {"train.models": '["sleepy"]', "compute.time_budget_s": str(budget_s)}
        )

    return setup


def outside_any_project(root: Path) -> None:
    """A folder beside the project, in no project (its parents hold no pyproject.toml)."""
    (root.parent / "elsewhere").mkdir()
    (root.parent / "elsewhere" / "notes.txt").write_text("not a project\n", encoding="utf-8")


def same_file_prediction(suffix: str, output: str | None = None, link: bool = False):
    """A setup with an input file for `predict`, and the output path the case gives."""

    def setup(root: Path) -> None:
        path = root / f"new{suffix}"
        if suffix == ".csv":
            write_table(path, customers(20))
        else:
            path.write_bytes(b"PAR1 not really parquet, but the user's file all the same")
        if link:
            (root / f"link{suffix}").symlink_to(path)
        (root / "sub").mkdir(exist_ok=True)

    return setup


def contract_then(root: Path, change) -> None:
    """customers.csv, whose first fetch (the case's `first`) records the contract, and
    later.csv, what the export holds later (see `exported_again`)."""
    write_table(root / "customers.csv", customers())
    write_table(root / "later.csv", with_rows(change)())
    set_keys(root, "test", {"data.source": '"customers.csv"'})


def exported_again(root: Path, model: Path) -> None:
    """The source file replaced by a later export of it (a new file, another size)."""
    (root / "later.csv").replace(root / "customers.csv")


def strip_features(model: Path) -> None:
    """The model's manifest without "features" (the model file is untouched: its hash
    still matches)."""
    manifest = json.loads((model / "manifest.json").read_text(encoding="utf-8"))
    del manifest["features"]
    # Sealed again, as an older trimode's record without that key would pass its digest.
    manifest = sealed(manifest)
    (model / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def parquet_source(*files: tuple[str, Callable[[pa.Table], pa.Table]], **keys: str):
    """A setup writing customers as Parquet files (a file, or a folder when given several
    names like "customers/a.parquet"), each changed by its function, and pointing test
    mode at the first one's file or folder."""

    def setup(root: Path) -> None:
        table = pa.Table.from_pylist(customers())
        for name, change in files:
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(change(table), path)
        source = files[0][0].split("/")[0]
        set_keys(
            root, "test", {"data.source": json.dumps(source), "data.target": '"churned"', **keys}
        )

    return setup


def column_as(name: str, values: Callable[[pa.Table], pa.Array]) -> Callable[[pa.Table], pa.Table]:
    """The table with one column (replaced or added) holding other values."""

    def change(table: pa.Table) -> pa.Table:
        index = table.schema.get_field_index(name)
        if index < 0:
            return table.append_column(name, values(table))
        return table.set_column(index, name, values(table))

    return change


def as_decimals(table: pa.Table) -> pa.Array:
    return pa.array(
        [decimal.Decimal(f"{value:.2f}") for value in table.column("spend").to_pylist()],
        pa.decimal128(6, 2),
    )


def edit_classes(model: Path) -> None:
    """The model's manifest with its class labels swapped (and its digest left as it was)."""
    manifest = json.loads((model / "manifest.json").read_text(encoding="utf-8"))
    manifest["classes"] = list(reversed(manifest["classes"]))
    (model / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def source_then_later(root: Path) -> None:
    """customers.csv, and later.csv: other rows the same export holds later."""
    write_table(root / "customers.csv", customers())
    write_table(root / "later.csv", customers(seed=1))
    set_keys(root, "test", {"data.source": '"customers.csv"', "data.target": '"churned"'})


def sample_fetched_again(root: Path, model: Path) -> None:
    """The source exported again, and the sample made of it since (as fetch-sample would)."""
    exported_again(root, model)
    sample = root / "data" / "test" / "sample.parquet"
    pq.write_table(pq.read_table(sample).slice(0, 200), sample)


def users_sample_folder(root: Path) -> None:
    """A folder of the user's own files, named as the project names a sample's."""
    for folder in (root / "mine", root / "mine" / "test"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "sample.parquet").write_bytes(b"PAR1 the user's own rows")
        (folder / "contract.json").write_text('{"mine": true}\n', encoding="utf-8")
    set_keys(root, "test", {"data.sample_dir": '"mine"'})


def link_to_a_users_file(root: Path) -> None:
    """An input for predict, and link.csv: a link to another file of the user's."""
    write_table(root / "new.csv", customers(20))
    (root / "other.csv").write_text("the user's other file\n", encoding="utf-8")
    (root / "link.csv").symlink_to(root / "other.csv")


def killed_between_the_renames(root: Path, model: Path) -> None:
    """What `kill -9` between publishing's two renames leaves: the output root moved into
    its previous folder, the journal naming it, a staging folder of the new outputs."""
    outputs = root / "outputs"
    aside = outputs / ".test.previous-k1ll3d00"
    aside.mkdir()
    (outputs / "test").rename(aside / "test")
    (outputs / ".test.staging-k1ll3d01").mkdir()
    journal = {"step": "moved-previous-aside", "staging": ".test.staging-k1ll3d01"}
    journal["previous"] = aside.name
    (outputs / ".test.journal.json").write_text(json.dumps(journal), encoding="utf-8")


@dataclass(frozen=True)
class Case:
    """One careless use: its setup, its command line, and what must come of it."""

    id: str
    argv: tuple[str, ...]
    setup: Callable[[Path], None] | None = None
    rc: int = 2
    # Words the one error line must hold (the key, file, column or value at fault).
    says: tuple[str, ...] = ()
    # Files a case may write (fnmatch patterns relative to the project: * spans folders).
    may_write: tuple[str, ...] = ()
    # A command that must succeed first (before the files are compared), e.g. a fetch.
    first: tuple[str, ...] = ()
    # Then a change between the two (given the project and the trained model's folder).
    then: Callable[[Path, Path], None] | None = None
    # Where the command runs, relative to the project (a setup makes any other folder).
    cwd: str = "."


TRAIN = ("train", "--mode", "test")
FETCH = ("fetch-sample", "--mode", "test")
MODEL = "<the model trained on customers.csv>"  # replaced by its folder, see `corpus`
FILE_URL = "<file URL of new.csv>"  # replaced by file:///<the case's folder>/new.csv
PREDICT = ("predict", "--model", MODEL, "--allow-non-production")
PG = f"postgresql+psycopg://bob:{PLANT}@127.0.0.1:9/shop"

CASES = [
    # -- outputs.root on what the run did not make
    *(
        Case(
            f"outputs-root-{name}",
            TRAIN,
            keys(outputs__root=json.dumps(name)),
            says=("outputs.root",),
        )
        for name in ("notebooks", "configs", "README.md", "src", "data", ".git", "tests", ".", "..")
    ),
    Case(
        "outputs-root-a-file-inside",
        TRAIN,
        keys(outputs__root='"README.md/outputs"'),
        says=("outputs.root", "README.md"),
    ),
    Case(
        "outputs-root-outside-the-project",
        TRAIN,
        both(folder_of_user_files("../elsewhere"), keys(outputs__root='"../elsewhere"')),
        says=("outputs.root", "outside the project"),
    ),
    Case(
        "outputs-root-outside-allowed-but-not-ours",
        TRAIN,
        both(
            folder_of_user_files("../elsewhere"),
            keys(outputs__root='"../elsewhere"', outputs__allow_outside_project="true"),
        ),
        says=("outputs.root", "elsewhere"),
    ),
    Case(
        "outputs-root-a-folder-of-user-files",
        TRAIN,
        both(folder_of_user_files("results"), keys(outputs__root='"results"')),
        says=("outputs.root", "results"),
    ),
    Case(
        "compare-into-a-folder-of-user-files",
        ("compare", "--mode", "test"),
        both(folder_of_user_files("results"), keys(outputs__root='"results"')),
        says=("outputs.root", "results"),
    ),
    # -- predictions over their own input
    Case(
        "predict-output-is-the-csv-input",
        (*PREDICT, "--input", "new.csv", "--output", "new.csv"),
        same_file_prediction(".csv"),
        says=("--output", "new.csv"),
    ),
    Case(
        "predict-output-is-the-parquet-input",
        (*PREDICT, "--input", "new.parquet", "--output", "new.parquet"),
        same_file_prediction(".parquet"),
        says=("--output", "new.parquet"),
    ),
    Case(
        "predict-output-is-the-input-by-another-path",
        (*PREDICT, "--input", "new.csv", "--output", "sub/../new.csv"),
        same_file_prediction(".csv"),
        says=("--output",),
    ),
    Case(
        "predict-output-is-a-link-to-the-input",
        (*PREDICT, "--input", "new.csv", "--output", "link.csv"),
        same_file_prediction(".csv", link=True),
        says=("--output", "link.csv"),
    ),
    Case(
        "predict-output-is-the-input-as-a-file-url",
        (*PREDICT, "--input", "<file URL of new.csv>", "--output", "new.csv"),
        same_file_prediction(".csv"),
        says=("--output", "new.csv"),
    ),
    Case(
        "predict-that-fails-leaves-no-folder-it-made",
        (*PREDICT, "--input", "new.csv", "--output", "scores/2026/new.csv"),
        # Scoring stops at a word among the numbers: after the output's folder was made.
        lambda root: write_table(root / "new.csv", with_rows(cell(3, "spend", "lots"))()),
        says=("new.csv", "spend", "lots", "row 4"),
    ),
    Case(
        "predict-input-holds-infinity",
        (*PREDICT, "--input", "new.csv", "--output", "scored.csv"),
        lambda root: write_table(root / "new.csv", with_rows(cell(3, "spend", "inf"))()),
        # As in training: the infinity is read as a missing value, and said once.
        rc=0,
        says=("new.csv", "spend", "1 infinite value(s), read as missing"),
        may_write=("scored.csv", ".trimode/*"),
    ),
    Case(
        "predict-input-in-latin-1",
        (*PREDICT, "--input", "customers.csv", "--output", "scored.csv"),
        latin1_file,
        says=("plan", "UTF-8", "row 8"),
    ),
    Case(
        "predict-with-a-manifest-without-features",
        (*PREDICT[:2], "model", *PREDICT[3:], "--input", "new.csv", "--output", "scored.csv"),
        lambda root: write_table(root / "new.csv", customers(20)),
        says=("manifest.json", "features"),
        then=lambda root, model: strip_features(Path(shutil.copytree(model, root / "model"))),
    ),
    # -- passwords in URLs
    Case(
        "password-database-driver-not-installed",
        TRAIN,
        keys(data__source=json.dumps(PG.replace("psycopg", "pg8000")), data__table='"t"'),
        says=("data.source", "pg8000"),
    ),
    Case(
        "password-database-without-table-or-query",
        TRAIN,
        keys(data__source=json.dumps(PG)),
        says=("data.table", "data.query"),
    ),
    Case(
        "password-database-with-table-and-query",
        TRAIN,
        keys(data__source=json.dumps(PG), data__table='"t"', data__query='"SELECT 1"'),
        says=("data.table", "data.query"),
    ),
    Case(
        "password-database-unreachable",
        TRAIN,
        keys(data__source=json.dumps(PG), data__table='"customers"'),
        says=("127.0.0.1",),
    ),
    Case(
        "password-database-port-not-a-number",
        TRAIN,
        keys(data__source=json.dumps(PG.replace(":9/", ":nine/")), data__table='"t"'),
        says=("data.source", "port"),
    ),
    Case(
        "password-https-unreachable",
        TRAIN,
        keys(data__source=json.dumps(f"https://bob:{PLANT}@127.0.0.1:9/customers.csv")),
        says=("127.0.0.1",),
    ),
    Case(
        "password-s3-without-its-package",
        TRAIN,
        keys(data__source=json.dumps(f"s3://bob:{PLANT}@bucket/customers.csv")),
        says=("s3",),
    ),
    Case(
        "password-in-a-query-parameter",
        TRAIN,
        keys(
            data__source=json.dumps(f"postgresql+psycopg://bob@127.0.0.1:9/shop?password={PLANT}"),
            data__table='"t"',
        ),
        says=("127.0.0.1",),
    ),
    # -- databases that are not there
    Case(
        "sqlite-file-missing",
        TRAIN,
        keys(data__source='"sqlite:///shop.db"', data__table='"customers"'),
        says=("shop.db", "does not exist"),
    ),
    Case("sqlite-table-missing", TRAIN, sqlite_with("orders"), says=("customers", "orders")),
    # -- bad data
    Case(
        "a-non-numeric-cell-in-a-numeric-column",
        TRAIN,
        csv_source(with_rows(cell(17, "age", "forty"))),
        says=("age", "forty"),
    ),
    Case(
        "latin-1-text",
        TRAIN,
        latin1_file,
        says=("plan", "UTF-8", "row 8"),
    ),
    Case(
        "a-target-with-missing-values-drops-those-rows",
        TRAIN,
        csv_source(with_rows(some_empty("churned", 25))),
        rc=0,
        says=("left out 25 of 400 rows",),
        may_write=("data/*", "outputs/*"),
    ),
    Case(
        "a-single-class-target",
        TRAIN,
        csv_source(with_rows(every("churned", 0))),
        says=("churned", "one class"),
    ),
    Case(
        "a-text-target-in-a-regression",
        TRAIN,
        csv_source(
            customers,
            task='"regression"',
            **{
                "data.target": '"plan"',
                "evaluation.primary_metric": '"r2"',
                "compare.models": '["ridge"]',
            },
        ),
        says=("plan", "regression"),
    ),
    Case(
        "a-boolean-target-in-a-regression",
        TRAIN,
        csv_source(
            with_rows(lambda table: [row.update(churned=bool(row["churned"])) for row in table]),
            task='"regression"',
            **{"evaluation.primary_metric": '"r2"', "compare.models": '["ridge"]'},
        ),
        says=("churned", "regression", "boolean"),
    ),
    Case(
        "own-data-after-a-run-on-the-built-in-data",
        (*TRAIN, "--set", 'data.source="customers.csv"', "--set", 'data.target="churned"'),
        lambda root: write_table(root / "customers.csv", customers()),
        rc=0,
        says=("recorded from synthetic",),
        may_write=("data/*", "outputs/*"),
        first=TRAIN,
    ),
    Case(
        "a-target-column-that-is-not-there",
        TRAIN,
        csv_source(customers, **{"data.target": '"churn"'}),
        says=("churn", "data.target"),
    ),
    Case(
        "a-file-with-a-header-and-no-rows",
        TRAIN,
        lambda root: (
            (root / "customers.csv").write_text("age,plan,spend,churned\n", encoding="utf-8"),
            set_keys(root, "test", {"data.source": '"customers.csv"'}),
        ),
        says=("customers.csv", "no rows"),
    ),
    Case(
        "a-source-that-is-not-there",
        TRAIN,
        keys(data__source='"customers.csv"'),
        says=("customers.csv", "does not exist"),
    ),
    Case(
        "an-excel-file-as-source",
        TRAIN,
        lambda root: (
            (root / "customers.xlsx").write_bytes(b"PK\x03\x04 a workbook"),
            set_keys(root, "test", {"data.source": '"customers.xlsx"'}),
        ),
        says=("customers.xlsx", "CSV", "Parquet"),
    ),
    Case(
        "an-empty-folder-as-source",
        TRAIN,
        lambda root: (
            (root / "exports").mkdir(),
            set_keys(root, "test", {"data.source": '"exports"'}),
        ),
        says=("exports", "CSV"),
    ),
    Case(
        "the-config-folder-as-source",
        TRAIN,
        keys(data__source='"configs"'),
        says=("configs", "CSV"),
    ),
    Case(
        "a-header-with-a-column-twice",
        TRAIN,
        lambda root: (
            (root / "customers.csv").write_text(
                "age,age,churned\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(50)),
                encoding="utf-8",
            ),
            set_keys(root, "test", {"data.source": '"customers.csv"'}),
        ),
        says=("customers.csv", "age"),
    ),
    # -- the command line
    Case("an-unknown-mode", ("train", "--mode", "staging"), says=("--mode", "staging")),
    Case("an-unknown-model", (*TRAIN, "--model", "xgboost"), says=("--model", "xgboost")),
    Case(
        "a-batch-of-no-rows",
        (*PREDICT, "--input", "a.csv", "--output", "b.csv", "--batch-rows", "0"),
        says=("--batch-rows",),
    ),
    # -- configs
    Case(
        "an-invalid-hyper-parameter-value-before-any-data-is-read",
        TRAIN,
        keys(
            data__source='"not-there.csv"',
            train__params='{ hist_gradient_boosting = { learning_rate = "fast" } }',
        ),
        says=("learning_rate", "test.toml"),
    ),
    Case("config-dir-is-a-file", (*TRAIN, "--config-dir", "README.md"), says=("README.md",)),
    Case("config-dir-missing", (*TRAIN, "--config-dir", "conf"), says=("conf",)),
    Case(
        "a-negative-lift-switches-the-guard-off",
        TRAIN,
        keys(evaluation__min_lift_over_baseline="-1.0"),
        says=("min_lift_over_baseline", "test.toml"),
    ),
    Case(
        "a-zero-lift-lets-a-constant-model-pass",
        TRAIN,
        keys(evaluation__min_lift_over_baseline="0"),
        says=("min_lift_over_baseline",),
    ),
    Case(
        "a-threshold-a-constant-model-reaches",
        TRAIN,
        keys(evaluation__thresholds="{ roc_auc = 0.5 }"),
        says=("evaluation.thresholds", "roc_auc"),
    ),
    Case(
        "a-threshold-no-model-reaches",
        TRAIN,
        keys(evaluation__thresholds="{ roc_auc = 1.5 }"),
        says=("evaluation.thresholds", "roc_auc"),
    ),
    Case(
        "a-config-file-that-is-not-toml",
        TRAIN,
        lambda root: (root / "configs" / "test.toml").write_text("[data\n", encoding="utf-8"),
        says=("test.toml",),
    ),
    Case(
        "a-mode-file-missing",
        TRAIN,
        lambda root: (root / "configs" / "test.toml").unlink(),
        says=("test.toml",),
    ),
    Case(
        "an-unknown-key",
        TRAIN,
        keys(data__max_row="100"),
        says=("data.max_row",),
    ),
    Case("a-set-without-a-value", (*TRAIN, "--set", "data.max_rows"), says=("--set",)),
    Case(
        "a-contract-type-that-changed",
        TRAIN,
        lambda root: contract_then(root, every("spend", "unknown")),
        says=("spend", "was number", "contract.json"),
        first=FETCH,
        then=exported_again,
    ),
    Case(
        "a-contract-category-never-seen-warns",
        TRAIN,
        lambda root: contract_then(root, every("plan", "enterprise")),
        rc=0,
        says=("warning: data contract: column 'plan' has categories", "enterprise"),
        may_write=("data/*", "outputs/*"),
        first=FETCH,
        then=exported_again,
    ),
    # -- where the runtime finds the project and its code ([tool.trimode] in pyproject.toml)
    Case(
        "tool-trimode-names-a-module-that-does-not-exist",
        TRAIN,
        in_pyproject('models = "ml_project.models"', 'models = "ml_project.model"'),
        says=("pyproject.toml", "tool.trimode.models", "ml_project.model"),
    ),
    Case(
        "pyproject-without-a-tool-trimode-table",
        TRAIN,
        without_tool_trimode,
        says=("[tool.trimode]", "not inside a trimode project"),
    ),
    Case(
        "a-command-outside-any-project",
        TRAIN,
        outside_any_project,
        says=("elsewhere", "not inside a trimode project", "--config-dir"),
        cwd="../elsewhere",
    ),
    Case(
        "a-tool-trimode-key-of-the-wrong-type",
        TRAIN,
        in_pyproject('models = "ml_project.models"', 'models = ["ml_project.models"]'),
        says=("pyproject.toml", "tool.trimode.models", "a string"),
    ),
    Case(
        "an-unknown-key-in-tool-trimode",
        TRAIN,
        in_pyproject('expectations = "', 'expectation = "'),
        says=("pyproject.toml", "tool.trimode.expectation"),
    ),
    Case(
        "an-add-features-that-raises",
        TRAIN,
        add_features_returning('frame.assign(per_call=frame["spend"] / frame["support_calls"])'),
        # The sample is there already (a run without one fetches it, whole, first).
        first=FETCH,
        says=("features.py", "add_features", "KeyError", "spend"),
    ),
    Case(
        "an-add-features-that-returns-nothing",
        TRAIN,
        add_features_returning("None"),
        first=FETCH,
        says=("features.py", "add_features", "must return", "NoneType"),
    ),
    Case(
        "a-models-py-importing-a-package-not-installed",
        TRAIN,
        models_importing("xgboost"),
        says=("tool.trimode.models", "xgboost", "not installed"),
    ),
    # -- issue 21, nothing hangs
    Case(
        "an-http-source-that-never-answers-with-a-sample-goes-on",
        TRAIN,
        quiet_source,
        rc=0,
        first=FETCH,
        then=silenced,
        says=("did not answer", "data.read_timeout_s", "using the sample"),
        may_write=("outputs/*",),
    ),
    Case(
        "an-http-source-that-never-answers-without-a-sample",
        TRAIN,
        silent_source,
        says=("127.0.0.1", "did not answer", "data.read_timeout_s"),
    ),
    Case(
        "n-jobs-far-more-than-the-cores",
        (*TRAIN, "--set", "compute.n_jobs=100000"),
        says=("compute.n_jobs", "100000", "cores", "-1"),
    ),
    Case(
        "a-fit-past-the-time-budget",
        TRAIN,
        sleepy_model(budget_s=5),
        first=FETCH,  # the run under budget reads a sample; a failed run writes none
        says=("compute.time_budget_s", "configs/test.toml", "'fit'"),
    ),
    # -- issue 21, secrets are a type
    Case(
        "secret-tracking-uri-password-not-in-the-manifest",
        TRAIN,
        both(
            csv_source(customers),
            keys(
                tracking__enabled="true",
                tracking__uri=json.dumps(f"http://bob:{PLANT}@127.0.0.1:9"),
            ),
        ),
        rc=0,
        may_write=("data/*", "outputs/*"),
    ),
    Case(
        "secret-odbc-connection-string-pwd-percent-encoded",
        TRAIN,
        keys(
            data__source=json.dumps(
                "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC+Driver+18+for+SQL+Server%7D"
                f"%3BSERVER%3D127.0.0.1%2C9%3BUID%3Dbob%3BPWD%3D{PLANT}%3B"
            ),
            data__table='"customers"',
        ),
        says=("data.source",),
    ),
    Case(
        "secret-key-in-an-https-url-query",
        TRAIN,
        keys(data__source=json.dumps(f"https://127.0.0.1:9/data.csv?key={PLANT}")),
        says=("127.0.0.1", "data.csv?key=***"),
    ),
    Case(
        "secret-auth-and-credential-query-parameters",
        TRAIN,
        keys(data__source=json.dumps(f"https://127.0.0.1:9/d.csv?auth={PLANT}&credential={PLANT}")),
        says=("127.0.0.1",),
    ),
    *(
        Case(
            f"secret-{style}-password-in-a-working-query",
            TRAIN,
            both(
                sqlite_customers,
                keys(
                    data__source='"sqlite:///shop.db"',
                    data__target='"churned"',
                    data__query=json.dumps(f"SELECT * FROM customers /* {comment} */"),
                ),
            ),
            rc=0,
            may_write=("data/*", "outputs/*"),
        )
        for style, comment in (
            ("python-style", f"password='{PLANT}'"),
            ("json-style", f'{{"password": "{PLANT}"}}'),
        )
    ),
    Case(
        "secret-python-style-password-in-a-failing-query",
        TRAIN,
        both(
            sqlite_customers,
            keys(
                data__source='"sqlite:///shop.db"',
                data__query=json.dumps(f"SELECT * FROM nowhere WHERE password='{PLANT}'"),
            ),
        ),
        says=("nowhere",),
    ),
    # -- issue 21, data means what it says
    Case(
        "a-decimal128-column-is-numbers",
        TRAIN,
        # Read as 391 categories, spend predicted nothing and the gate stopped the run.
        parquet_source(
            ("customers.parquet", column_as("spend", as_decimals)),
            **{"evaluation.gate": "true", "evaluation.thresholds": "{ primary = 0.8 }"},
        ),
        rc=0,
        may_write=("data/*", "outputs/*"),
    ),
    Case(
        "a-parquet-folder-whose-files-disagree",
        TRAIN,
        parquet_source(
            ("customers/a.parquet", lambda table: table),
            ("customers/b.parquet", column_as("spend", lambda t: t["spend"].cast(pa.string()))),
        ),
        says=("a.parquet", "b.parquet", "'spend'", "disagree"),
    ),
    Case(
        "a-parquet-folder-whose-files-lack-a-column",
        TRAIN,
        parquet_source(
            ("customers/a.parquet", lambda table: table),
            ("customers/b.parquet", lambda table: table.drop_columns(["plan"])),
        ),
        rc=0,
        says=("warning:", "'plan' (b.parquet)"),
        may_write=("data/*", "outputs/*"),
    ),
    Case(
        "min-lift-over-baseline-nan",
        TRAIN,
        keys(evaluation__min_lift_over_baseline="nan"),
        says=("evaluation.min_lift_over_baseline", "finite"),
    ),
    Case(
        "twenty-digit-integers",
        TRAIN,
        csv_source(
            lambda: [
                {**row, "account": 12345678901234567890 + number}
                for number, row in enumerate(customers())
            ]
        ),
        says=("'account'", "2**53", "[columns] ids"),
    ),
    Case(
        "class-labels-edited-in-the-manifest",
        (*PREDICT[:2], "model", *PREDICT[3:], "--input", "new.csv", "--output", "scored.csv"),
        lambda root: write_table(root / "new.csv", customers(20)),
        says=("manifest.json", "edited after training"),
        then=lambda root, model: edit_classes(Path(shutil.copytree(model, root / "model"))),
    ),
    Case(
        "report-after-the-source-changed-reads-the-models-rows",
        ("report", "--mode", "test"),
        source_then_later,
        rc=0,
        # Never fetched again: the sample (data/) stays as the model's run left it.
        may_write=("outputs/*",),
        first=TRAIN,
        then=exported_again,
    ),
    Case(
        "report-after-the-sample-was-fetched-again",
        ("report", "--mode", "test"),
        source_then_later,
        says=("data changed", "train --mode test", "report --mode test"),
        first=TRAIN,
        then=sample_fetched_again,
    ),
    Case(
        "a-date-role-on-a-numeric-column",
        TRAIN,
        csv_source(customers, **{"columns.dates": '["spend"]'}),
        says=("'spend'", "[columns] dates", "number"),
    ),
    Case(
        "a-text-date-column-with-text-that-is-no-date",
        TRAIN,
        csv_source(
            lambda: [
                {**row, "signed": "soon" if number == 5 else f"2024-03-{1 + number % 28:02d}"}
                for number, row in enumerate(customers())
            ],
            **{"columns.dates": '["signed"]'},
        ),
        says=("'signed'", "no date", "'soon'"),
    ),
    *(
        Case(
            f"a-{kind}-column",
            TRAIN,
            parquet_source(("customers.parquet", column_as("tags", values))),
            says=("'tags'", "nested"),
        )
        for kind, values in (
            ("list", lambda table: pa.array([[1, 2]] * table.num_rows)),
            ("struct", lambda table: pa.array([{"a": 1}] * table.num_rows)),
        )
    ),
    # -- issue 21, every write owned
    Case(
        "sample-dir-on-a-folder-of-the-users-files",
        FETCH,
        users_sample_folder,
        says=("data.sample_dir", "mine", "sample.parquet"),
    ),
    Case(
        "sample-dir-is-configs",
        FETCH,
        keys(data__sample_dir='"configs"'),
        says=("data.sample_dir", "configs"),
    ),
    Case(
        "tracking-uri-is-the-sqlite-data-source",
        TRAIN,
        both(
            sqlite_with("customers"),
            keys(tracking__uri='"sqlite:///shop.db"', tracking__enabled="true"),
        ),
        says=("tracking.uri", "shop.db", "data source"),
    ),
    Case(
        "predict-output-is-the-projects-own-sample",
        (*PREDICT, "--input", "new.csv", "--output", "data/test/sample.parquet"),
        same_file_prediction(".csv"),
        first=FETCH,
        says=("--output", "sample.parquet"),
    ),
    Case(
        "predict-output-is-a-link-to-a-users-file",
        (*PREDICT, "--input", "new.csv", "--output", "link.csv"),
        link_to_a_users_file,
        says=("--output", "link.csv", "symbolic link"),
    ),
    Case(
        "predict-after-a-kill-between-publishings-renames",
        (
            "predict",
            "--model",
            "outputs/test",
            "--allow-non-production",
            "--input",
            "data/test/sample.parquet",
            "--output",
            "scores.csv",
        ),
        rc=0,
        says=("predicted",),
        first=TRAIN,
        then=killed_between_the_renames,
        may_write=("scores.csv", ".trimode/*"),
    ),
    # -- a spreadsheet's CSV: separated by ';', with decimal commas
    Case(
        "a-semicolon-csv-with-decimal-commas",
        TRAIN,
        lambda root: semicolon_csv(root / "customers.csv", point_at=root),
        rc=0,
        says=("read as separated by ';' with decimal commas", "beats it"),
        may_write=("data/*", "outputs/*"),
    ),
    Case(
        "predict-input-separated-by-semicolons",
        (*PREDICT, "--input", "new.csv", "--output", "scored.csv"),
        lambda root: semicolon_csv(root / "new.csv"),
        rc=0,
        says=("predicted 400 rows",),
        may_write=("scored.csv", ".trimode/*"),
    ),
    # -- issue 22: the keys of grouped and time-ordered rows, weights, metrics, thresholds
    # (first=FETCH where the mistake shows in the rows: the sample is there already)
    Case(
        "a-group-column-that-is-not-there",
        TRAIN,
        visits_source(**{"columns.group": '"customr"'}),
        says=("columns.group", "'customr'", "test.toml"),
    ),
    Case(
        "the-group-column-is-the-target",
        TRAIN,
        visits_source(**{"columns.group": '"churned"'}),
        says=("test.toml", "columns.group", "'churned'", "data.target"),
    ),
    Case(
        "the-group-column-is-a-date-column-too",
        TRAIN,
        visits_source(**{"columns.group": '"customer"', "columns.dates": '["customer"]'}),
        says=("test.toml", "columns.group", "'customer'", "columns.dates"),
    ),
    Case(
        # An ID is no feature either: the group's role already.
        "the-group-column-is-an-id-too",
        TRAIN,
        visits_source(**{"columns.group": '"customer"', "columns.ids": '["customer"]'}),
        rc=0,
        says=("beats it",),
        may_write=("data/*", "outputs/*"),
    ),
    Case(
        "a-time-column-of-text",
        TRAIN,
        visits_source(**{"columns.time": '"plan"'}),
        first=FETCH,
        says=("400 of 400 rows", "no readable date", "'plan'", "columns.time", "test.toml"),
    ),
    Case(
        "a-time-column-of-numbers",
        TRAIN,
        visits_source(**{"columns.time": '"spend"'}),
        first=FETCH,
        says=("'spend'", "columns.time", "test.toml", "number values", "not dates"),
    ),
    Case(
        "a-time-column-with-two-unreadable-dates",
        TRAIN,
        visits_source(
            cell(3, "visit_date", "soon"),
            cell(9, "visit_date", "31/31/2024"),
            **{"columns.time": '"visit_date"'},
        ),
        first=FETCH,
        says=("2 of 400 rows", "'visit_date'", "columns.time", "'soon'", "'31/31/2024'"),
    ),
    Case(
        "a-time-and-a-group-column-both",
        TRAIN,
        visits_source(**{"columns.group": '"customer"', "columns.time": '"visit_date"'}),
        says=("test.toml", "columns.group", "columns.time", "both set"),
    ),
    Case(
        "a-negative-time-gap",
        TRAIN,
        visits_source(**{"columns.time": '"visit_date"', "columns.time_gap_days": "-3"}),
        says=("test.toml", "columns.time_gap_days", "-3"),
    ),
    Case(
        "a-time-gap-longer-than-the-rows-span",
        TRAIN,
        visits_source(**{"columns.time": '"visit_date"', "columns.time_gap_days": "1000"}),
        first=FETCH,
        says=("0 on the training side", "columns.time_gap_days = 1000", "test.toml", "shorter"),
    ),
    Case(
        "a-negative-weight",
        TRAIN,
        visits_source(cell(5, "weight", -1), **{"columns.weight": '"weight"'}),
        first=FETCH,
        says=("columns.weight", "test.toml", "'weight'", "got -1", "on 1 of"),
    ),
    Case(
        "weights-missing-on-some-rows",
        TRAIN,
        visits_source(some_empty("weight", 8), **{"columns.weight": '"weight"'}),
        first=FETCH,
        says=("columns.weight", "'weight'", "got no value on 8 of"),
    ),
    Case(
        "weights-of-text",
        TRAIN,
        visits_source(**{"columns.weight": '"plan"'}),
        first=FETCH,
        says=("columns.weight", "'plan'", "finite number"),
    ),
    Case(
        "a-misspelled-primary-metric",
        TRAIN,
        keys(evaluation__primary_metric='"rocauc"'),
        says=("test.toml", "evaluation.primary_metric", "'rocauc'", "did you mean 'roc_auc'"),
    ),
    Case(
        "a-metric-of-ones-own-that-raises",
        TRAIN,
        own_metric("make_scorer(careless)"),
        first=FETCH,
        says=("metrics.py", "METRICS['mine']", "ValueError", "no such cost"),
    ),
    Case(
        "a-metric-of-ones-own-without-a-direction",
        TRAIN,
        own_metric("cost"),
        says=("METRICS['mine']", "make_scorer", "greater_is_better"),
    ),
    Case(
        "a-decision-threshold-above-one",
        TRAIN,
        keys(evaluation__threshold="1.5"),
        says=("test.toml", "evaluation.threshold", "1.5"),
    ),
    Case(
        "a-decision-threshold-tuned-for-f2",
        TRAIN,
        keys(evaluation__threshold='"f2"'),
        says=("test.toml", "evaluation.threshold", "'f2'", "'f1', 'cost'"),
    ),
    Case(
        "a-decision-threshold-in-a-regression",
        TRAIN,
        csv_source(
            customers,
            task='"regression"',
            **{
                "data.target": '"spend"',
                "evaluation.primary_metric": '"r2"',
                "compare.models": '["ridge"]',
                "evaluation.threshold": '"f1"',
            },
        ),
        says=("test.toml", "evaluation.threshold", "'f1'", "regression"),
    ),
    Case(
        "a-decision-threshold-for-three-classes",
        TRAIN,
        csv_source(customers, **{"data.target": '"plan"', "evaluation.threshold": "0.3"}),
        first=FETCH,
        says=("evaluation.threshold", "test.toml", "'plan'", "holds 3"),
    ),
    Case(
        "a-per-class-threshold-for-no-such-class",
        TRAIN,
        csv_source(customers, **{"evaluation.thresholds": '{ "recall.stayed" = 0.3 }'}),
        first=FETCH,
        says=("test.toml", "evaluation.thresholds", "'recall.stayed'", "no class 'stayed'"),
    ),
    Case(
        "a-misspelled-class-weight",
        TRAIN,
        keys(train__class_weight='"balancd"'),
        says=("test.toml", "train.class_weight", "'balancd'", "balanced, '' (none)"),
    ),
    Case(
        "balanced-class-weights-for-a-model-without-them",
        TRAIN,
        both(csv_source(customers), neighbours_balanced),
        rc=0,
        says=("'balanced' is not applied to neighbours", "no class_weight"),
        may_write=("data/*", "outputs/*"),
    ),
    Case(
        "importance-on-no-rows",
        TRAIN,
        keys(inspection__importance_rows="0"),
        says=("test.toml", "inspection.importance_rows", "at least 1"),
    ),
]


@dataclass
class Outcome:
    """What one case did."""

    rc: object
    stdout: str
    stderr: str
    changed: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)


def snapshot(root: Path) -> dict[str, str]:
    """The sha256 of every file under root (links as their target's text, folders as
    "folder": a folder a failed run made is something it wrote too)."""
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            files[str(path.relative_to(root))] = "link:" + str(path.readlink())
        elif path.is_file():
            files[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            files[str(path.relative_to(root))] = "folder"
    return files


def leaks(texts: dict[str, str], root: Path, written: list[str]) -> list[str]:
    """Where the planted password is seen: in the given texts, or in a file the run wrote
    (the user's own config holds it, of course)."""
    found = [name for name, text in texts.items() if PLANT in text]
    found += [name for name in written if PLANT.encode() in (root / name).read_bytes()]
    return found


def copy_project(source: Path, destination: Path) -> Path:
    """A copy of the generated project without its environment, samples and outputs, and
    with a .git folder (a project's own folder an output root must not be)."""
    shutil.copytree(source, destination, ignore=lambda folder, names: SKIPPED & set(names))
    (destination / ".git").mkdir(exist_ok=True)
    (destination / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    return destination


def run_driver(environment: Environment, workspace: Path, cases: list[dict]) -> dict:
    """Run the cases in one process of the shared environment; return their results."""
    workspace.mkdir(parents=True, exist_ok=True)
    cases_path, results_path = workspace / "cases.json", workspace / "results.json"
    cases_path.write_text(json.dumps(cases), encoding="utf-8")
    command = [environment.command("python"), str(DRIVER), PACKAGE, str(cases_path)]
    ok(environment.run(*command, str(results_path), cwd=workspace))
    return json.loads(results_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus(environment: Environment, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every case run once; its outcome and its project folder, by id.

    First (one process): a model trained on customers.csv for the predict cases, and
    each case's `first` command. Then the files are fingerprinted, and (one more
    process) every case runs.
    """
    workspace = tmp_path_factory.mktemp("corpus")
    project = environment.folders[PROJECT.slug]
    trained = copy_project(project, workspace / "trained" / "project")
    csv_source(customers)(trained)
    model = str(trained / "outputs" / "test")
    first = [{"id": "trained", "cwd": str(trained), "project": str(trained), "argv": list(TRAIN)}]
    roots, runs = {}, []
    for case in CASES:
        root = copy_project(project, workspace / case.id / "project")
        if case.setup is not None:
            case.setup(root)
        if case.first:
            first.append(
                {"id": case.id, "cwd": str(root), "project": str(root), "argv": list(case.first)}
            )
        argv = [model if item == MODEL else item for item in case.argv]
        argv = [(root / "new.csv").as_uri() if item == FILE_URL else item for item in argv]
        roots[case.id] = root
        cwd = str((root / case.cwd).resolve())
        runs.append({"id": case.id, "cwd": cwd, "project": str(root), "argv": argv})
    for name, result in run_driver(environment, workspace / "first", first).items():
        assert result["rc"] == 0, f"{name}: {result}"
    for case in CASES:
        if case.then is not None:
            case.then(roots[case.id], Path(model))
    before = {case.id: snapshot(roots[case.id].parent) for case in CASES}
    results = run_driver(environment, workspace / "cases", runs)
    outcomes = {}
    for case in CASES:
        root, result = roots[case.id], results[case.id]
        after = snapshot(root.parent)
        outcome = Outcome(result["rc"], result["stdout"], result["stderr"])
        outcome.changed = [
            name for name, digest in before[case.id].items() if after.get(name) != digest
        ]
        outcome.new = [name for name in after if name not in before[case.id]]
        written = [
            name
            for name in [*outcome.changed, *outcome.new]
            if after.get(name, "folder") != "folder"
        ]
        printed = {"stdout": outcome.stdout, "stderr": outcome.stderr}
        outcome.leaked = leaks(printed, root.parent, written)
        outcomes[case.id] = (outcome, root)
    return outcomes


def verdict(outcome: Outcome, case: Case) -> dict[str, int]:
    """How the case counts in the corpus totals the session prints (conftest.py)."""
    faults = {
        "traceback": "Traceback" in outcome.stderr or outcome.rc == "uncaught",
        "data lost": bool(lost(outcome, case)),
        "secrets leaked": bool(outcome.leaked),
    }
    lines = error_lines(outcome.stderr)
    clear = outcome.rc == case.rc and (
        not case.rc or (len(lines) == 1 and all(word in lines[0] for word in case.says))
    )
    kind = "clear error" if case.rc else "worked as intended"
    return {
        kind: int(clear),
        "unclear or wrong": int(not clear),
        **{k: int(v) for k, v in faults.items()},
    }


def may_write(case: Case, name: str) -> bool:
    """Whether the case may write the file (a path under the case's folder)."""
    inside = name.removeprefix("project/")
    return inside != name and any(
        fnmatch.fnmatch(inside, glob) or fnmatch.fnmatch(inside + "/", glob)  # a folder
        for glob in case.may_write
    )


def lost(outcome: Outcome, case: Case) -> list[str]:
    """Files that were there before and changed or went, but for what the case may write
    (a sample the project fetched before may be fetched again)."""
    return [name for name in outcome.changed if not may_write(case, name)]


def error_lines(stderr: str) -> list[str]:
    """The lines of the error stream that are not notes or warnings."""
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not line.startswith(("note: ", "warning: "))
    ]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_careless_input(case: Case, corpus, record_property):
    outcome, _ = corpus[case.id]
    record_property("bad_input", verdict(outcome, case))
    shown = f"rc={outcome.rc}\n--- stdout\n{outcome.stdout}\n--- stderr\n{outcome.stderr}"
    assert "Traceback" not in outcome.stderr, shown
    assert outcome.rc == case.rc, shown
    assert not outcome.leaked, f"the planted password is in {outcome.leaked}\n{shown}"
    assert not lost(outcome, case), f"files that were there changed or went: {lost(outcome, case)}"
    if case.rc:
        lines = error_lines(outcome.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: "), shown
        assert "run with --verbose" not in lines[0], f"an unexpected failure:\n{shown}"
        for word in case.says:
            assert word in lines[0], f"the error does not name {word!r}:\n{shown}"
        assert not outcome.new, f"a failed run wrote {outcome.new}"
    else:
        text = outcome.stdout + outcome.stderr
        for word in case.says:
            assert word in text, f"the run does not say {word!r}:\n{shown}"
        unexpected = [name for name in outcome.new if not may_write(case, name)]
        assert not unexpected, f"the run wrote outside its outputs: {unexpected}"


def test_rows_without_a_target_are_counted_in_the_manifest(corpus):
    _, root = corpus["a-target-with-missing-values-drops-those-rows"]
    manifest = json.loads((root / "outputs" / "test" / "manifest.json").read_text("utf-8"))
    assert manifest["data"]["dropped_missing_target"] == 25
    assert manifest["contract"]["columns"]["churned"]["missing"] is False


def project_process(environment: Environment, root: Path, *argv: str) -> subprocess.Popen:
    """The project's command line in a process of its own, its output captured."""
    return subprocess.Popen(
        [environment.command("python"), "-m", "trimode", *argv],
        cwd=root,
        env=environment.variables(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def signalled_human_run(
    environment: Environment, tmp_path: Path, signum: int
) -> tuple[Path, dict[str, str], subprocess.Popen, str, str]:
    """A copy of the project, its files before, and a human-mode train sent `signum`
    once its sample is written (it then cross-validates several models on 50,000 rows,
    work of many seconds on any machine); the process and what it printed."""
    root = copy_project(environment.folders[PROJECT.slug], tmp_path / "project")
    before = snapshot(root)
    process = project_process(environment, root, "train", "--mode", "human")
    sample = root / "data" / "human" / "sample.parquet"
    deadline = time.monotonic() + 300
    while not sample.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before the signal"
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    return root, before, process, stdout, stderr


def test_ctrl_c_is_one_line_and_publishes_nothing(environment: Environment, tmp_path):
    """A real SIGINT in the middle of a human-mode run: exit 130, one line, no traceback."""
    root, before, process, stdout, stderr = signalled_human_run(
        environment, tmp_path, signal.SIGINT
    )
    shown = f"--- stdout\n{stdout}\n--- stderr\n{stderr}"
    assert process.returncode == 130, shown
    assert stderr.strip() == "interrupted", shown
    assert not (root / "outputs" / "human").exists(), shown
    after = snapshot(root)
    assert all(after.get(name) == digest for name, digest in before.items())
    leftovers = [
        path.name for path in root.rglob(".*") if "staging" in path.name or "previous" in path.name
    ]
    assert not leftovers, leftovers


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or sys.platform == "win32", reason="POSIX")
def test_sigterm_during_train_is_one_line_exit_143_and_publishes_nothing(
    environment: Environment, tmp_path
):
    """SIGTERM in the middle of a human-mode run, handled as Ctrl-C: exit 143, one line."""
    root, before, process, stdout, stderr = signalled_human_run(
        environment, tmp_path, signal.SIGTERM
    )
    shown = f"--- stdout\n{stdout}\n--- stderr\n{stderr}"
    assert process.returncode == 143, shown
    assert stderr.strip() == "terminated", shown
    assert not (root / "outputs" / "human").exists(), shown
    after = snapshot(root)
    assert all(after.get(name) == digest for name, digest in before.items())
    leftovers = [path.name for path in root.rglob(".*") if path.name.endswith(".tmp")]
    assert not leftovers, leftovers


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or sys.platform == "win32", reason="POSIX")
def test_sigterm_during_fetch_never_leaves_a_sample_without_its_metadata(
    environment: Environment, tmp_path
):
    """SIGTERM as soon as fetch-sample starts writing: the sample and its metadata are
    written both or neither, and no temporary file stays."""
    root = copy_project(environment.folders[PROJECT.slug], tmp_path / "project")
    process = project_process(environment, root, "fetch-sample", "--mode", "human")
    folder = root / "data" / "human"
    deadline = time.monotonic() + 300
    while not folder.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    shown = f"rc={process.returncode}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    assert process.returncode in (0, 143), shown
    if process.returncode == 143:
        assert stderr.strip() == "terminated", shown
    sample, meta = folder / "sample.parquet", folder / "sample.meta.json"
    assert sample.exists() == meta.exists(), shown
    leftovers = [path.name for path in root.rglob(".*") if path.name.endswith(".tmp")]
    assert not leftovers, leftovers


def trained_from(environment: Environment, root: Path, source: str, workspace: Path) -> str:
    """Point test mode at the source, train and write the report (both must work); return
    what they printed."""
    set_keys(root, "test", {"data.source": json.dumps(source)})
    runs = [
        {"id": step, "cwd": str(root), "project": str(root), "argv": argv}
        for step, argv in (("train", list(TRAIN)), ("report", ["report", "--mode", "test"]))
    ]
    results = run_driver(environment, workspace, runs)
    assert [result["rc"] for result in results.values()] == [0, 0], results
    assert (root / "outputs" / "test" / "report.html").is_file()
    assert "***" in (root / "data" / "test" / "sample.meta.json").read_text("utf-8")
    return "".join(result["stdout"] + result["stderr"] for result in results.values())


def assert_nowhere(secret: str, printed: str, root: Path) -> None:
    """The secret is neither in what the run printed nor in any file it wrote (the
    sample and its metadata, the contract, the model, the manifest, the metrics, the
    report)."""
    assert secret not in printed, printed
    holding = [
        str(path.relative_to(root))
        for folder in ("data", "outputs")
        for path in (root / folder).rglob("*")
        if path.is_file() and secret.encode() in path.read_bytes()
    ]
    assert not holding, f"the password is in {holding}"


def test_a_password_in_a_working_http_url_is_never_written(environment: Environment, tmp_path):
    """Files served over HTTP to basic auth only, the credentials in the URL (as fsspec
    and aiohttp take them): the run works, and the password is nowhere."""
    served = tmp_path / "served"
    served.mkdir()
    write_table(served / "customers.csv", customers())
    root = copy_project(environment.folders[PROJECT.slug], tmp_path / "project")
    set_keys(root, "test", {"data.target": '"churned"'})
    with http_server(served, f"bob:{PLANT}") as base:
        url = base.replace("http://", f"http://bob:{PLANT}@") + "/customers.csv"
        printed = trained_from(environment, root, url, tmp_path / "driver")
    assert_nowhere(PLANT, printed, root)


def test_a_key_in_the_query_of_a_working_https_url_is_never_written(
    environment: Environment, tmp_path
):
    """A CSV file served at a URL whose query holds a key (`.../customers.csv?key=...`):
    read as CSV (the format is the path's), and the key is nowhere."""
    served = tmp_path / "served"
    served.mkdir()
    write_table(served / "customers.csv", customers())
    root = copy_project(environment.folders[PROJECT.slug], tmp_path / "project")
    set_keys(root, "test", {"data.target": '"churned"'})
    with http_server(served) as base:
        url = f"{base}/customers.csv?key={PLANT}&v=2"
        printed = trained_from(environment, root, url, tmp_path / "driver")
    assert_nowhere(PLANT, printed, root)


def test_a_password_in_a_working_database_url_is_never_written(
    environment: Environment, postgres_url: str, tmp_path
):
    """A fetch and a train from PostgreSQL, the URL holding the server's password."""
    password = postgres_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    root = copy_project(environment.folders[PROJECT.slug], tmp_path / "project")
    table = f"corpus_{int(time.time() * 1000)}"
    script = (
        "import sys, sqlalchemy as sa\n"
        "from trimode.data.synthetic import make_dataset\n"
        "engine = sa.create_engine(sys.argv[1])\n"
        "make_dataset('classification', 2000).to_sql(sys.argv[2], engine, index=False)\n"
    )
    ok(environment.run(environment.command("python"), "-c", script, postgres_url, table, cwd=root))
    set_keys(root, "test", {"data.table": json.dumps(table)})
    printed = trained_from(environment, root, postgres_url, tmp_path / "driver")
    assert_nowhere(password, printed, root)
