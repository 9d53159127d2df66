"""`fetch-sample` in generated projects, from every kind of source, made in the test.

In the generated projects (each in its own environment, installed with the `http` and
`postgres` extras: generated.py), configs/test.toml is pointed at a source of a few
thousand synthetic rows: a CSV file, a folder of Parquet files, a Parquet file served
over http by a server on 127.0.0.1, a SQLite table and a table in a real PostgreSQL
server; each kind once, the two projects (tasks) taking turns. The project's own
script (`uv run <slug> fetch-sample`) fetches a sample (twice: the same hash), `train
--mode test` trains on it, then the source's columns change (one dropped, one added,
one retyped): the data contract refuses the new sample until the user accepts the
change, and the fetch then warns about each.

PostgreSQL: TRIMODE_TEST_POSTGRES_URL (.ci/run sets it) or, when it is not set, a
server these tests start (postgres_server.py). When none can be started the
PostgreSQL tests skip, saying why, except under CI, where they fail.
"""

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from generated import CLASSIFICATION, REGRESSION, Environment, Installed, ok, on
from http_files import http_server

pytestmark = pytest.mark.slow

SOURCE_ROWS = 6_000
TEST_ROWS = 3_000  # data.max_rows in configs/test.toml
HUMAN_ROWS = 50_000  # data.max_rows in configs/human.toml: more than the source holds
DROPPED, ADDED, RETYPED = "device", "referral_code", "age"
# Each kind of source once, the projects taking turns (the task changes the sample:
# stratified by the target in classification).
KINDS = {
    "csv": CLASSIFICATION,
    "parquet-folder": REGRESSION,
    "parquet-http": REGRESSION,
    "sqlite": CLASSIFICATION,
    "postgres": REGRESSION,
}

# Run by the environment's python: write the source (original or drifted), print its columns.
MAKE_SOURCE = """
import json, shutil, sys
from pathlib import Path
import pandas as pd
from trimode.data.synthetic import make_dataset

task, kind, where, variant, rows = sys.argv[1:6]
frame = make_dataset(task, int(rows), seed=5)
if variant == "drifted":
    frame = frame.drop(columns="{dropped}")
    frame["{added}"] = [f"R{{index % 97}}" for index in range(len(frame))]
    frame["{retyped}"] = frame["{retyped}"].map(lambda v: f"{{v:.0f}}y", na_action="ignore")
if kind == "csv":
    frame.to_csv(where, index=False)
elif kind == "parquet-folder":
    shutil.rmtree(where, ignore_errors=True)
    Path(where).mkdir()
    step = len(frame) // 4 + 1
    for part, start in enumerate(range(0, len(frame), step)):
        frame.iloc[start : start + step].to_parquet(f"{{where}}/part-{{part}}.parquet", index=False)
elif kind == "parquet-http":
    frame.to_parquet(where, index=False)
else:  # a SQLAlchemy URL and a table name
    import sqlalchemy as sa

    url, table = where.rsplit("#", 1)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        frame.to_sql(table, connection, index=False, if_exists="replace", chunksize=1_000)
    engine.dispose()
print(json.dumps(list(frame.columns)))
"""


@contextmanager
def pointed_at(folder: Path, mode: str, source: str, table: str = "") -> Iterator[None]:
    """Set data.source (and data.table) in configs/<mode>.toml, from a mode with no sample
    or outputs yet (another test of the shared project may have left some); restore the
    file after, and remove what the runs wrote."""
    for made in (folder / "data" / mode, folder / "outputs" / mode):
        shutil.rmtree(made, ignore_errors=True)
    path = folder / "configs" / f"{mode}.toml"
    pristine = path.read_text(encoding="utf-8")
    assert "\n[data]\n" in pristine, f"{path} has no [data] table to add the source to"
    settings = f"source = {json.dumps(source)}\ntable = {json.dumps(table)}\n"
    path.write_text(pristine.replace("\n[data]\n", f"\n[data]\n{settings}", 1), encoding="utf-8")
    try:
        yield
    finally:
        path.write_text(pristine, encoding="utf-8")
        shutil.rmtree(folder / "data" / mode, ignore_errors=True)
        shutil.rmtree(folder / "outputs" / mode, ignore_errors=True)


