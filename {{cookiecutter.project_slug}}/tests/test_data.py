"""The data sources: the built-in data set, and CSV or Parquet files, folders and URLs."""

from __future__ import annotations

import dataclasses

import fsspec
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data import load_dataset, read_table
from {{ cookiecutter.package_name }}.errors import DataError
from {{ cookiecutter.package_name }}.synthetic import TARGETS, make_dataset


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


@pytest.fixture
def sample() -> pd.DataFrame:
    return make_dataset("classification", 300)


def test_reads_csv_file(tmp_path, sample):
    path = tmp_path / "rows.csv"
    sample.to_csv(path, index=False)
    frame = read_table(str(path))
    assert list(frame.columns) == list(sample.columns)
    assert len(frame) == len(sample)
    assert read_table(str(path), max_rows=50).shape == (50, sample.shape[1])


def test_reads_parquet_file_and_folder(tmp_path, sample):
    path = tmp_path / "rows.parquet"
    sample.to_parquet(path, index=False)
    pd.testing.assert_frame_equal(read_table(str(path)), sample, check_dtype=False)

    folder = tmp_path / "parts"
    folder.mkdir()
    sample.iloc[:100].to_parquet(folder / "part-0.parquet", index=False)
    sample.iloc[100:].to_parquet(folder / "part-1.parquet", index=False)
    assert len(read_table(str(folder))) == len(sample)


def test_reads_fsspec_urls(tmp_path, sample):
    local = tmp_path / "rows.parquet"
    sample.to_parquet(local, index=False)
    assert len(read_table(local.as_uri())) == len(sample)  # file:// URL
    with fsspec.open("memory://bucket/rows.csv", "w") as handle:
        sample.to_csv(handle, index=False)
    assert len(read_table("memory://bucket/rows.csv", max_rows=10)) == 10


def test_refuses_missing_and_unknown_sources(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_table(str(tmp_path / "absent.csv"))
    (tmp_path / "rows.xlsx").write_text("not a table")
    with pytest.raises(DataError, match=r"expected CSV \(\.csv\) or Parquet"):
        read_table(str(tmp_path / "rows.xlsx"))


def with_source(config, tmp_path, **changes):
    return dataclasses.replace(config, data=dataclasses.replace(config.data, **changes))


def test_caches_what_it_read_and_reads_the_cache_next_time(test_config, tmp_path, sample):
    source = tmp_path / "rows.csv"
    sample.to_csv(source, index=False)
    config = with_source(test_config, tmp_path, source=str(source), target="churned", cache=True)
    first = load_dataset(config, workdir=tmp_path)
    assert first.cache_path is not None and first.cache_path.exists()
    assert first.cache_path.parent == tmp_path / "data" / "test"
    source.write_text("changed,content\n1,2\n")  # the next run must not read the source
    second = load_dataset(config, workdir=tmp_path)
    pd.testing.assert_frame_equal(first.frame, second.frame)


def test_missing_target_column_is_named_with_the_columns(test_config, tmp_path, sample):
    source = tmp_path / "rows.parquet"
    sample.drop(columns="churned").to_parquet(source, index=False)
    config = with_source(test_config, tmp_path, source=str(source), target="churned", cache=False)
    with pytest.raises(DataError, match=r"no target column 'churned' \(columns: age, "):
        load_dataset(config, workdir=tmp_path)
