"""Data mean what they say, decided where data enter (issue 21): decimals are numbers,
whole numbers a float cannot hold are refused by name, a Parquet folder's files agree
or are refused by file and column, an integer target with missing values keeps its
labels, NaN bounds no check, unreadable dates are a contract breach, the manifest is
part of the artifact's integrity, and a report describes its model's own rows."""

from __future__ import annotations

import decimal
import json
import math
import shutil
import sqlite3

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trimode.artifacts.manifest import sealed
from trimode.artifacts.model_file import load_model, read_manifest
from trimode.config.model import SECTIONS, ColumnsConfig
from trimode.core.errors import ArtifactError, ConfigError, DataError
from trimode.core.layout import MANIFEST_FILE, MODEL_FILE
from trimode.core.writes import WriteRefused
from trimode.data.loading import load_dataset
from trimode.data.sampling import fetch_sample
from trimode.data.schema import infer_schema
from trimode.data.sources import read_all
from trimode.data.stream import Source
from trimode.data.synthetic import make_dataset
from trimode.modelling.behaviour import Directional, Examples, Invariant
from trimode.workflows.predict import predict_file
from trimode.workflows.report import build_report
from trimode.workflows.train import train

from .conftest import machine_config, with_data

ROWS = 400


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    """A classification config of the machinery's own (sources hold customers)."""
    return machine_config(tmp_path_factory.mktemp("meaning"), task="classification")


def pointed_at(config, source, **changes):
    """The config reading `source` (target: churned), with data settings changed."""
    # Samples go to the tests' own temporary folders, outside the module's project.
    outputs = config.outputs.model_copy(update={"allow_outside_project": True})
    changed = with_data(config, source=str(source), target="churned", **changes)
    return changed.model_copy(update={"outputs": outputs})