class Sources:
    """Make the sources of one kind for one generated project, original or drifted."""

    def __init__(self, installed: Installed, kind: str, root: Path):
        self.installed = installed
        self.kind = kind
        self.root = root

    def make(self, where: str, variant: str) -> list[str]:
        """Write the source at where (a path, or URL#table); return its columns."""
        script = MAKE_SOURCE.format(dropped=DROPPED, added=ADDED, retyped=RETYPED)
        task = self.installed.generated.task
        made = ok(self.installed.python(script, task, self.kind, where, variant, str(SOURCE_ROWS)))
        return json.loads(made.stdout.strip().splitlines()[-1])


def read_meta(folder: Path, mode: str = "test") -> dict:
    """The metadata of the mode's sample in the project folder."""
    return json.loads((folder / "data" / mode / "sample.meta.json").read_text(encoding="utf-8"))


def fetch(installed: Installed, mode: str = "test") -> tuple[str, dict]:
    """Run `fetch-sample --mode <mode>`; return its standard output and the sample's metadata."""
    result = ok(installed.script("fetch-sample", "--mode", mode))
    return result.stdout, read_meta(installed.folder, mode)


def read_sample(installed: Installed, mode: str) -> dict:
    """Rows and columns of data/<mode>/sample.parquet."""
    table = pq.read_table(installed.folder / "data" / mode / "sample.parquet")
    return {"rows": table.num_rows, "columns": table.column_names}


@contextmanager
def source_of(kind: str, sources: Sources, request) -> Iterator[tuple[str, str, str]]:
    """Yield (data.source, data.table, where the source is written) for a kind of source."""
    root = sources.root
    if kind == "csv":
        yield str(root / "customers.csv"), "", str(root / "customers.csv")
    elif kind == "parquet-folder":
        yield str(root / "customers"), "", str(root / "customers")
    elif kind == "parquet-http":
        served = root / "served"
        served.mkdir()
        with http_server(served) as base:
            yield f"{base}/customers.parquet", "", str(served / "customers.parquet")
    elif kind == "sqlite":
        url = f"sqlite:///{root / 'shop.db'}"
        yield url, "customers", f"{url}#customers"
    else:
        url = request.getfixturevalue("postgres_url")
        table = f"customers_{sources.installed.generated.task}"
        yield url, table, f"{url}#{table}"


