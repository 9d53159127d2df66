"""Load the configuration of one mode: configs/base.toml merged with configs/<mode>.toml.

A mode is configuration only. One typed model (model.py) says what every key holds: its
type, its default, its range or its allowed values. Every file is checked against it as
it is read (unknown keys, wrong types, values out of range), then the merged result as a
whole (keys no file sets, metric names the task knows, thresholds, column roles, the
output root, and the checks a caller adds: the registry's model names). Each error is
one line naming the file, the key and what was expected (wording.py); a ConfigError
holds every error of a check, one line each, in file order. A key neither file sets
takes its field's default; `task` and `data.target` have none, and `outputs.root` is
outputs/<mode>.

Relative paths in the configs are resolved against the project root, the folder
holding the config folder, so a run means the same files from any current folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trimode.config.checks import (
    PROJECT_FOLDERS,
    check_columns,
    check_compute,
    check_metrics,
    check_outputs_root,
    problem,
)
from trimode.config.environment import ENV_FILE, local_variables, resolved
from trimode.config.model import SECTIONS, Config, Settings
from trimode.config.wording import Files, Problem, config_error, problems_of, refuse
from trimode.core import tomlfile
from trimode.core.errors import ConfigError
from trimode.core.layout import MODES
from trimode.core.locations import resolve_source, under_root
from trimode.core.project import find_project
from trimode.core.secrets import Secret, redacted
from trimode.core.tasks import task_named

OVERRIDES = "--set"
# A check of the merged config that a higher layer adds (the model registry's: see
# modelling/registry.py), run with the config's own checks so that one load reports all.
Check = Callable[[Config], Iterable[Problem]]


def read_toml(path: Path) -> dict[str, Any]:
    """Read one config file: anything wrong with it is a ConfigError naming the file."""
    return tomlfile.read_toml(
        path, missing="config file not found (run from the project root or pass --config-dir)"
    )


def _check_file(path: Path | str, content: dict[str, Any]) -> list[Problem]:
    """Unknown keys and values of the wrong type or out of range in one config file (a
    key it leaves out is no error: another file may set it)."""
    try:
        Settings.model_validate(content)
    except ValidationError as error:
        errors = [item for item in error.errors(include_url=False) if item["type"] != "missing"]
        return problems_of(path, content, errors)
    return []


def _merge(
    files: Files,
) -> tuple[dict[str, Any], dict[str, Path | str]]:
    """Merge the files in order; return the result and which file set each key last."""
    merged: dict[str, Any] = {}
    origin: dict[str, Path | str] = {}
    for path, content in files:
        for key, value in content.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
                origin.update({f"{key}.{name}": path for name in value})
            else:
                merged[key] = value
                origin[key] = path
    return merged, origin


def parse_overrides(settings: dict[str, Any]) -> dict[str, Any]:
    """Turn {"data.max_rows": 1000} into the nested form a config file has. A key deeper
    than a section's, "compare.variants.mlp.alpha", makes the tables on its way: such
    overrides together replace that section key (compare.variants) of the files."""
    nested: dict[str, Any] = {}
    for key, value in settings.items():
        *path, name = key.split(".")
        table = nested
        for place, part in enumerate(path):
            table = table.setdefault(part, {})
            if not isinstance(table, dict):
                above = ".".join(path[: place + 1])
                raise ConfigError(f"--set {key}: another --set gives {above} a value, not a table")
        table[name] = value
    return nested


def load_config(
    mode: str,
    config_dir: Path | str = "configs",
    overrides: dict[str, Any] | None = None,
    *,
    options: dict[str, dict[str, Any]] | None = None,
    checks: Sequence[Check] = (),
) -> Config:
    """Load, merge and validate configs/base.toml and configs/<mode>.toml, then apply
    overrides ({"data.max_rows": 1000}: dotted keys, checked like a file's, named --set)
    and the settings of other command-line options ({"--model": {"train.models": [...]}},
    each checked like a file named by its option). `checks` adds checks of the merged
    config (the registry's model names), reported with the config's own problems."""
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r} (expected one of: {', '.join(MODES)})")
    config_dir = Path(config_dir)
    if config_dir.exists() and not config_dir.is_dir():
        raise ConfigError(
            f"--config-dir {config_dir}: is a file, expected the folder holding base.toml "
            f"and {mode}.toml"
        )
    if not config_dir.is_dir():
        raise ConfigError(
            f"{config_dir}: config folder not found (run from the project root or pass "
            "--config-dir)"
        )
    files: Files = [
        (path, read_toml(path)) for path in (config_dir / "base.toml", config_dir / f"{mode}.toml")
    ]
    if overrides:
        files.append((OVERRIDES, parse_overrides(overrides)))
    files += [(option, parse_overrides(settings)) for option, settings in (options or {}).items()]
    written, files = files, _from_environment(files, project_root(config_dir))
    refuse([problem for path, content in files for problem in _check_file(path, content)], files)
    merged, origin = _merge(files)
    return _build(mode, merged, origin, config_dir, files, _merge(written)[0], checks)


def _from_environment(files: Files, root: Path) -> Files:
    """The files with each ${env:NAME} replaced (see environment.py); a variable set
    nowhere is one problem naming the file, the key and the variable."""
    variables = local_variables(root)
    found: Files = []
    problems: list[Problem] = []
    for path, content in files:
        unset: list[tuple[str, str]] = []
        found.append((path, resolved(content, variables, unset)))
        problems += [
            Problem(
                path,
                key,
                f"{path}: key '{key}' takes the environment variable {name}, which is not set "
                f"(set it, or write {name}=... in {root / ENV_FILE}, which git ignores)",
            )
            for key, name in unset
        ]
    refuse(problems, files)
    return found


def project_root(config_dir: Path) -> Path:
    """The root of the project a config folder belongs to: the project whose [tool.trimode]
    names that folder, else the folder's parent (relative paths in the configs start there)."""
    folder = config_dir.resolve()
    project = find_project(folder)
    if project is not None and project.config_dir.resolve() == folder:
        return project.root
    return folder.parent


def default_primary_metric(task: str) -> str:
    """The primary metric when evaluation.primary_metric is not set."""
    return task_named(task).primary_metric


def _build(
    mode: str,
    merged: dict[str, Any],
    origin: dict[str, Path | str],
    config_dir: Path,
    files: Files,
    written: dict[str, Any],
    checks: Sequence[Check] = (),
) -> Config:
    """Turn the merged settings into a Config, checking what needs the whole picture.
    `written`: the settings as the files write them (${env:NAME} kept), for the record."""
    root = project_root(config_dir)
    given: dict[str, Any] = {**merged, **{name: dict(merged.get(name, {})) for name in SECTIONS}}
    given["outputs"].setdefault("root", f"outputs/{mode}")
    # Redacted: the raw settings go into manifests (each file was validated already, so
    # the credentials its secret keys hold are known and masked wherever they appear).
    # A value taken from the environment is recorded as its reference, never its value.
    raw = redacted(written)
    extra = {"mode": mode, "raw": raw, "origin": origin, "root": root, "config_dir": config_dir}
    try:
        config = Config.model_validate({**given, **extra})
    except ValidationError as error:  # keys no file sets
        errors = error.errors(include_url=False)
        raise config_error(problems_of(config_dir / "base.toml", given, errors), files) from None
    problems: list[Problem] = []
    evaluation = config.evaluation
    primary = evaluation.primary_metric or default_primary_metric(config.task)
    thresholds = dict(evaluation.thresholds)
    if "primary" in thresholds:
        bound = thresholds.pop("primary")
        if primary in thresholds:
            problems.append(
                problem(
                    config,
                    "evaluation.thresholds",
                    f"sets both 'primary' and {primary!r}, which is the primary metric: keep one",
                )
            )
        thresholds[primary] = bound
    evaluation = evaluation.model_copy(update={"primary_metric": primary, "thresholds": thresholds})
    # Paths resolved under the project root before the checks (the write guard compares
    # the output root with the source where each leads).
    data = config.data.model_copy(
        update={
            "source": Secret(resolve_source(config.data.source.reveal(), root)),
            "sample_dir": str(under_root(config.data.sample_dir, root)),
        }
    )
    config = config.model_copy(update={"evaluation": evaluation, "data": data})
    protected = [root / name for name in PROJECT_FOLDERS]
    protected += [config_dir.resolve(), Path(data.sample_dir).resolve()]
    problems += check_outputs_root(config, protected)
    problems += check_metrics(config)
    problems += check_compute(config)
    for check in checks:
        problems += check(config)
    problems += check_columns(config)
    refuse(problems, files)
    output_root = str(under_root(config.outputs.root, root).resolve())
    outputs = config.outputs.model_copy(update={"root": output_root})
    return config.model_copy(update={"data": data, "outputs": outputs})