def customers(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    return make_dataset("classification", rows, seed=seed)


def test_decimal_columns_are_numbers(config, tmp_path):
    frame = customers()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    spend = [None if pd.isna(v) else decimal.Decimal(f"{v:.2f}") for v in frame["monthly_charges"]]
    tenure = [decimal.Decimal(int(v)) for v in frame["tenure_months"]]
    table = table.set_column(
        table.schema.get_field_index("monthly_charges"),
        "monthly_charges",
        pa.array(spend, pa.decimal128(12, 2)),
    )
    table = table.set_column(
        table.schema.get_field_index("tenure_months"),
        "tenure_months",
        pa.array(tenure, pa.decimal256(40, 0)),
    )
    pq.write_table(table, tmp_path / "rows.parquet")
    read = read_all(pointed_at(config, tmp_path / "rows.parquet").data, "classification")[0]
    assert read.schema.field("monthly_charges").type == pa.float64()
    assert read.schema.field("tenure_months").type == pa.float64()
    loaded = load_dataset(pointed_at(config, tmp_path / "rows.parquet"))
    schema = infer_schema(loaded.frame, "churned")
    assert {"monthly_charges", "tenure_months"} <= set(schema.numeric)
    np.testing.assert_allclose(
        loaded.frame["monthly_charges"], frame["monthly_charges"].round(2), rtol=1e-12
    )


def test_every_source_reads_decimals_as_numbers():
    # What SQL NUMERIC columns arrive as (pandas' Decimal objects), whatever the source.
    batch = pa.record_batch(
        {"spend": pa.array([decimal.Decimal("1.25"), None], pa.decimal128(5, 2))}
    )
    source = Source("a database (query)", batch.schema, iter([batch, batch]))
    assert source.schema.field("spend").type == pa.float64()
    assert [b.column(0).to_pylist() for b in source.batches] == [[1.25, None]] * 2


@pytest.mark.parametrize("kind", ["list", "struct"])
def test_a_nested_column_is_one_line_naming_it(config, tmp_path, kind):
    frame = customers(50)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    values = [[i, i + 1] for i in range(50)] if kind == "list" else [{"a": i} for i in range(50)]
    table = table.append_column("tags", pa.array(values))
    pq.write_table(table, tmp_path / "rows.parquet")
    with pytest.raises(DataError) as refused:
        read_all(pointed_at(config, tmp_path / "rows.parquet").data, "classification")
    message = str(refused.value)
    assert "\n" not in message and "'tags'" in message and "nested" in message


@pytest.mark.parametrize(
    "values",
    [
        pa.array([2**64 - 1 - i for i in range(ROWS)], pa.uint64()),
        pa.array([2**62 + i for i in range(ROWS)], pa.int64()),
        pa.array([-(2**60) - i for i in range(ROWS)], pa.int64()),
        pa.array([-(2**63) + i for i in range(ROWS)], pa.int64()),
    ],
    ids=["uint64", "int64", "negative", "smallest int64"],
)
def test_integers_beyond_float_precision_are_refused_by_name(config, tmp_path, values):
    table = pa.Table.from_pandas(customers(), preserve_index=False).append_column("code", values)
    pq.write_table(table, tmp_path / "rows.parquet")
    source = pointed_at(config, tmp_path / "rows.parquet")
    with pytest.raises(DataError, match=r"'code' \(e\.g\. -?\d{17,}\).*2\*\*53.*\[columns\] ids"):
        load_dataset(source)
    # Named an identifier, it stays as it is: exact, and no feature.
    declared = source.model_copy(update={"columns": ColumnsConfig(ids=["code"])})
    loaded = load_dataset(declared)
    assert loaded.frame["code"].tolist() == values.to_pylist()
    schema = infer_schema(loaded.frame, "churned", declared.columns)
    assert "code" not in schema.numeric and "code" in schema.ids


def test_twenty_digit_integers_in_a_csv_are_refused_by_name_before_a_sample_is_written(
    config, tmp_path
):
    frame = customers()
    frame["account"] = [f"{12345678901234567890 + i}" for i in range(ROWS)]
    frame.to_csv(tmp_path / "rows.csv", index=False)
    sampled = pointed_at(config, tmp_path / "rows.csv", max_rows=300, sample_dir=str(tmp_path))
    with pytest.raises(DataError, match=r"'account' \(e\.g\. 1\.23456789\d*e\+19\).*2\*\*53"):
        load_dataset(sampled)
    assert not sampled.sample_folder.exists()
    # Ordinary numbers, large or fractional, are not whole numbers beyond 2**53.
    frame["account"] = np.linspace(0, 1e20, ROWS) + 0.5
    frame.to_csv(tmp_path / "rows.csv", index=False)
    assert "account" in load_dataset(sampled).frame


def write_files(folder, **files: pd.DataFrame) -> None:
    folder.mkdir()
    for name, frame in files.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)


def test_parquet_files_that_disagree_on_types_are_one_error_naming_files_and_columns(
    config, tmp_path
):
    frame = customers()
    write_files(
        tmp_path / "rows",
        a=frame.iloc[:200],
        b=frame.iloc[200:].astype({"monthly_charges": str, "plan": "category"}),
    )
    with pytest.raises(DataError) as refused:
        load_dataset(pointed_at(config, tmp_path / "rows"))
    message = str(refused.value)
    assert "\n" not in message
    assert "'monthly_charges' is " in message and "a.parquet" in message and "b.parquet" in message
    assert "disagree" in message


def test_parquet_files_that_only_lack_columns_are_unified_with_a_warning(config, tmp_path):
    frame = customers()
    write_files(
        tmp_path / "rows",
        a=frame.iloc[:200],
        b=frame.iloc[200:].drop(columns=["region"]),
        # Integers in one file, floats in another: numbers all the same.
        c=frame.iloc[:10].astype({"support_calls": "float64"}),
    )
    loaded = load_dataset(pointed_at(config, tmp_path / "rows", max_rows=0))
    assert len(loaded.frame) == len(frame) + 10
    assert loaded.frame["region"].isna().sum() == 200 + frame["region"].isna().iloc[:210].sum()
    (warning,) = [item for item in loaded.warnings if "lack" in item]
    assert "'region' (b.parquet)" in warning and "\n" not in warning
    # A sample of the folder says the same when it is fetched.
    sampled = pointed_at(config, tmp_path / "rows", max_rows=300, sample_dir=str(tmp_path / "s"))
    assert any("'region' (b.parquet)" in item for item in fetch_sample(sampled).warnings)


