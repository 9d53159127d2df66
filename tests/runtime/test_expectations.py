"""Behavioural expectations (trimode.modelling.behaviour): a broken expectation of each kind
is caught, naming the rows and their values; one that holds passes; and on other data
than the built-in set, the expectations the project ships are not applicable (with the
reason) while one of yours naming a missing column fails."""

from __future__ import annotations

import dataclasses

import pytest
from sklearn.datasets import load_breast_cancer

from trimode.core.project import project_at
from trimode.core.tasks import CLASSIFICATION, REGRESSION
from trimode.data.schema import infer_schema
from trimode.data.synthetic import make_dataset
from trimode.modelling.behaviour import (
    FAILED,
    MAX_ROWS,
    NOT_APPLICABLE,
    PASSED,
    Directional,
    Examples,
    Invariant,
    check,
    check_all,
)
from trimode.modelling.registry import build_model
from trimode.workflows.train import train

from .conftest import machine_config, write_pyproject


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project whose registry, preprocessing and expectations are the template's."""
    return project_at(write_pyproject(tmp_path_factory.mktemp("project")).parent)


def fitted(project, target: str, name: str, drop: str, rows: int = 2_000):
    """A registry model fitted on built-in rows to predict `target`, held-out rows, and the
    feature schema the model was built for."""
    frame = make_dataset("regression" if target == "lifetime_value" else "classification", rows)
    frame = frame.drop(columns=drop)
    train_rows, held_out = frame.iloc[:1_500], frame.iloc[1_500:]
    schema = infer_schema(train_rows, target)
    task = "regression" if target == "lifetime_value" else "classification"
    model = build_model(project, task, name, schema, seed=0, n_jobs=1)
    model.fit(train_rows.drop(columns=target), train_rows[target])
    return model, held_out.drop(columns=target), schema


@pytest.fixture(scope="module")
def churn(project):
    """A logistic regression of churn (monotone in every numeric feature), its rows and
    its feature schema."""
    return fitted(project, "churned", "logistic_regression", drop="device")


def test_a_directional_expectation_broken_names_the_rows_and_the_values(churn):
    model, rows, schema = churn
    wrong = Directional(
        "more calls, less churn", feature="support_calls", change=2, direction="down"
    )
    outcome = check(wrong, model, rows, CLASSIFICATION, schema)
    assert outcome.status == FAILED
    assert outcome.rows_checked == len(rows)
    # Every row breaks it (churn rises with calls); the evidence keeps the rows' own index.
    assert list(outcome.evidence.index) == list(rows.index)
    first = rows.index[0]
    before = model.predict_proba(rows.loc[[first]])[0, 1]
    assert outcome.evidence.loc[first, "probability of class 1 before"] == pytest.approx(before)
    message = outcome.message()
    assert "Directional 'more calls, less churn'" in message
    assert f"failed on {len(rows)} of {len(rows)} rows" in message
    assert f"rows {', '.join(map(str, rows.index[:10]))} ..." in message
    assert f"{before:.4g}" in message


def test_the_same_direction_the_model_learnt_passes(churn):
    model, rows, schema = churn
    right = Directional("more calls, more churn", feature="support_calls", change=2, direction="up")
    outcome = check(right, model, rows, CLASSIFICATION, schema)
    assert (outcome.status, outcome.rows_checked, len(outcome.evidence)) == (PASSED, len(rows), 0)


def test_an_allowed_share_lets_a_few_rows_break_it_and_no_more(churn):
    model, rows, schema = churn
    # Only the rows already past 0.5 move by more than 0.2: a share of them.
    settings = {"feature": "support_calls", "change": 3, "direction": "down", "tolerance": 0.2}
    strict = check(Directional("strict", **settings), model, rows, CLASSIFICATION, schema)
    broken = len(strict.evidence) / len(rows)
    assert strict.status == FAILED and 0 < broken < 1
    loose = Directional("loose", allowed_share=broken, **settings)
    assert check(loose, model, rows, CLASSIFICATION, schema).status == PASSED
    tight = Directional("tight", allowed_share=broken * 0.9, **settings)
    assert check(tight, model, rows, CLASSIFICATION, schema).status == FAILED


