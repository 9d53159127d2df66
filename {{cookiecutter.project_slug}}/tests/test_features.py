"""Your own tests: an example. The plugin's fixtures (test_config, test_task, test_run)
work here as in test_pipeline.py."""

from {{ cookiecutter.package_name }}.features import add_features


def test_add_features_keeps_every_row(test_run):
    rows = test_run.split.x_test
    assert len(add_features(rows.copy())) == len(rows)