def test_a_csv_folder_is_read_by_every_files_columns(config, tmp_path):
    frame = customers()
    (tmp_path / "rows").mkdir()
    frame.iloc[:200].to_csv(tmp_path / "rows" / "a.csv", index=False)
    # A later export: one column fewer, one more (read, not dropped as the first file lacks it).
    later = frame.iloc[200:].drop(columns=["region"]).assign(score=1.5)
    later.to_csv(tmp_path / "rows" / "b.csv", index=False)
    loaded = load_dataset(pointed_at(config, tmp_path / "rows", max_rows=0))
    assert loaded.frame["score"].isna().sum() == 200 and (loaded.frame["score"] == 1.5).sum() == 200
    assert any("'region' (b.csv)" in item and "'score' (a.csv)" in item for item in loaded.warnings)
    frame.iloc[:5].assign(age="unknown").to_csv(tmp_path / "rows" / "c.csv", index=False)
    with pytest.raises(DataError, match=r"'age' is double in a\.csv, b\.csv vs string in c\.csv"):
        load_dataset(pointed_at(config, tmp_path / "rows", max_rows=0))


def test_an_integer_target_with_missing_values_keeps_its_labels(config, tmp_path):
    frame = customers()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    churned = pa.array([None if i % 7 == 0 else int(v) for i, v in enumerate(frame["churned"])])
    table = table.set_column(table.schema.get_field_index("churned"), "churned", churned)
    pq.write_table(table, tmp_path / "rows.parquet")
    for changes in ({"max_rows": 0}, {"max_rows": 300, "sample_dir": str(tmp_path / "s")}):
        loaded = load_dataset(pointed_at(config, tmp_path / "rows.parquet", **changes))
        assert pd.api.types.is_integer_dtype(loaded.frame["churned"]), changes
        assert loaded.dropped_missing_target == churned.null_count
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as connection:
        frame.assign(churned=pd.array(churned.to_pylist(), dtype="Int64")).to_sql(
            "t", connection, index=False
        )
    sql = pointed_at(config, f"sqlite:///{database}", table="t", max_rows=0)
    assert pd.api.types.is_integer_dtype(load_dataset(sql).frame["churned"])


def float_keys() -> list[str]:
    """Every key of the config model that holds a number with a fraction (or numbers)."""
    return [
        f"{section}.{name}"
        for section, model in SECTIONS.items()
        for name, field in model.model_fields.items()
        if "float" in str(field.annotation)
    ]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("key", float_keys())
def test_no_config_number_is_nan_or_infinite(tmp_path, key, value):
    section, name = key.split(".")
    field = SECTIONS[section].model_fields[name]
    setting = {"primary": value} if "dict" in str(field.annotation) else value
    with pytest.raises(ConfigError, match=rf"key '{key}' must be .*finite"):
        machine_config(tmp_path, **{section: {name: setting}})


def test_the_float_keys_cover_the_bounds_of_checks():
    assert {
        "evaluation.min_lift_over_baseline",
        "evaluation.thresholds",
        "evaluation.leakage_threshold",
        "data.test_fraction",
    } <= set(float_keys())


@pytest.mark.parametrize(
    "make",
    [
        lambda: Directional(
            "x", feature="monthly_charges", change=1.0, direction="up", tolerance=math.nan
        ),
        lambda: Directional("x", feature="monthly_charges", change=math.inf, direction="up"),
        lambda: Invariant("x", feature="plan", values=["a", "b"], tolerance=math.nan),
        lambda: Examples("x", rows=[{"monthly_charges": 1}], expected=[(math.nan, 10.0)]),
        lambda: Examples("x", rows=[{"monthly_charges": 1}], expected=[1], allowed_share=math.nan),
    ],
    ids=["tolerance", "change", "invariant", "range", "allowed_share"],
)
def test_an_expectation_refuses_a_nan_bound(make):
    with pytest.raises(ConfigError, match=r"expectation 'x': \S+ must be a finite number"):
        make()


def test_an_expectation_keeps_an_open_range():
    assert Examples("x", rows=[{"monthly_charges": 1}], expected=[(0.0, math.inf)]).expected


