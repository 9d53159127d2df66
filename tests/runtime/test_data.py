"""The data sources (built-in, CSV/Parquet files and URLs, SQL) and the local sample."""

from __future__ import annotations

import json
import sqlite3

import fsspec
import numpy as np
import pandas as pd
import pytest

from trimode.config.model import ContractConfig
from trimode.core.errors import DataError
from trimode.core.layout import CONTRACT_FILE, META_FILE, SAMPLE_FILE
from trimode.data.loading import load_dataset
from trimode.data.sampling import fetch_sample, read_meta
from trimode.data.sources import read_all, source_fingerprint
from trimode.data.synthetic import TARGETS, make_dataset

from .conftest import machine_config, with_data

CHECKS = list(ContractConfig.model_fields)


@pytest.mark.parametrize("task", sorted(TARGETS))
def test_synthetic_data_is_deterministic_realistic_and_nested(task):
    frame = make_dataset(task, 5_000, seed=3)
    pd.testing.assert_frame_equal(frame, make_dataset(task, 5_000, seed=3))
    pd.testing.assert_frame_equal(frame.head(1_000), make_dataset(task, 1_000, seed=3))
    assert not frame.equals(make_dataset(task, 5_000, seed=4))
    assert len(frame) == 5_000
    numeric = frame.select_dtypes("number").columns.drop(TARGETS[task])
    categorical = frame.columns.difference([*numeric, TARGETS[task]])
    assert len(numeric) >= 3 and len(categorical) >= 3
    assert frame.drop(columns=TARGETS[task]).isna().any().any()
    assert frame[TARGETS[task]].notna().all()


def test_synthetic_data_has_any_size_beyond_one_block():
    assert len(make_dataset("regression", 50_001)) == 50_001


# Sources and samples are human mode's tools: their tests run in the full suite
# (uv run pytest, nox, CI), not in the commit hook, which reads the cached sample.


@pytest.fixture
def rows() -> pd.DataFrame:
    return make_dataset("classification", 300)


@pytest.fixture(scope="module")
def test_config(tmp_path_factory):
    """A classification config of the machinery's own (the sources hold customers)."""
    return machine_config(tmp_path_factory.mktemp("data"), task="classification")


def configured(config, **data_changes):
    """The test-mode config with some data settings changed (samples may go outside the
    project: these tests keep them in temporary folders of their own)."""
    outputs = config.outputs.model_copy(update={"allow_outside_project": True})
    return with_data(config, **data_changes).model_copy(update={"outputs": outputs})


def in_folder(config, folder):
    """The config with its samples kept under folder."""
    return configured(config, sample_dir=str(folder))


def sampled(config, path, rows: int, folder):
    """The config sampling `rows` rows of the customers file at path, kept under folder."""
    return configured(
        config, source=str(path), target="churned", max_rows=rows, sample_dir=str(folder)
    )


def read(config, source, **changes):
    return read_all(configured(config, source=str(source), **changes).data, config.task)[0]


@pytest.mark.slow
def test_reads_csv_file(test_config, tmp_path, rows):
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    table = read(test_config, path, batch_rows=64)
    assert table.column_names == list(rows.columns)
    assert table.num_rows == len(rows)


@pytest.mark.slow
def test_reads_parquet_file_and_folder(test_config, tmp_path, rows):
    path = tmp_path / "rows.parquet"
    rows.to_parquet(path, index=False)
    pd.testing.assert_frame_equal(read(test_config, path).to_pandas(), rows, check_dtype=False)
    folder = tmp_path / "parts"
    folder.mkdir()
    rows.iloc[:100].to_parquet(folder / "part-0.parquet", index=False)
    rows.iloc[100:].to_parquet(folder / "part-1.parquet", index=False)
    assert read(test_config, folder).num_rows == len(rows)


@pytest.mark.slow
def test_reads_fsspec_urls(test_config, tmp_path, rows):
    local = tmp_path / "rows.parquet"
    rows.to_parquet(local, index=False)
    assert read(test_config, local.as_uri()).num_rows == len(rows)  # file:// URL
    with fsspec.open("memory://bucket/rows.csv", "w") as handle:
        rows.to_csv(handle, index=False)
    assert read(test_config, "memory://bucket/rows.csv").num_rows == len(rows)


