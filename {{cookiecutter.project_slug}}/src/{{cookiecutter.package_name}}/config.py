"""Load the configuration of one mode: configs/base.toml merged with configs/<mode>.toml.

A mode is configuration only. Every file is checked as it is read (unknown keys,
wrong types) and the merged result is checked as a whole (known task, model and
metric names); each error names the file, the key and what was expected.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

MODES = ("test", "human", "production")
# A string that may be empty ("" leaves an optional setting unset: TOML has no null).
Text = str
# Hyper-parameters per registry model: {"model name": {"parameter": value}}.
Params = dict
# A number per metric name: {"roc_auc": 0.7}.
Thresholds = dict
TASKS = ("classification", "regression")
ENGINES = ("local", "dask")


@dataclass(frozen=True)
class DataConfig:
    """Where the rows come from and how many of them a run uses."""

    source: str
    table: Text
    query: Text
    target: str
    synthetic_rows: int
    max_rows: int
    stratify: bool
    batch_rows: int
    sample_dir: str
    test_fraction: float


@dataclass(frozen=True)
class TrainConfig:
    """Which registry models to train, and the seed that makes runs repeatable."""

    models: list[str]
    seed: int
    # Hyper-parameters that replace a registry model's defaults, per model name.
    params: Params
    # After evaluation on the held-out rows, refit the kept model on every labelled row.
    refit_on_all_rows: bool


@dataclass(frozen=True)
class SearchConfig:
    """The optional hyper-parameter search over each model's registry search space."""

    enabled: bool
    # Candidates drawn at random from the space; 0 tries the whole grid.
    iterations: int
    cv_folds: int


@dataclass(frozen=True)
class EvaluationConfig:
    """How a model is judged against the dummy baseline, and whether it may be published."""

    primary_metric: str
    min_lift_over_baseline: float
    leakage_threshold: float
    # Refuse to publish a model that fails the baseline or a threshold.
    gate: bool
    # Per metric, the least acceptable value (the most, for metrics where lower is better).
    thresholds: Thresholds


@dataclass(frozen=True)
class CompareConfig:
    """Which registry models `compare` evaluates, on how many identical CV folds."""

    models: list[str]
    cv_folds: int


@dataclass(frozen=True)
class InspectionConfig:
    """How much of the error analysis the report and notebooks show."""

    min_slice_rows: int
    top_n: int


@dataclass(frozen=True)
class ComputeConfig:
    """How many cores a run may use (-1: all), and how long it may take (0: no limit)."""

    n_jobs: int
    time_budget_s: float
    # Where parallel work runs: "local" (this machine's cores) or "dask" (a Dask cluster).
    engine: str


@dataclass(frozen=True)
class DaskConfig:
    """The Dask cluster used when compute.engine = "dask"."""

    # An existing scheduler, e.g. "tcp://10.0.0.5:8786"; "" starts a local cluster for the run.
    scheduler_address: Text
    # Size of the local cluster started when there is no scheduler address (0: one per core).
    n_workers: int
    threads_per_worker: int


@dataclass(frozen=True)
class OutputsConfig:
    """Where a mode writes its models and metrics."""

    root: str


@dataclass(frozen=True)
class Config:
    """The validated configuration of one mode."""

    mode: str
    task: str
    data: DataConfig
    train: TrainConfig
    search: SearchConfig
    evaluation: EvaluationConfig
    compare: CompareConfig
    inspection: InspectionConfig
    compute: ComputeConfig
    dask: DaskConfig
    outputs: OutputsConfig
    # The merged settings as plain data, for manifests and reports.
    raw: dict[str, Any]
    # Which file set each key ("data.max_rows" -> configs/test.toml), for error messages.
    origin: dict[str, Path]

    def where(self, key: str) -> str:
        """Name the key with the file that set it, e.g. "data.max_rows in configs/test.toml"."""
        return f"{key} in {self.origin[key]}" if key in self.origin else key


SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "train": TrainConfig,
    "search": SearchConfig,
    "evaluation": EvaluationConfig,
    "compare": CompareConfig,
    "inspection": InspectionConfig,
    "compute": ComputeConfig,
    "dask": DaskConfig,
    "outputs": OutputsConfig,
}
# What a field of each annotated type must hold: the check and the words used when
# it fails. The annotations are strings (postponed evaluation), hence the keys.
_EXPECTED: dict[str, tuple[Any, str]] = {
    "str": (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string"),
    "Text": (lambda v: isinstance(v, str), "a string"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "float": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "list[str]": (
        lambda v: isinstance(v, list) and v and all(isinstance(i, str) for i in v),
        "a non-empty list of strings",
    ),
    "Params": (
        lambda v: isinstance(v, dict) and all(isinstance(i, dict) for i in v.values()),
        "a table of model names to tables of hyper-parameters",
    ),
    "Thresholds": (
        lambda v: (
            isinstance(v, dict)
            and all(isinstance(i, int | float) and not isinstance(i, bool) for i in v.values())
        ),
        "a table of metric names to numbers",
    ),
}
TOP_LEVEL_KEYS = {"task": "str"}
# Keys a template version renamed: old key -> (new key, template version). An old key
# gets an error saying what to do instead of a bare "unknown key".
RENAMED_KEYS = {"data.cache_dir": ("data.sample_dir", "1.0.0")}


def _field_types(section: type) -> dict[str, str]:
    """Map each field of a section dataclass to its annotation."""
    return {item.name: str(item.type) for item in fields(section)}


def read_toml(path: Path) -> dict[str, Any]:
    """Read one TOML file, turning a syntax error into a ConfigError naming the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found (run from the project root or pass --config-dir)"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def _check_file(path: Path, content: dict[str, Any]) -> None:
    """Refuse unknown keys and values of the wrong type in one config file."""
    for key, value in content.items():
        if key in TOP_LEVEL_KEYS:
            _check_value(path, key, value, TOP_LEVEL_KEYS[key])
        elif key in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: key '{key}' must be a [{key}] table")
            types = _field_types(SECTIONS[key])
            for name, item in value.items():
                if f"{key}.{name}" in RENAMED_KEYS:
                    renamed, version = RENAMED_KEYS[f"{key}.{name}"]
                    raise ConfigError(
                        f"{path}: key '{key}.{name}' was renamed '{renamed}' in template "
                        f"version {version}: rename it (`copier update` does it for you)"
                    )
                if name not in types:
                    raise ConfigError(
                        f"{path}: unknown key '{key}.{name}' "
                        f"(expected one of: {', '.join(sorted(types))})"
                    )
                _check_value(path, f"{key}.{name}", item, types[name])
        else:
            known = sorted([*TOP_LEVEL_KEYS, *SECTIONS])
            raise ConfigError(f"{path}: unknown key '{key}' (expected one of: {', '.join(known)})")


def _check_value(path: Path, key: str, value: Any, expected: str) -> None:
    check, words = _EXPECTED[expected]
    if not check(value):
        raise ConfigError(f"{path}: key '{key}' must be {words}, got {value!r}")


def _merge(files: list[tuple[Path, dict[str, Any]]]) -> tuple[dict[str, Any], dict[str, Path]]:
    """Merge the files in order; return the result and which file set each key last."""
    merged: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    for path, content in files:
        for key, value in content.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
                origin.update({f"{key}.{name}": path for name in value})
            else:
                merged[key] = value
                origin[key] = path
    return merged, origin


def load_config(mode: str, config_dir: Path | str = "configs") -> Config:
    """Load, merge and validate configs/base.toml and configs/<mode>.toml."""
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r} (expected one of: {', '.join(MODES)})")
    config_dir = Path(config_dir)
    files = []
    for name in ("base", mode):
        path = config_dir / f"{name}.toml"
        content = read_toml(path)
        _check_file(path, content)
        files.append((path, content))
    merged, origin = _merge(files)
    return _build(mode, merged, origin, config_dir / "base.toml")


def _build(mode: str, merged: dict[str, Any], origin: dict[str, Path], base: Path) -> Config:
    """Turn the merged settings into a Config, checking what needs the whole picture."""

    def where(key: str) -> Path:
        return origin.get(key, base)

    def require(key: str) -> Any:
        section, _, name = key.partition(".")
        value = merged.get(section, {}).get(name) if name else merged.get(section)
        if value is None:
            raise ConfigError(f"{base}: missing key '{key}'")
        return value

    sections = {}
    for section, cls in SECTIONS.items():
        sections[section] = cls(**{f.name: require(f"{section}.{f.name}") for f in fields(cls)})
    task = require("task")
    if task not in TASKS:
        raise ConfigError(
            f"{where('task')}: key 'task' must be one of {', '.join(TASKS)}, got {task!r}"
        )
    config = Config(mode=mode, task=task, raw=merged, origin=origin, **sections)
    _check_ranges(config, where)
    return config


def _check_ranges(config: Config, where: Any) -> None:
    """Check values whose validity depends on the task or on a range."""
    # Imported here: the registries import scikit-learn, which `--help` does not need.
    from .evaluation import metric_names
    from .models import model_names, unknown_params

    data = config.data
    if data.max_rows < 0:
        raise ConfigError(
            f"{where('data.max_rows')}: key 'data.max_rows' must be 0 (all rows) or more, "
            f"got {data.max_rows}"
        )
    if data.batch_rows < 1:
        raise ConfigError(
            f"{where('data.batch_rows')}: key 'data.batch_rows' must be at least 1, "
            f"got {data.batch_rows}"
        )
    if data.synthetic_rows < 1:
        raise ConfigError(
            f"{where('data.synthetic_rows')}: key 'data.synthetic_rows' must be at least 1, "
            f"got {data.synthetic_rows}"
        )
    if not 0 < data.test_fraction < 1:
        raise ConfigError(
            f"{where('data.test_fraction')}: key 'data.test_fraction' must lie strictly "
            f"between 0 and 1, got {data.test_fraction}"
        )
    n_jobs = config.compute.n_jobs
    if n_jobs == 0 or n_jobs < -1:
        raise ConfigError(
            f"{where('compute.n_jobs')}: key 'compute.n_jobs' must be -1 (all cores) or a "
            f"count of at least 1, got {n_jobs}"
        )
    if config.compute.time_budget_s < 0:
        raise ConfigError(
            f"{where('compute.time_budget_s')}: key 'compute.time_budget_s' must be 0 (no "
            f"limit) or a number of seconds, got {config.compute.time_budget_s}"
        )
    root = Path(config.outputs.root)
    if root.name in ("", ".", "..") or Path.cwd().resolve().is_relative_to(root.resolve()):
        raise ConfigError(
            f"{where('outputs.root')}: key 'outputs.root' must name a folder of its own "
            f"(a run replaces it whole), got {config.outputs.root!r}"
        )
    if not 0 < config.evaluation.leakage_threshold <= 1:
        raise ConfigError(
            f"{where('evaluation.leakage_threshold')}: key 'evaluation.leakage_threshold' "
            f"must lie in (0, 1], got {config.evaluation.leakage_threshold}"
        )
    known_models = model_names(config.task)
    for key, names in (
        ("train.models", config.train.models),
        ("compare.models", config.compare.models),
    ):
        for name in names:
            if name not in known_models:
                raise ConfigError(
                    f"{where(key)}: key '{key}' names unknown model {name!r} "
                    f"for task {config.task} (expected one of: {', '.join(known_models)})"
                )
    for key, value, least in (
        ("compare.cv_folds", config.compare.cv_folds, 2),
        ("search.cv_folds", config.search.cv_folds, 2),
        ("search.iterations", config.search.iterations, 0),
        ("inspection.min_slice_rows", config.inspection.min_slice_rows, 1),
        ("inspection.top_n", config.inspection.top_n, 1),
        ("dask.n_workers", config.dask.n_workers, 0),
        ("dask.threads_per_worker", config.dask.threads_per_worker, 1),
    ):
        if value < least:
            raise ConfigError(f"{where(key)}: key '{key}' must be at least {least}, got {value}")
    known_metrics = metric_names(config.task)
    if config.evaluation.primary_metric not in known_metrics:
        raise ConfigError(
            f"{where('evaluation.primary_metric')}: key 'evaluation.primary_metric' must be "
            f"one of {', '.join(known_metrics)} for task {config.task}, "
            f"got {config.evaluation.primary_metric!r}"
        )
    for metric in config.evaluation.thresholds:
        if metric not in known_metrics:
            raise ConfigError(
                f"{where('evaluation.thresholds')}: key 'evaluation.thresholds' names unknown "
                f"metric {metric!r} (expected {', '.join(known_metrics)} for task {config.task})"
            )
    for name, params in config.train.params.items():
        key = f"train.params.{name}"
        if name not in known_models:
            raise ConfigError(
                f"{where('train.params')}: key '{key}' names unknown model {name!r} "
                f"for task {config.task} (expected one of: {', '.join(known_models)})"
            )
        unknown, known = unknown_params(config.task, name, params)
        if unknown:
            raise ConfigError(
                f"{where('train.params')}: key '{key}' sets unknown hyper-parameter(s) "
                f"{', '.join(map(repr, unknown))} (the estimator takes: {', '.join(known)})"
            )
    if config.compute.engine not in ENGINES:
        raise ConfigError(
            f"{where('compute.engine')}: key 'compute.engine' must be one of "
            f"{', '.join(ENGINES)}, got {config.compute.engine!r}"
        )