def test_a_date_role_on_numbers_is_one_short_line(config, tmp_path):
    customers().to_csv(tmp_path / "rows.csv", index=False)
    dated = pointed_at(config, tmp_path / "rows.csv").model_copy(
        update={"columns": ColumnsConfig(dates=["monthly_charges"])}
    )
    with pytest.raises(DataError) as refused:
        load_dataset(dated)
    message = str(refused.value)
    assert "'monthly_charges' is under [columns] dates but holds number values" in message
    assert "\n" not in message and len(message) < 400


def test_text_that_is_no_date_is_a_contract_breach_naming_rows(config, tmp_path):
    frame = customers().assign(signed=lambda f: [f"2024-01-{1 + i % 28:02d}" for i in f.index])
    frame.loc[[3, 9, 40], "signed"] = ["soon", "later", "yesterday"]
    frame.to_csv(tmp_path / "rows.csv", index=False)
    dated = pointed_at(config, tmp_path / "rows.csv").model_copy(
        update={"columns": ColumnsConfig(dates=["signed"])}
    )
    with pytest.raises(DataError) as refused:
        load_dataset(dated)
    message = str(refused.value)
    assert "'signed' ([columns] dates) holds text that is no date in 3 of" in message
    assert "'soon', 'later', 'yesterday'" in message and "contract.unreadable_date" in message
    warned = dated.model_copy(
        update={"contract": dated.contract.model_copy(update={"unreadable_date": "warn"})}
    )
    assert any("'signed'" in warning for warning in load_dataset(warned).warnings)


@pytest.fixture
def published(machine_run, tmp_path):
    """A copy of the machine run's published folder."""
    return shutil.copytree(machine_run.output_dir, tmp_path / "published")


def edit_manifest(folder, change, seal: bool) -> dict:
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    change(manifest)
    manifest = sealed(manifest) if seal else manifest
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    return manifest


@pytest.mark.parametrize(
    "change",
    [
        lambda manifest: manifest.update(classes=list(reversed(manifest["classes"]))),
        lambda manifest: manifest["metrics"].update(roc_auc=0.99),
        lambda manifest: manifest.pop("manifest_sha256"),
    ],
    ids=["classes", "metrics", "no digest"],
)
def test_an_edited_manifest_is_refused_in_one_line(published, change):
    edit_manifest(published, change, seal=False)
    with pytest.raises(ArtifactError) as refused:
        read_manifest(published)
    message = str(refused.value)
    assert "manifest.json" in message and "edited after training" in message
    assert "\n" not in message


def test_a_record_of_trimode_5_0_without_a_digest_is_still_read(published):
    """Version 4 records had no digest: an update of the runtime keeps them usable (the
    model file's hash is checked all the same) until the next train seals a new one."""

    def as_written_by_5_0(manifest):
        manifest.pop("manifest_sha256")
        manifest["manifest_version"] = 4

    written = edit_manifest(published, as_written_by_5_0, seal=False)
    assert read_manifest(published) == written


def test_predict_copies_a_twenty_digit_id_of_a_csv_exactly(config, published, tmp_path):
    rows = customers(30).drop(columns=["churned"])
    codes = [str(10**19 + 7 * row) for row in range(len(rows))]  # beyond 2**53
    rows.insert(0, "code", codes)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    output = tmp_path / "scored.csv"
    predict_file(
        config.project,
        str(tmp_path / "rows.csv"),
        output,
        published,
        allow_non_production=True,
        keep=("code",),
    )
    assert pd.read_csv(output, dtype=str)["code"].tolist() == codes


def test_predict_takes_class_labels_from_the_model(config, published, tmp_path):
    # Even a record whose digest was forged cannot rename the model's classes.
    edit_manifest(published, lambda m: m.update(classes=["x", "y"]), seal=True)
    project = config.project
    rows = tmp_path / "rows.csv"
    customers(30).drop(columns=["churned"]).to_csv(rows, index=False)
    output = tmp_path / "scored.csv"
    predict_file(project, str(rows), output, published, allow_non_production=True)
    model = load_model(published / MODEL_FILE, read_manifest(published), project)
    labels = [f"probability_{label}" for label in model.classes_]
    assert labels == ["probability_0", "probability_1"]
    assert list(pd.read_csv(output).columns) == ["prediction", *labels]