def test_an_invariance_broken_names_the_rows_and_the_spread(churn):
    model, rows, schema = churn
    outcome = check(
        Invariant("calls do not matter", feature="support_calls", values=[0, 8], tolerance=0.01),
        model,
        rows,
        CLASSIFICATION,
        schema,
    )
    assert outcome.status == FAILED
    spread = outcome.evidence["spread"]
    assert (spread > 0.01).all() and set(outcome.evidence.index) <= set(rows.index)
    columns = list(outcome.evidence.columns)
    assert columns[:2] == [
        "probability of class 1, support_calls=0",
        "probability of class 1, support_calls=8",
    ]
    assert "Invariant 'calls do not matter': failed on" in outcome.message()


def test_a_column_that_is_not_a_feature_is_refused_not_passed_for_free(project):
    model, rows, schema = fitted(project, "churned", "logistic_regression", drop="region")
    # Setting a column the model does not read would move nothing: it is refused.
    outcome = check(
        Invariant("region", feature="region", values=["north", "south"], tolerance=0.01),
        model,
        rows.assign(region="north"),
        CLASSIFICATION,
        schema,
    )
    assert outcome.status == FAILED
    assert "column 'region' is not a feature of the model" in outcome.found


def test_a_value_the_model_cannot_score_fails_yours_and_is_not_applicable_when_built_in(churn):
    model, rows, schema = churn
    wrong_type = {"feature": "tenure_months", "values": ["long", "short"], "tolerance": 0.1}
    yours = check(Invariant("tenure", **wrong_type), model, rows, CLASSIFICATION, schema)
    assert yours.status == FAILED
    assert "the model cannot score the rows it makes" in yours.found
    built_in = Invariant("tenure", built_in_data=True, **wrong_type)
    assert check(built_in, model, rows, CLASSIFICATION, schema).status == NOT_APPLICABLE


def test_examples_that_get_another_label_are_named_with_expected_and_got(churn):
    model, rows, schema = churn
    leaving = {"tenure_months": 1, "support_calls": 9, "days_since_last_login": 90}
    staying = {"tenure_months": 110, "support_calls": 0, "days_since_last_login": 0}
    outcome = check(
        Examples("both stay", rows=[staying, leaving], expected=[0, 0]),
        model,
        rows,
        CLASSIFICATION,
        schema,
    )
    assert (outcome.status, outcome.rows_checked) == (FAILED, 2)
    assert list(outcome.evidence.index) == ["example 2"]
    assert outcome.evidence.loc["example 2", ["expected", "got"]].tolist() == ["0", 1]
    assert "rows example 2:" in outcome.message()
    right = Examples("one stays, one leaves", rows=[staying, leaving], expected=[0, "1"])
    assert check(right, model, rows, CLASSIFICATION, schema).status == PASSED


def test_a_multiclass_expectation_watches_the_class_it_names(project):
    model, rows, schema = fitted(project, "plan", "logistic_regression", drop="churned")
    # The price tells the plan: dearer customers are more likely premium, less likely basic.
    up = Directional("dearer, premium", feature="monthly_charges", change=30, direction="up")
    premium = check(
        dataclasses.replace(up, of_class="premium"), model, rows, CLASSIFICATION, schema
    )
    assert premium.status == PASSED
    basic = Directional(
        "dearer, basic", feature="monthly_charges", change=30, direction="up", of_class="basic"
    )
    broken = check(basic, model, rows, CLASSIFICATION, schema)
    assert broken.status == FAILED
    assert "probability of class basic before" in broken.evidence.columns
    unnamed = check(up, model, rows, CLASSIFICATION, schema)
    assert unnamed.status == FAILED and "name the one whose probability" in unnamed.found
    missing = Directional("x", feature="monthly_charges", change=1, direction="up", of_class="gold")
    found = check(missing, model, rows, CLASSIFICATION, schema).found
    assert "class 'gold' is not among the model's" in found


