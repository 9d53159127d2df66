"""The data contract: recorded at a mode's first load, every later load checked against it,
and the data that are wrong whatever the contract says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trimode.config.model import ContractConfig
from trimode.core.errors import DataError
from trimode.data.contract import (
    check_loaded,
    contract_breaches,
    mostly_numeric,
    read_contract,
    record_contract,
    write_contract,
)

from .conftest import machine_config, with_data


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [30, 41, 52, 63],
            "plan": ["basic", "pro", "basic", "plus"],
            "signed_up": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]),
            "active": [True, False, True, True],
            "spend": [10.5, np.nan, 30.0, 45.25],
            "churned": [0, 1, 0, 1],
        }
    )


@pytest.fixture(scope="module")
def classification(tmp_path_factory):
    config = machine_config(tmp_path_factory.mktemp("contract"), task="classification")
    return config.model_copy(update={"data": config.data.model_copy(update={"target": "churned"})})


def test_the_contract_records_kinds_missing_values_ranges_and_categories(frame):
    columns = record_contract(frame)["columns"]
    assert {name: entry["kind"] for name, entry in columns.items()} == {
        "age": "number",
        "plan": "text",
        "signed_up": "date",
        "active": "boolean",
        "spend": "number",
        "churned": "number",
    }
    assert (columns["age"]["min"], columns["age"]["max"]) == (30, 63)
    assert columns["signed_up"]["min"].startswith("2024-01-01")
    assert columns["plan"]["categories"] == ["basic", "plus", "pro"]
    assert columns["active"]["categories"] == ["False", "True"]
    assert columns["spend"]["missing"] and not columns["age"]["missing"]


def test_every_breach_names_its_check_its_column_the_rows_and_an_example(frame):
    contract = record_contract(frame)
    later = frame.drop(columns="spend").assign(
        age=[30, 41, 52, 99],
        plan=["basic", "enterprise", "basic", "plus"],
        signed_up=pd.to_datetime(["2023-06-01", "2024-02-01", "2024-03-01", "2024-04-01"]),
        active=[True, None, True, True],
        referrer="friend",
        churned=["no", "yes", "no", "yes"],
    )
    found = {
        (check, column): message for check, column, message in contract_breaches(later, contract)
    }
    assert set(found) == {
        ("missing_column", "spend"),
        ("new_column", "referrer"),
        ("out_of_range", "age"),
        ("new_category", "plan"),
        ("out_of_range", "signed_up"),
        ("new_missing_values", "active"),
        ("type_changed", "churned"),
    }
    assert "1 of 4 rows, e.g. 99" in found[("out_of_range", "age")]
    assert "1 of 4 rows, e.g. 'enterprise'" in found[("new_category", "plan")]
    assert "'churned' was number, is text" in found[("type_changed", "churned")]
    assert contract_breaches(frame, contract) == []


def test_a_category_read_back_as_text_is_the_same_category(frame):
    contract = record_contract(frame)
    as_text = frame.assign(active=frame["active"].astype(str))
    found = contract_breaches(as_text, contract, ("new_category",))
    assert found == []


def test_the_config_decides_which_breaches_stop_a_run(frame, classification):
    contract = record_contract(frame)
    later = frame.assign(plan=["basic", "enterprise", "basic", "plus"])
    checked = check_loaded(later, classification, "rows.csv", contract)
    assert len(checked.warnings) == 1 and "'enterprise'" in checked.warnings[0]
    strict = classification.model_copy(update={"contract": ContractConfig(new_category="error")})
    with pytest.raises(DataError, match=r"rows\.csv' breaks the data contract: column 'plan'"):
        check_loaded(later, strict, "rows.csv", contract)


def test_numbers_but_for_a_few_values_are_named(frame, classification):
    codes = frame.assign(age=["30", "41", "forty", "63"])
    assert mostly_numeric(codes, set()) == []  # a quarter are words: text, not a typo
    typo = pd.concat([frame] * 10, ignore_index=True).astype({"age": object})
    typo.loc[17, "age"] = "forty"
    (found,) = mostly_numeric(typo, set())
    assert "column 'age'" in found and "1 of 40" in found and "'forty'" in found
    assert mostly_numeric(typo, {"age"}) == []  # declared text or an ID
    with pytest.raises(DataError, match=r"'age' holds numbers but for 1 of 40 values \('forty'\)"):
        check_loaded(typo, classification, "rows.csv", None)


def test_rows_without_a_target_are_dropped_and_counted(frame, classification):
    rows = pd.concat([frame] * 3, ignore_index=True).astype({"churned": float})
    rows.loc[[2, 5], "churned"] = np.nan
    checked = check_loaded(rows, classification, "rows.csv", None)
    assert len(checked.frame) == len(rows) - 2 and checked.dropped_missing_target == 2
    assert checked.notes == ["dropped 2 of 12 rows whose target 'churned' is missing"]


def test_a_target_that_cannot_be_learned_is_one_clear_error(frame, classification, tmp_path):
    with pytest.raises(DataError, match=r"target column 'churned' holds one class only \(0\)"):
        check_loaded(frame.assign(churned=0), classification, "rows.csv", None)
    regression = machine_config(tmp_path, task="regression")
    regression = regression.model_copy(
        update={"data": regression.data.model_copy(update={"target": "plan"})}
    )
    with pytest.raises(DataError, match=r"'plan' must hold numbers for task = \"regression\""):
        check_loaded(frame, regression, "rows.csv", None)
    for target, kind in (("active", "boolean"), ("signed_up", "date")):
        other = regression.model_copy(
            update={"data": regression.data.model_copy(update={"target": target})}
        )
        with pytest.raises(DataError, match=rf"got {kind} values"):
            check_loaded(frame, other, "rows.csv", None)


def test_a_contract_of_another_source_does_not_apply(frame, classification):
    write_contract(classification, record_contract(frame, classification))
    assert read_contract(classification) == (record_contract(frame, classification), [])
    elsewhere = with_data(classification, source="customers.csv")
    contract, notes = read_contract(elsewhere)
    assert contract is None
    assert len(notes) == 1 and "recorded from synthetic: recording it anew" in notes[0]


def test_a_column_without_values_takes_any_kind_later(frame, classification):
    contract = record_contract(frame.assign(discount=np.nan, vip=None))
    later = frame.assign(discount=[0.1, 0.2, np.nan, 0.0], vip=[True, False, True, True])
    assert contract_breaches(later, contract, ("type_changed",)) == []
    emptied = frame.assign(active=None)
    assert contract_breaches(emptied, record_contract(frame), ("type_changed",)) == []


def test_columns_dropped_on_purpose_may_come_and_go(frame, classification):
    contract = record_contract(frame)
    dropping = classification.model_copy(
        update={"columns": classification.columns.model_copy(update={"drop": ["spend"]})}
    )
    checked = check_loaded(frame.drop(columns="spend"), dropping, "rows.csv", contract)
    assert checked.warnings == []
    with pytest.raises(DataError, match=r"column 'spend' is missing"):
        check_loaded(frame.drop(columns="spend"), classification, "rows.csv", contract)
