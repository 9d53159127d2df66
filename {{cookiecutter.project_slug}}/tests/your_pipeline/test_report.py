"""The human-mode tools work on your data: the report of the test-mode run."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.run.config import load_config

from ..conftest import CONFIG_DIR, outputs_in


@pytest.mark.slow
def test_the_report_of_your_test_mode_run_is_written(test_run, test_task):
    from {{ cookiecutter.package_name }}.reporting.report import REPORT_FILE, build_report

    config = load_config("test", CONFIG_DIR, outputs_in(test_run.output_dir))
    page = build_report(config).read_text(encoding="utf-8")
    assert (test_run.output_dir / REPORT_FILE).is_file()
    assert page.lstrip().lower().startswith("<!doctype html")
    for section in ("Metrics on the held-out rows", "Error analysis", "Worst predictions"):
        assert section in page
    if test_task.has_classes:
        assert "Per class (held-out rows)" in page
