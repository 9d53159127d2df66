"""`report`: the HTML page of a mode's published model, written into its output root
(reporting/page.py makes the page), and the published model itself for notebooks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from trimode.artifacts import tracking
from trimode.artifacts.model_file import load_model, read_manifest
from trimode.artifacts.publish import check_output_root, last_complete, writing_into
from trimode.config.model import Config
from trimode.core import steps
from trimode.core.errors import DataError, ProjectError
from trimode.core.io import write_atomically
from trimode.core.layout import LEADERBOARD_JSON, MANIFEST_FILE, MODEL_FILE, REPORT_FILE
from trimode.core.secrets import redact
from trimode.core.specs import FeatureSchema
from trimode.data.loading import load_dataset
from trimode.data.sampling import frame_hash
from trimode.modelling.compute import limit_threads
from trimode.modelling.splitting import split_rows
from trimode.reporting.page import TrackedRun, artifact_hash, render_page


def build_report(config: Config, tracked_runs: Sequence[TrackedRun] | None = None) -> Path:
    """Write the mode's report.html from its published model, its record and its rows.

    tracked_runs: the rows of the panel "Runs tracked so far" (see render_page); not
    given, the runs experiment tracking recorded so far, when it is on for the mode.
    """
    if tracked_runs is None:
        tracked_runs = tracking.tracked_runs(config)
    with limit_threads(config.compute.n_jobs):
        return _build_report(config, list(tracked_runs or []))


def _build_report(config: Config, tracked_runs: list[TrackedRun]) -> Path:
    output_dir, key = config.output_dir, config.where("outputs.root")
    check_output_root(output_dir, key)  # a folder it may not write into: before the work
    with steps.step("load model", str(output_dir)):
        model, record = published_model(config)
    described = artifact_hash(record)
    with steps.step("load", f"source {redact(config.data.source)!r}"):
        split = split_rows(rows_of_the_run(config, record), config)
    schema = FeatureSchema.from_record(record.get("features") or {})
    with steps.step("expectations", "the project's expectations module"):
        expectations = config.project.expectations(config.task)
    with steps.step("inspect", f"model {record.get('model')!r}"):
        page = render_page(
            config,
            record,
            model,
            split,
            schema,
            expectations,
            output_dir / LEADERBOARD_JSON,
            tracked_runs,
        )
    path = output_dir / REPORT_FILE
    with steps.step("publish", str(path)), writing_into(output_dir, key):
        # A train that published meanwhile replaced the model: this page describes the
        # one before, and must not land beside the new one.
        if artifact_hash(read_manifest(output_dir)) != described:
            raise ProjectError(
                f"{output_dir}: a new model was published while the report was written; "
                f"run `report --mode {config.mode}` again"
            )
        write_atomically(path, lambda temporary: temporary.write_text(page, encoding="utf-8"))
    tracking.after("report", config, manifest=record, path=path)
    return path


def rows_of_the_run(config: Config, record: dict[str, Any]) -> pd.DataFrame:
    """The rows the published model's run used: the mode's sample as it is (never fetched
    again), or the source's rows in production, checked by the content hash the manifest
    recorded; an error saying what to run when they changed since."""
    frame = load_dataset(config, fetch=False).frame
    trained_on = (record.get("data") or {}).get("content_hash")
    if frame_hash(frame) != trained_on:
        where = config.sample_folder if config.data.max_rows else "the source"
        raise DataError(
            f"the rows in {where} are not those {config.mode} mode's model was trained on "
            f"(content hash {str(trained_on)[:12]}... in {config.output_dir / MANIFEST_FILE}): "
            f"the data changed since; run `train --mode {config.mode}`, then `report --mode "
            f"{config.mode}`"
        )
    return frame


def published_model(config: Config) -> tuple[Pipeline, dict[str, Any]]:
    """The mode's published model, loaded once checked against its record (manifest.json),
    and that record; an error saying to train when there is none."""
    output_dir = last_complete(config.output_dir)  # a run killed midway: the one before
    if not (output_dir / MODEL_FILE).exists():
        raise ProjectError(
            f"no trained model at {output_dir / MODEL_FILE}: run `train --mode {config.mode}` first"
        )
    record = read_manifest(output_dir)
    return load_model(output_dir / MODEL_FILE, record, config.project), record
