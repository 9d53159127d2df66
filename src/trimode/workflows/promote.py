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
from trimode.core.errors import ConfigError, ProjectError
from trimode.core.project import Project
from trimode.core.writes import PROMOTE, Guard
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
) -> Promotion:
    """Write the model source_mode's last run kept, and its hyper-parameters, into
    configs/<target_mode>.toml; return what was written."""
    config_dir = config_dir_of() if config_dir is None else Path(config_dir)
    source = load_config(source_mode, config_dir)
    manifest = read_manifest(source.output_dir)
    if manifest.get("mode") != source_mode:
        raise ProjectError(
            f"{source.output_dir}/manifest.json was written in {manifest.get('mode')} mode, "
            f"not {source_mode}"
        )
    name, params = manifest["model"], promoted_params(source.project, manifest)
    path = config_dir / f"{target_mode}.toml"
    original = path.read_text(encoding="utf-8") if path.exists() else ""
    document = tomlkit.parse(original)
    train = document.setdefault("train", tomlkit.table())
    primary = manifest["primary_metric"]
    value = manifest["metrics"].get(primary)
    train["models"] = [name]
    train["models"].comment(
        f"promoted from {source_mode} mode ({manifest['finished_at']}: {primary} "
        f"{value:.4g} on held-out rows)"
        if isinstance(value, float)
        else f"promoted from {source_mode} mode ({manifest['finished_at']})"
    )
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
