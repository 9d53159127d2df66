"""Promote the model a mode chose (human mode, usually) into another mode's config.

`train --mode human` keeps the best model of its leaderboard, with the
hyper-parameters it was given (train.params) or found (search). `promote` writes
that choice into configs/production.toml: `train.models` becomes that one model
and `[train.params.<model>]` the hyper-parameters that differ from the registry's
defaults. The file keeps its comments and layout (tomlkit edits it in place), and
is checked by loading it before it replaces the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from trimode.artifacts.model_file import read_manifest
from trimode.config.model import Config
from trimode.core.errors import ConfigError, ProjectError
from trimode.core.io import read_json
from trimode.core.layout import LEADERBOARD_JSON
from trimode.core.project import Project
from trimode.core.writes import PROMOTE, Guard
from trimode.modelling.compare import BASELINE
from trimode.modelling.registry import chosen_params
from trimode.workflows.session import config_dir_of, load_config


@dataclass(frozen=True)
class Promotion:
    """What was promoted from where into which file."""

    model: str
    params: dict[str, Any]
    path: Path
    source_mode: str


def promoted_params(project: Project, manifest: dict[str, Any]) -> dict[str, Any]:
    """The hyper-parameters of a run's model that differ from its registry defaults, as a
    TOML table can hold them."""
    task, name = manifest["task"], manifest["model"]
    if name not in project.registry().get(task, {}):
        raise ProjectError(f"model {name!r} of the {manifest['mode']} run is not in the registry")
    chosen = chosen_params(project, task, name, manifest["params"])
    unwritable = sorted(key for key, value in chosen.items() if value is None)
    if unwritable:
        raise ProjectError(
            f"{name}'s {', '.join(unwritable)} = None differs from the registry default and "
            "cannot be written in TOML: change the registry default in models.py instead"
        )
    return chosen


def promote(
    config_dir: Path | str | None = None,
    source_mode: str = "human",
    target_mode: str = "production",
    variant: str | None = None,
) -> Promotion:
    """Write the model source_mode's last run kept, and its hyper-parameters, into
    configs/<target_mode>.toml; or, with `variant`, that row of source_mode's leaderboard
    (a variant `compare` ranked, "mlp#2", or a model as compared). Return what was written."""
    config_dir = config_dir_of() if config_dir is None else Path(config_dir)
    source = load_config(source_mode, config_dir)
    if variant is None:
        name, params, origin = _last_run(source, source_mode)
    else:
        name, params, origin = _leaderboard_row(source, source_mode, variant)
    path = config_dir / f"{target_mode}.toml"
    original = path.read_text(encoding="utf-8") if path.exists() else ""
    document = tomlkit.parse(original)
    train = document.setdefault("train", tomlkit.table())
    train["models"] = [name]
    train["models"].comment(origin)
    if "params" not in train:
        train["params"] = tomlkit.table(is_super_table=True)
    table = tomlkit.table()
    for key, item in params.items():
        table[key] = item
    train["params"][name] = table
    text = tomlkit.dumps(document)
    guard = Guard(source.root, config_dir)  # the config folder this command edits
    guard.write_permitted(PROMOTE, {path: lambda temporary: temporary.write_text(text, "utf-8")})
    try:
        load_config(target_mode, config_dir)
    except ConfigError:
        guard.write_permitted(
            PROMOTE, {path: lambda temporary: temporary.write_text(original, "utf-8")}
        )
        raise
    return Promotion(name, params, path, source_mode)


def _last_run(source: Config, source_mode: str) -> tuple[str, dict[str, Any], str]:
    """The model the source mode's last run kept, its hyper-parameters, and where from."""
    manifest = read_manifest(source.output_dir)
    if manifest.get("mode") != source_mode:
        raise ProjectError(
            f"{source.output_dir}/manifest.json was written in {manifest.get('mode')} mode, "
            f"not {source_mode}"
        )
    primary = manifest["primary_metric"]
    value = manifest["metrics"].get(primary)
    origin = f"promoted from {source_mode} mode ({manifest['finished_at']}"
    origin += f": {primary} {value:.4g} on held-out rows)" if isinstance(value, float) else ")"
    return manifest["model"], promoted_params(source.project, manifest), origin


def _leaderboard_row(
    source: Config, source_mode: str, row_name: str
) -> tuple[str, dict[str, Any], str]:
    """A row of the source mode's leaderboard: its registry model, its hyper-parameters,
    and where from."""
    path = source.output_dir / LEADERBOARD_JSON
    if not path.is_file():
        raise ProjectError(f"{path} does not exist: run `compare --mode {source_mode}` first")
    leaderboard = read_json(path, advice=": run compare again")
    rows = {row.get("model"): row for row in leaderboard.get("rows") or []}
    recorded = leaderboard.get("hyper_parameters") or {}
    if row_name not in rows or row_name == BASELINE or row_name not in recorded:
        names = ", ".join(name for name in rows if name in recorded and name != BASELINE)
        raise ProjectError(
            f"{path} ranks no variant {row_name!r} (it ranks: {names or 'none this version reads'})"
        )
    model = (leaderboard.get("variants") or {}).get(row_name, {}).get("model", row_name)
    manifest = {
        "task": leaderboard.get("task"),
        "model": model,
        "params": recorded[row_name],
        "mode": source_mode,
    }
    primary = leaderboard.get("primary_metric")
    row = rows[row_name]
    mean, std = row.get(f"{primary}_mean"), row.get(f"{primary}_std")
    origin = f"promoted from {source_mode} mode's leaderboard: {row_name}"
    if row.get("params"):
        origin += f" ({row['params']})"
    if isinstance(mean, float) and isinstance(std, float):
        origin += f", {primary} {mean:.4g} ± {std:.2g} over {leaderboard.get('cv_folds')} folds"
    if isinstance(row.get("rows"), int | float):
        origin += f" on {row['rows']:,.0f} rows (halving)"
    return model, promoted_params(source.project, manifest), origin