def test_a_report_describes_its_models_rows_or_says_the_data_changed(config, tmp_path):
    source = tmp_path / "rows.csv"
    customers(600).to_csv(source, index=False)
    run = pointed_at(config, source, max_rows=400, sample_dir=str(tmp_path / "samples"))
    train(run)
    sample = run.sample_folder / "sample.parquet"
    fetched = sample.read_bytes()
    customers(600, seed=1).to_csv(source, index=False)  # the source changes
    # The report reads the rows the model was trained on: the sample, not fetched again.
    assert build_report(run).is_file()
    assert sample.read_bytes() == fetched
    fetch_sample(run)  # now the sample holds other rows
    with pytest.raises(DataError) as refused:
        build_report(run)
    message = str(refused.value)
    assert "not those test mode's model was trained on" in message
    assert "run `train --mode test`, then `report --mode test`" in message
    assert "\n" not in message


def test_predict_refuses_integers_beyond_float_precision(config, published, tmp_path):
    rows = tmp_path / "rows.csv"
    numbers = customers(30).drop(columns=["churned"])
    numbers["support_calls"] = [f"{12345678901234567890 + i}" for i in range(30)]
    numbers.to_csv(rows, index=False)
    output = tmp_path / "scored.csv"
    with pytest.raises(DataError, match=r"rows\.csv: column\(s\) 'support_calls' .*2\*\*53"):
        predict_file(config.project, str(rows), output, published, allow_non_production=True)
    assert not output.exists()


def test_predict_reads_infinities_as_missing_as_training_does(config, published, tmp_path):
    rows = customers(30).drop(columns=["churned"])
    infinite, missing = rows.copy(), rows.copy()
    infinite.loc[[2, 25], "monthly_charges"] = [math.inf, -math.inf]
    missing.loc[[2, 25], "monthly_charges"] = math.nan
    scored = {}
    for name, frame in {"infinite": infinite, "missing": missing}.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        scored[name] = predict_file(
            config.project,
            str(tmp_path / f"{name}.csv"),
            tmp_path / f"{name}-scored.csv",
            published,
            allow_non_production=True,
            batch_rows=10,  # the two infinities fall in different batches: counted together
        )
    said = [line for line in scored["infinite"].warnings if "infinite" in line]
    assert said == [
        f"{tmp_path / 'infinite.csv'}: column 'monthly_charges' holds 2 infinite value(s), "
        "read as missing"
    ]
    assert not any("infinite" in line for line in scored["missing"].warnings)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "infinite-scored.csv"), pd.read_csv(tmp_path / "missing-scored.csv")
    )


def test_predict_never_writes_into_the_source_its_model_was_trained_on(config, published, tmp_path):
    source = tmp_path / "rows"
    source.mkdir()
    customers(20).to_parquet(source / "part-0.parquet")
    edit_manifest(published, lambda m: m["data"].update(source=str(source)), seal=True)
    rows = tmp_path / "new.csv"
    customers(20).drop(columns=["churned"]).to_csv(rows, index=False)
    with pytest.raises(WriteRefused, match=r"--output: .*scored.parquet .* data source"):
        predict_file(
            config.project,
            str(rows),
            source / "scored.parquet",
            published,
            allow_non_production=True,
        )
    assert [path.name for path in source.iterdir()] == ["part-0.parquet"]


def test_predict_reads_a_spreadsheets_csv_as_it_was_written(config, published, tmp_path):
    rows = customers(30).drop(columns=["churned"])
    rows.to_csv(tmp_path / "comma.csv", index=False)
    rows.to_csv(tmp_path / "semicolon.csv", sep=";", decimal=",", index=False)
    for name in ("comma", "semicolon"):
        predict_file(
            config.project,
            str(tmp_path / f"{name}.csv"),
            tmp_path / f"{name}-scored.csv",
            published,
            allow_non_production=True,
        )
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "semicolon-scored.csv"), pd.read_csv(tmp_path / "comma-scored.csv")
    )