@pytest.mark.parametrize("kind", [on(project, kind) for kind, project in KINDS.items()])
def test_fetch_sample_then_train(kind, environment: Environment, tmp_path, request):
    installed = environment[KINDS[kind].slug]
    folder = installed.folder
    sources = Sources(installed, kind, tmp_path)
    with source_of(kind, sources, request) as (source, table, where):
        columns = sources.make(where, "original")
        with pointed_at(folder, "test", source, table):
            stdout, meta = fetch(installed)
            assert "warning" not in stdout.lower(), stdout
            assert f"{TEST_ROWS:,} of {SOURCE_ROWS:,} rows" in stdout, stdout
            assert read_sample(installed, "test") == {"rows": TEST_ROWS, "columns": columns}
            assert (meta["rows_seen"], meta["rows_kept"]) == (SOURCE_ROWS, TEST_ROWS)
            # What a run writes down hides the password of a database URL.
            shown = re.sub(r"^([\w+]+://[^:/@]+):[^@/]+@", r"\1:***@", source)
            assert meta["source"] == shown and meta["table"] == table
            assert kind != "postgres" or ":***@" in shown
            assert "source_fingerprint" in meta
            assert isinstance(meta["seed"], int)
            assert list(meta["schema"]) == columns
            assert re.fullmatch(r"[0-9a-f]{64}", meta["content_hash"]), meta["content_hash"]

            # The same source and seed: the same sample, and no drift to report.
            again_stdout, again = fetch(installed)
            assert again["content_hash"] == meta["content_hash"]
            assert "warning" not in again_stdout.lower(), again_stdout

            # Training in test mode reads the fetched sample (it is up to date: no new fetch).
            trained = ok(installed.script("train", "--mode", "test"))
            assert not re.search(r"(?m)^sample", trained.stdout), trained.stdout
            manifest_path = folder / "outputs" / "test" / "manifest.json"
            data = json.loads(manifest_path.read_text(encoding="utf-8"))["data"]
            assert (data["rows"], data["source"]) == (TEST_ROWS, shown)

            # The source changes: a column dropped, one added, one retyped. The data
            # contract the first fetch recorded refuses the new sample, naming the dropped
            # and the retyped column, and keeps the last one...
            drifted_columns = sources.make(where, "drifted")
            refused = installed.script("fetch-sample", "--mode", "test")
            assert refused.returncode == 2, refused.stdout + refused.stderr
            (line,) = refused.stderr.strip().splitlines()
            assert f"column {DROPPED!r} is missing" in line, line
            assert f"column {RETYPED!r} was number, is text" in line, line
            contract = folder / "data" / "test" / "contract.json"
            assert str(contract) in line, line  # how to accept the change
            assert read_meta(folder)["content_hash"] == meta["content_hash"]
            # ...until the user accepts the change as the message says: the fetch then
            # reports the drift.
            contract.unlink()
            drift_stdout, drifted = fetch(installed)
            warning = [line for line in drift_stdout.splitlines() if "warning" in line.lower()]
            assert len(warning) == 1, drift_stdout
            assert re.search(rf"added: [^;]*\b{ADDED}\b", warning[0]), warning[0]
            assert re.search(rf"removed: [^;]*\b{DROPPED}\b", warning[0]), warning[0]
            assert re.search(rf"retyped: [^;]*\b{RETYPED}\b", warning[0]), warning[0]
            assert list(drifted["schema"]) == drifted_columns
            assert drifted["schema"][RETYPED] in {"string", "large_string"}
            assert drifted["content_hash"] != meta["content_hash"]

            # The source changes again under the sample: the next run fetches it anew
            # instead of training on a stale sample (the change accepted again).
            sources.make(where, "original")
            contract.unlink()
            retrained = ok(installed.script("train", "--mode", "test"))
            reason = "sample (the source changed since the last fetch)"
            assert reason in retrained.stdout, retrained.stdout


@pytest.mark.xdist_group(REGRESSION.group)
def test_fetch_sample_in_human_mode_keeps_every_row_of_a_small_source(
    environment: Environment, tmp_path
):
    installed = environment[REGRESSION.slug]
    path = tmp_path / "customers.csv"
    columns = Sources(installed, "csv", tmp_path).make(str(path), "original")
    with pointed_at(installed.folder, "human", str(path)):
        stdout, meta = fetch(installed, "human")
        assert (meta["rows_seen"], meta["rows_kept"]) == (SOURCE_ROWS, SOURCE_ROWS), stdout
        assert meta["sample_rows"] == HUMAN_ROWS
        assert read_sample(installed, "human") == {"rows": SOURCE_ROWS, "columns": columns}
        assert not (installed.folder / "data" / "test").exists()


@pytest.mark.xdist_group(CLASSIFICATION.group)
def test_the_same_rows_in_csv_and_parquet_give_the_same_sample(environment: Environment, tmp_path):
    installed = environment[CLASSIFICATION.slug]
    hashes = {}
    for kind, where in [("csv", "customers.csv"), ("parquet-http", "customers.parquet")]:
        Sources(installed, kind, tmp_path).make(str(tmp_path / where), "original")
        with pointed_at(installed.folder, "test", str(tmp_path / where)):
            hashes[where] = fetch(installed)[1]["content_hash"]
    assert len(set(hashes.values())) == 1, hashes