def test_regression_expectations_watch_the_prediction_and_its_ranges(project):
    model, rows, schema = fitted(project, "lifetime_value", "ridge", drop="device")
    rows = rows.head(MAX_ROWS)
    down = Directional("calls lower value", feature="support_calls", change=3, direction="down")
    assert check(down, model, rows, REGRESSION, schema).status == PASSED
    up = Directional("calls raise value", feature="support_calls", change=3, direction="up")
    raised = check(up, model, rows, REGRESSION, schema)
    assert raised.status == FAILED and "prediction before" in raised.evidence.columns
    predicted = model.predict(rows.head(1))[0]
    out_of_range = Examples(
        "worth a fortune", rows=[rows.iloc[0].to_dict()], expected=[(predicted + 1, 1e12)]
    )
    outcome = check(out_of_range, model, rows, REGRESSION, schema)
    assert outcome.status == FAILED
    assert outcome.evidence.loc["example 1", "got"] == pytest.approx(predicted)
    labels = check(
        Examples("a label", rows=[{}], expected=["high"]), model, rows, REGRESSION, schema
    )
    assert labels.status == FAILED and "a (low, high) range per row" in labels.found


@pytest.fixture(scope="module")
def foreign_run(tmp_path_factory):
    """The pipeline in test mode on scikit-learn's breast cancer table, as a CSV file of
    the user's: none of the built-in data set's columns."""
    folder = tmp_path_factory.mktemp("breast-cancer")
    load_breast_cancer(as_frame=True).frame.to_csv(folder / "cancer.csv", index=False)
    data = {"source": str(folder / "cancer.csv"), "target": "target"}
    return train(machine_config(folder, base={"data": data}))


def test_on_other_data_the_shipped_expectations_are_not_applicable_and_say_why(
    foreign_run, project
):
    shipped = project.expectations("classification")
    assert shipped and all(expectation.built_in_data for expectation in shipped)
    x = foreign_run.split.x_test
    outcomes = check_all(shipped, foreign_run.model, x, CLASSIFICATION, foreign_run.schema)
    assert [outcome.status for outcome in outcomes] == [NOT_APPLICABLE] * len(shipped)
    for outcome in outcomes:
        assert outcome.summary.startswith("not applicable: column '"), outcome.summary
        assert "is not in your data" in outcome.summary
        assert "built-in data set" in outcome.message()
    assert "column 'support_calls' is not in your data" in outcomes[0].summary


def test_on_other_data_yours_naming_a_missing_column_fails(foreign_run):
    x, schema = foreign_run.split.x_test, foreign_run.schema
    typo = Directional("radius", feature="mean radios", change=1, direction="up")
    outcome = check(typo, foreign_run.model, x, CLASSIFICATION, schema)
    assert outcome.status == FAILED
    assert "column 'mean radios' is not in your data" in outcome.message()
    # Written for this data, the same kind of expectation is checked (and holds or not).
    real = Invariant("texture", feature="mean texture", values=[10, 11], tolerance=1.0)
    outcome = check(real, foreign_run.model, x, CLASSIFICATION, schema)
    assert (outcome.status, outcome.rows_checked) == (PASSED, len(x))


def test_the_report_section_shows_each_outcome_with_its_evidence_escaped(churn):
    from trimode.reporting.page import expectations_section

    model, rows, schema = churn
    written = [
        Directional("<b>calls</b> & churn", feature="support_calls", change=2, direction="down"),
        Directional("calls raise churn", feature="support_calls", change=2, direction="up"),
        Invariant("x", feature="not_a_column", values=[1, 2], tolerance=0.1, built_in_data=True),
    ]
    page = expectations_section(CLASSIFICATION, model, rows, schema, written)
    assert "<b>calls</b>" not in page and "&lt;b&gt;calls&lt;/b&gt; &amp; churn" in page
    assert f'<span class="bad">failed on {len(rows)} of {len(rows)} rows' in page
    assert f"the first 10 of {len(rows)} rows that broke it" in page
    assert f"<td>{rows.index[0]}</td>" in page  # the rows, by their index values
    assert f'<span class="good">passed on {len(rows)} rows</span>' in page
    assert "not applicable: column &#39;not_a_column&#39; is not in your data" in page
    assert "None written" in expectations_section(CLASSIFICATION, model, rows, schema, [])


@pytest.mark.slow
def test_the_report_has_the_section_of_your_expectations(machine_run, tmp_path):
    import html
    import shutil

    from trimode.workflows.report import build_report

    config = machine_config(tmp_path)
    shutil.copytree(machine_run.output_dir, config.output_dir)
    page = build_report(config).read_text(encoding="utf-8")
    assert "<h2>Your expectations</h2>" in page
    for expectation in config.project.expectations("classification"):
        assert html.escape(expectation.description) in page