@pytest.mark.slow
def test_reads_a_sqlite_table_and_query(test_config, tmp_path, rows):
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as connection:
        rows.to_sql("customers", connection, index=False)
    url = f"sqlite:///{database}"
    assert read(test_config, url, table="customers", batch_rows=64).num_rows == len(rows)
    query = "SELECT age, plan, churned FROM customers WHERE plan = 'premium'"
    table = read(test_config, url, query=query)
    assert table.column_names == ["age", "plan", "churned"]
    assert table.num_rows == (rows["plan"] == "premium").sum()
    with pytest.raises(DataError, match=r"set exactly one of data\.table and data\.query"):
        read(test_config, url)


@pytest.mark.slow
def test_refuses_missing_and_unknown_sources(test_config, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read(test_config, tmp_path / "absent.csv")
    (tmp_path / "rows.xlsx").write_text("not a table")
    with pytest.raises(DataError, match=r"expected CSV \(\.csv\) or Parquet"):
        read(test_config, tmp_path / "rows.xlsx")


@pytest.fixture
def csv_source(tmp_path) -> tuple:
    """A CSV source of 5,000 rows and the test-mode settings to sample 500 of them."""
    frame = make_dataset("classification", 5_000, seed=11)
    path = tmp_path / "source.csv"
    frame.to_csv(path, index=False)
    return frame, path


@pytest.mark.slow
def test_sample_is_deterministic_sized_and_described(test_config, tmp_path, csv_source):
    frame, path = csv_source
    config = configured(test_config, source=str(path), target="churned", max_rows=500)
    first = fetch_sample(in_folder(config, tmp_path / "a"))
    again = fetch_sample(in_folder(config, tmp_path / "b"))
    assert first.meta["content_hash"] == again.meta["content_hash"]
    sample = pd.read_parquet(first.path)
    assert len(sample) == 500 and list(sample.columns) == list(frame.columns)
    meta = json.loads((first.path.parent / META_FILE).read_text())
    assert meta["rows_seen"] == 5_000 and meta["rows_kept"] == 500
    assert meta["seed"] == test_config.train.seed and meta["source"] == str(path)
    assert meta["source_fingerprint"] == source_fingerprint(config.data)
    assert meta["source_fingerprint"]["bytes"] == path.stat().st_size
    assert set(meta["schema"]) == set(frame.columns) and meta["fetched_at"]
    other_seed = config.model_copy(update={"train": config.train.model_copy(update={"seed": 99})})
    assert (
        fetch_sample(in_folder(other_seed, tmp_path / "c")).meta["content_hash"]
        != (first.meta["content_hash"])
    )


@pytest.mark.slow
def test_sample_does_not_depend_on_batch_size(test_config, tmp_path, csv_source):
    _, path = csv_source
    hashes = {
        fetch_sample(
            configured(
                test_config,
                source=str(path),
                target="churned",
                max_rows=500,
                batch_rows=size,
                sample_dir=str(tmp_path / str(size)),
            )
        ).meta["content_hash"]
        for size in (97, 5_000)
    }
    assert len(hashes) == 1


@pytest.mark.slow
def test_stratified_sample_keeps_class_shares(test_config, tmp_path, csv_source):
    frame, path = csv_source
    config = configured(test_config, source=str(path), target="churned", max_rows=500)
    config = config.model_copy(update={"task": "classification"})  # stratifying needs classes
    sample = pd.read_parquet(fetch_sample(in_folder(config, tmp_path)).path)
    expected = frame["churned"].value_counts(normalize=True) * 500
    counts = sample["churned"].value_counts()
    assert all(abs(counts[label] - expected[label]) <= 1 for label in expected.index)


def drifted(frame: pd.DataFrame) -> pd.DataFrame:
    """The customers with one column dropped, one added and one retyped (numbers to text)."""
    return frame.drop(columns="region").assign(
        referrer="friend", support_calls=frame["support_calls"].astype(str) + " calls"
    )


@pytest.mark.slow
def test_schema_drift_is_reported(test_config, tmp_path, csv_source):
    frame, path = csv_source
    config = configured(test_config, source=str(path), target="churned", max_rows=200)
    # Every contract check a warning: the fetch goes on and reports the drift.
    lenient = ContractConfig(**dict.fromkeys(CHECKS, "warn"))
    config = config.model_copy(update={"contract": lenient})
    assert not fetch_sample(in_folder(config, tmp_path)).drift
    drifted(frame).to_csv(path, index=False)
    fetched = fetch_sample(in_folder(config, tmp_path))
    drift = fetched.drift
    assert drift.added == {"referrer": "string"} or set(drift.added) == {"referrer"}
    assert set(drift.removed) == {"region"}
    assert set(drift.retyped) == {"support_calls"}
    text = drift.describe()
    assert (
        "added: referrer" in text and "removed: region" in text and "retyped: support_calls" in text
    )
    warned = " ".join(fetched.warnings)
    for words in ("'region' is missing", "'referrer' is new", "'support_calls' was number"):
        assert words in warned, fetched.warnings


@pytest.mark.slow
def test_a_sample_that_breaks_the_contract_is_refused_and_the_last_one_kept(
    test_config, tmp_path, csv_source
):
    frame, path = csv_source
    config = in_folder(
        configured(test_config, source=str(path), target="churned", max_rows=200), tmp_path
    )
    first = fetch_sample(config)
    kept = {
        name: (first.path.parent / name).read_bytes()
        for name in (SAMPLE_FILE, META_FILE, CONTRACT_FILE)
    }
    drifted(frame).to_csv(path, index=False)
    with pytest.raises(DataError) as refused:
        fetch_sample(config)
    message = str(refused.value)
    assert "'region' is missing" in message and "'support_calls' was number, is text" in message
    assert "contract.json" in message  # how to accept the new shape
    assert {name: (first.path.parent / name).read_bytes() for name in kept} == kept


@pytest.mark.slow
def test_rows_without_a_target_never_enter_a_sample_and_are_counted(test_config, tmp_path, rows):
    rows = rows.astype({"churned": float})
    rows.loc[:49, "churned"] = np.nan
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    loaded = load_dataset(sampled(test_config, path, 100, tmp_path))
    assert len(loaded.frame) == 100 and loaded.frame["churned"].notna().all()
    assert loaded.dropped_missing_target == 50
    assert any("left out 50 of 300 rows" in note for note in loaded.notes), loaded.notes


@pytest.mark.slow
def test_runs_read_the_local_sample_not_the_source(test_config, tmp_path, csv_source):
    _, path = csv_source
    config = sampled(test_config, path, 300, tmp_path)
    first = load_dataset(config)
    assert first.fetched is not None and first.fetched.reason == "no sample yet"
    assert first.sample_path.parent == config.sample_folder == tmp_path / "test"
    second = load_dataset(config)
    assert second.fetched is None and second.notes == []
    pd.testing.assert_frame_equal(first.frame, second.frame)
    path.unlink()  # a run must not need the source (a commit must not need the database)...
    third = load_dataset(config)
    assert third.fetched is None
    pd.testing.assert_frame_equal(first.frame, third.frame)
    # ...but says it could not check it.
    assert len(third.notes) == 1 and "cannot check the source for changes" in third.notes[0]


@pytest.mark.slow
def test_a_source_edited_in_place_is_fetched_again(test_config, tmp_path, csv_source):
    frame, path = csv_source
    config = sampled(test_config, path, 300, tmp_path)
    first = load_dataset(config)
    frame.iloc[:2_500].to_csv(path, index=False)  # the user edits the file in place
    second = load_dataset(config)
    assert second.fetched is not None
    assert second.fetched.reason == "the source changed since the last fetch"
    assert second.fetched.meta["rows_seen"] == 2_500
    assert not first.frame.equals(second.frame)
    other_size = load_dataset(configured(config, max_rows=200))
    assert other_size.fetched.reason.startswith("the sampling settings changed (sample_rows")
    assert len(other_size.frame) == 200


@pytest.mark.slow
def test_a_sample_from_a_database_knows_its_row_count_and_hides_the_password(
    test_config, tmp_path, rows
):
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as connection:
        rows.to_sql("customers", connection, index=False)
    config = configured(
        test_config,
        source=f"sqlite:///{database}",
        table="customers",
        max_rows=100,
        sample_dir=str(tmp_path),
    )
    fetch_sample(config)
    meta = read_meta(config.sample_folder)
    assert meta["source_fingerprint"] == {"rows": len(rows), "columns": list(rows.columns)}
    with sqlite3.connect(database) as connection:
        rows.head(10).to_sql("customers", connection, index=False, if_exists="append")
    assert load_dataset(config).fetched.reason == "the source changed since the last fetch"
    secret = configured(config, source="postgresql://analyst:s3cret-Pw@localhost:1/shop")
    with pytest.raises(DataError) as refused:
        load_dataset(
            secret.model_copy(update={"data": secret.data.model_copy(update={"table": ""})})
        )
    assert "s3cret-Pw" not in str(refused.value) and "***" in str(refused.value)


@pytest.mark.slow
def test_missing_target_column_is_named_with_the_columns(test_config, tmp_path, rows):
    source = tmp_path / "rows.parquet"
    rows.drop(columns="churned").to_parquet(source, index=False)
    config = configured(
        test_config, source=str(source), target="churned", stratify=False, sample_dir=str(tmp_path)
    )
    with pytest.raises(DataError, match=r"no target column 'churned' \(columns: age, "):
        load_dataset(config)


@pytest.mark.slow
def test_the_same_rows_in_csv_and_parquet_give_the_same_sample(test_config, tmp_path, rows):
    assert rows.select_dtypes(exclude="number").isna().any().any()  # empty CSV fields: missing
    paths = [tmp_path / "rows.csv", tmp_path / "rows.parquet"]
    rows.to_csv(paths[0], index=False)
    rows.to_parquet(paths[1], index=False)
    hashes = {
        fetch_sample(
            configured(
                test_config,
                source=str(path),
                target="churned",
                max_rows=100,
                sample_dir=str(tmp_path / path.suffix),
            )
        ).meta["content_hash"]
        for path in paths
    }
    assert len(hashes) == 1


@pytest.mark.slow
def test_the_seed_changes_samples_of_numbers_only(test_config, tmp_path, rows):
    path = tmp_path / "numbers.parquet"
    rows.select_dtypes("number").to_parquet(path, index=False)
    config = configured(test_config, source=str(path), target="churned", max_rows=100)
    hashes = {
        fetch_sample(
            in_folder(
                config.model_copy(update={"train": config.train.model_copy(update={"seed": seed})}),
                tmp_path / str(seed),
            )
        ).meta["content_hash"]
        for seed in (1, 2)
    }
    assert len(hashes) == 2


@pytest.mark.parametrize(
    ("separator", "decimal", "said"),
    [
        (";", ",", "read as separated by ';' with decimal commas"),
        (";", ".", "read as separated by ';'"),
        ("\t", ".", "read as separated by a tab"),
        ("|", ".", "read as separated by '|'"),
        (",", ".", None),
    ],
)
def test_a_csv_is_read_in_the_separator_and_decimal_mark_it_was_written_in(
    test_config, tmp_path, rows, separator, decimal, said
):
    # As spreadsheets in many locales save it: the columns and numbers of a comma's CSV.
    path = tmp_path / "rows.csv"
    rows.to_csv(path, sep=separator, decimal=decimal, index=False)
    loaded = load_dataset(configured(test_config, source=str(path), target="churned"))
    numbers = rows.select_dtypes("number").columns
    assert list(loaded.frame.columns) == list(rows.columns)
    pd.testing.assert_frame_equal(loaded.frame[numbers], rows[numbers], check_dtype=False)
    notes = [line for line in loaded.warnings if "read as separated" in line]
    assert notes == ([f"data source {str(path)!r}: {said}"] if said else [])
