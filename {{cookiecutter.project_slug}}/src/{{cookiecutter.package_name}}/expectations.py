"""What you expect of the model's behaviour, checked on every commit.

When the report shows you something the model must keep doing (more support calls
mean more churn; the device a customer uses should not matter), write it here: test
mode checks each expectation on the held-out rows of its run, one test each, and a
failure names the expectation, the rows that broke it and their values. The report
shows each one passing or failing with that evidence.

Three kinds, each with a description in the words of what it
expects, which becomes the test's name:

- Directional(description, feature=, change=, direction="up" or "down", tolerance=0):
  adding `change` to a numeric feature never moves the watched value the other way
  (by more than `tolerance`);
- Invariant(description, feature=, values=[...], tolerance=): setting the feature to
  each value moves the watched value by at most `tolerance`;
- Examples(description, rows=[{column: value, ...}, ...], expected=[...]): these
  hand-written rows get these labels (classification) or predictions within these
  (low, high) ranges (regression); the columns a row leaves out are missing values.

The watched value is the probability of a class for classification (`of_class=`; with
two classes, by default the second, e.g. churned = 1) and the prediction for regression.

The expectations below come with the project and hold for the built-in data set
(trimode's synthetic customers); `built_in_data=True` says so. On your own table, one that names a
column or class your data lacks is reported as not applicable, with the reason (in the
report, and as a skip in pytest's summary) instead of failing: replace them with
yours. Yours leave `built_in_data` out, so that a column your data lacks fails loudly.
"""

from trimode import Directional, Examples, Expectation, Invariant

# A loyal customer and one about to leave, as the built-in data set describes them.
LOYAL = {"tenure_months": 100, "support_calls": 0, "days_since_last_login": 1, "plan": "premium"}
LEAVING = {
    "tenure_months": 1,
    "support_calls": 6,
    "days_since_last_login": 60,
    "payment_method": "invoice",
    "plan": "basic",
}

EXPECTATIONS: dict[str, list[Expectation]] = {
    "classification": [
        Directional(
            "3 more support calls lower the churn probability (by over 0.01) "
            "of at most 10% of customers",
            feature="support_calls",
            change=+3,
            direction="up",
            tolerance=0.01,
            # Gradient boosting on test mode's 2,400 training rows is not smooth: 2% to 6%
            # of rows move the wrong way, depending on which rows are sampled.
            allowed_share=0.10,
            built_in_data=True,
        ),
        Invariant(
            "the device moves the churn probability of 95% of customers by less than 0.1",
            feature="device",
            values=["mobile", "desktop", "tablet"],
            tolerance=0.1,
            allowed_share=0.05,
            built_in_data=True,
        ),
        Examples(
            "a loyal customer stays and a silent, complaining one leaves",
            rows=[LOYAL, LEAVING],
            expected=[0, 1],
            built_in_data=True,
        ),
    ],
    "regression": [
        Directional(
            "3 more support calls raise the lifetime value (by over 10) of at most 5% of customers",
            feature="support_calls",
            change=+3,
            direction="down",
            tolerance=10.0,
            allowed_share=0.05,
            built_in_data=True,
        ),
        Invariant(
            "the device moves the lifetime value of 95% of customers by less than 1,000",
            feature="device",
            values=["mobile", "desktop", "tablet"],
            tolerance=1_000.0,
            allowed_share=0.05,
            built_in_data=True,
        ),
        Examples(
            "a loyal customer is worth over 10,000 and one about to leave under 5,000",
            rows=[LOYAL, LEAVING],
            expected=[(10_000, float("inf")), (float("-inf"), 5_000)],
            built_in_data=True,
        ),
    ],
}
