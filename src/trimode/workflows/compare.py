"""`compare`: the mode's models cross-validated side by side on identical folds of the
training rows, the leaderboard written into the mode's output root (and tracked)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from trimode.artifacts import tracking
from trimode.artifacts.publish import check_output_root, writing_into
from trimode.config.loading import load_config
from trimode.config.model import Config
from trimode.core.errors import ProjectError
from trimode.core.io import write_atomically, write_json
from trimode.core.layout import LEADERBOARD_CSV, LEADERBOARD_JSON
from trimode.data.loading import load_dataset
from trimode.data.sampling import frame_hash, read_meta, sample_settings
from trimode.modelling.column_advice import column_notes
from trimode.modelling.compare import Leaderboard, compare_models, ranking_fingerprint
from trimode.modelling.fold_fits import stopped_line
from trimode.modelling.halving import rounds_line
from trimode.modelling.learning_curve import MoreRows, learning_curves
from trimode.modelling.registry import class_weight_warning, feature_schema
from trimode.modelling.split_advice import split_warnings
from trimode.modelling.splitting import split_rows
from trimode.modelling.timing import StepTimer
from trimode.modelling.weights import weight_warning

__all__ = ["compare", "compare_models", "save_leaderboard"]


def save_leaderboard(
    leaderboard: Leaderboard, output_dir: Path, key: str = "outputs.root"
) -> list[Path]:
    """Write the leaderboard as CSV and JSON into output_dir, an output root of the
    project's (see publish.writing_into; key names its setting); return their paths."""
    csv_path, json_path = output_dir / LEADERBOARD_CSV, output_dir / LEADERBOARD_JSON
    with writing_into(output_dir, key):
        write_atomically(csv_path, lambda path: leaderboard.rows.to_csv(path, index=False))
        write_json(json_path, leaderboard.to_json())
    return [csv_path, json_path]


def partial_note(leaderboard: Leaderboard, budget_key: str) -> str:
    """What a partial leaderboard lacks, and why, in one line."""
    return stopped_line(
        leaderboard.stopped,
        leaderboard.budget_s,
        leaderboard.elapsed_s,
        leaderboard.unfinished,
        budget_key,
    )


def compare(config: Config, models: list[str] | None = None) -> tuple[Leaderboard, list[Path]]:
    """Load the mode's rows, compare the models on their training rows (the split `train`
    makes), and save the leaderboard; within compute.time_budget_s, as `train`."""
    key = config.where("outputs.root")
    check_output_root(config.output_dir, key)  # a folder it may not write into: before the work
    tracking.check_store(config)
    timer = StepTimer(config.compute.time_budget_s, config.where("compute.time_budget_s"))
    with timer.watching():
        with timer.step("load"):
            loaded = load_dataset(config)
        split = split_rows(loaded.frame, config)
        with timer.step("compare"):
            leaderboard = compare_models(config, split.x_train, split.y_train, models)
        if config.compare.learning_curve and not leaderboard.partial:
            with timer.step("learning curve"):
                curve = learning_curves(
                    config,
                    leaderboard,
                    split.x_train,
                    split.y_train,
                    production_rows(config, len(loaded.frame)),
                    budget_s=_budget_left(leaderboard),
                )
            leaderboard = dataclasses.replace(leaderboard, learning_curve=curve)
    schema = feature_schema(config, loaded.frame)
    notes = [
        *loaded.notes,
        *loaded.warnings,
        *split_warnings(loaded.frame, schema, config),
        *column_notes(loaded.frame, schema, config),
    ]
    names = models or config.compare.models
    notes += class_weight_warning(config, names) + weight_warning(config, names)
    notes += [rounds_line(model, rounds) for model, rounds in leaderboard.halving.items()]
    if leaderboard.partial:
        notes.append(partial_note(leaderboard, config.where("compare.time_budget_s")))
        if config.compare.learning_curve:
            notes.append("learning curve: not drawn, the leaderboard is partial")
    data_hash = frame_hash(loaded.frame)
    made_by = {
        "command": "compare",
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_content_hash": data_hash,
        "ranking": ranking_fingerprint(config, data_hash),
    }
    leaderboard = dataclasses.replace(leaderboard, notes=notes, made_by=made_by)
    paths = save_leaderboard(leaderboard, config.output_dir, key)
    tracking.after("compare", config, leaderboard=leaderboard, paths=paths)
    return leaderboard, paths


# --- the learning curve (compare.learning_curve) ---

# The settings that name a source: two modes with the same read the same rows.
SOURCE_KEYS = ("source", "table", "query", "synthetic_rows")


def _budget_left(leaderboard: Leaderboard) -> float:
    """The seconds of compare.time_budget_s the curve may take (0: no limit); a spent
    budget leaves it a moment, so that it stops at once and says why."""
    if not leaderboard.budget_s:
        return 0
    return max(leaderboard.budget_s - leaderboard.elapsed_s, 0.001)


def production_rows(config: Config, here: int) -> MoreRows:
    """What the project knows of the rows production trains on, beside the `here` rows this
    mode loaded: its data.max_rows, and when production reads this mode's source, the
    source's labelled rows (this mode's own when it reads every row, else the count its
    sample's metadata recorded when it streamed the source). Unknown (None) otherwise:
    a figure is never guessed."""
    try:
        production = load_config("production", config.config_dir)
    except ProjectError:  # its file is broken, or a secret it names is not set here
        return MoreRows(here)
    settings = {key: sample_settings(config)[key] for key in SOURCE_KEYS}
    source_rows = None
    if settings == {key: sample_settings(production)[key] for key in SOURCE_KEYS}:
        if not config.data.max_rows:
            source_rows = here
        else:
            meta = read_meta(config.sample_folder) or {}
            if all(meta.get(key) == value for key, value in settings.items()):
                seen = meta.get("rows_seen")
                source_rows = seen - (meta.get("rows_without_target") or 0) if seen else None
    cap = production.data.max_rows
    if cap and source_rows is None:
        return MoreRows(here, cap, at_most=True)
    return MoreRows(here, min(cap, source_rows) if cap and source_rows else source_rows)
