"""Load the configuration of one mode: configs/base.toml merged with configs/<mode>.toml.

A mode is configuration only. Every file is checked as it is read (unknown keys,
wrong types) and the merged result is checked as a whole (known task, model and
metric names); each error names the file, the key and what was expected. A key
neither file sets takes the default written beside its field below (the values
configs/base.toml starts with); `task` and `data.target` have none.

Relative paths in the configs are resolved against the project root, the folder
holding the config folder, so a run means the same files from any current folder.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..ingest.locations import resolve_source, under_root
from .errors import ConfigError

MODES = ("test", "human", "production")
# A string that may be empty ("" leaves an optional setting unset: TOML has no null).
Text = str
# Hyper-parameters per registry model: {"model name": {"parameter": value}}.
Params = dict[str, dict[str, Any]]
# A number per metric name: {"roc_auc": 0.7}; "primary" names the primary metric.
Thresholds = dict[str, float]
# A list of names that may be empty: columns, features.
Names = list[str]
TASKS = ("classification", "regression")
ENGINES = ("local", "dask")


@dataclass(frozen=True)
class DataConfig:
    """Where the rows come from and how many of them a run uses."""

    target: str
    source: str = "synthetic"
    table: Text = ""
    query: Text = ""
    synthetic_rows: int = 200_000
    max_rows: int = 0
    stratify: bool = True
    batch_rows: int = 100_000
    sample_dir: str = "data"
    test_fraction: float = 0.2


@dataclass(frozen=True)
class ColumnsConfig:
    """What each column of the data is for, beyond what its type says."""

    # Columns the pipeline never reads as features.
    drop: Names = field(default_factory=list)
    # Identifiers: not features; shown beside the worst predictions, kept by predict --keep.
    ids: Names = field(default_factory=list)
    # Dates and timestamps: become numbers (year, month, day of week, days since 1970).
    dates: Names = field(default_factory=list)
    # Free text: becomes TF-IDF word features, at most text_max_features per column.
    text: Names = field(default_factory=list)
    text_max_features: int = 100


@dataclass(frozen=True)
class TrainConfig:
    """Which registry models to train, and the seed that makes runs repeatable."""

    models: list[str] = field(default_factory=lambda: ["hist_gradient_boosting"])
    seed: int = 42
    # Hyper-parameters that replace a registry model's defaults, per model name.
    params: Params = field(default_factory=dict)
    # After evaluation on the held-out rows, refit the kept model on every labelled row.
    refit_on_all_rows: bool = False


@dataclass(frozen=True)
class SearchConfig:
    """The optional hyper-parameter search over each model's registry search space."""

    enabled: bool = False
    # Candidates drawn at random from the space; 0 tries the whole grid.
    iterations: int = 0
    cv_folds: int = 3


@dataclass(frozen=True)
class EvaluationConfig:
    """How a model is judged against the dummy baseline, and whether it may be published."""

    # No default: it depends on the task (see default_primary_metric).
    primary_metric: str = ""
    min_lift_over_baseline: float = 0.05
    # True lets min_lift_over_baseline be 0 or less (and thresholds at a constant model's
    # level): a model no better than the dummy baseline then passes. Off, so that a
    # mistyped number cannot switch the guard off.
    allow_no_lift: bool = False
    leakage_threshold: float = 0.95
    # Features that may pass the leakage threshold: known to be that strong for real.
    leakage_allow: Names = field(default_factory=list)
    # Refuse to publish a model that fails the baseline or a threshold.
    gate: bool = False
    # Per metric, the least acceptable value (the most, for metrics where lower is better).
    thresholds: Thresholds = field(default_factory=dict)


# What a check of the data contract does when a later load breaks it.
Verdict = str
VERDICTS = ("error", "warn")


@dataclass(frozen=True)
class ContractConfig:
    """What happens when data break the contract recorded at a mode's first load (see
    contract.py): "error" stops the run naming the column, "warn" says so and goes on."""

    # A column the contract has is missing.
    missing_column: Verdict = "error"
    # A column the contract lacks appeared (it would become a feature).
    new_column: Verdict = "warn"
    # A column changed kind (number, text, boolean, date).
    type_changed: Verdict = "error"
    # A column that had no missing values has some.
    new_missing_values: Verdict = "warn"
    # A number or date outside the range the contract saw.
    out_of_range: Verdict = "warn"
    # A category the contract did not see (columns with few distinct values).
    new_category: Verdict = "warn"
    # A text column whose values are numbers but for a few ("forty" among ages).
    mostly_numeric: Verdict = "error"


@dataclass(frozen=True)
class CompareConfig:
    """Which registry models `compare` evaluates, on how many identical CV folds."""

    models: list[str] = field(default_factory=lambda: ["random_forest", "hist_gradient_boosting"])
    cv_folds: int = 5


@dataclass(frozen=True)
class InspectionConfig:
    """How much of the error analysis the report and notebooks show."""

    min_slice_rows: int = 30
    top_n: int = 10


@dataclass(frozen=True)
class ComputeConfig:
    """How many cores a run may use (-1: all), and how long it may take (0: no limit)."""

    n_jobs: int = -1
    time_budget_s: float = 0
    # Where parallel work runs: "local" (this machine's cores) or "dask" (a Dask cluster).
    engine: str = "local"


@dataclass(frozen=True)
class DaskConfig:
    """The Dask cluster used when compute.engine = "dask"."""

    # An existing scheduler, e.g. "tcp://10.0.0.5:8786"; "" starts a local cluster for the run.
    scheduler_address: Text = ""
    # Size of the local cluster started when there is no scheduler address (0: one per core).
    n_workers: int = 0
    threads_per_worker: int = 1


@dataclass(frozen=True)
class OutputsConfig:
    """Where a mode writes its models and metrics."""

    root: str = "outputs"
    # A root outside the project is refused unless this is true (a run replaces its root
    # whole, so it must be a folder of the project's own making).
    allow_outside_project: bool = False


@dataclass(frozen=True)
class Config:
    """The validated configuration of one mode."""

    mode: str
    task: str
    data: DataConfig
    columns: ColumnsConfig
    train: TrainConfig
    search: SearchConfig
    evaluation: EvaluationConfig
    contract: ContractConfig
    compare: CompareConfig
    inspection: InspectionConfig
    compute: ComputeConfig
    dask: DaskConfig
    outputs: OutputsConfig
    # The merged settings as plain data, for manifests and reports.
    raw: dict[str, Any]
    # Which file set each key ("data.max_rows" -> configs/test.toml), for error messages.
    origin: dict[str, Path | str]
    # The project root: the folder holding the config folder. Relative paths in the
    # configs (data.source, data.sample_dir, outputs.root) are already resolved against it.
    root: Path = field(default_factory=Path.cwd)
    # The config folder, for messages that tell which file to edit.
    config_dir: Path = Path("configs")

    def where(self, key: str) -> str:
        """Name the key with the file that set it, e.g. "data.max_rows in configs/test.toml"."""
        return f"{key} in {self.origin[key]}" if key in self.origin else key

    def file_of(self, key: str) -> Path | str:
        """The file that set the key, else base.toml (where a key left at its default goes)."""
        return self.origin.get(key, self.config_dir / "base.toml")

    @property
    def output_dir(self) -> Path:
        """The mode's output root (absolute)."""
        return Path(self.outputs.root)

    @property
    def sample_folder(self) -> Path:
        """The folder of the mode's local sample: <data.sample_dir>/<mode>/ (absolute)."""
        return Path(self.data.sample_dir) / self.mode


SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "columns": ColumnsConfig,
    "train": TrainConfig,
    "search": SearchConfig,
    "evaluation": EvaluationConfig,
    "contract": ContractConfig,
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
    "Verdict": (lambda v: v in VERDICTS, 'one of "error", "warn"'),
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
    "Names": (
        lambda v: isinstance(v, list) and all(isinstance(i, str) and i for i in v),
        "a list of names (strings)",
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


def _check_file(path: Path | str, content: dict[str, Any]) -> None:
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


def _check_value(path: Path | str, key: str, value: Any, expected: str) -> None:
    check, words = _EXPECTED[expected]
    if not check(value):
        raise ConfigError(f"{path}: key '{key}' must be {words}, got {value!r}")


def _merge(
    files: list[tuple[Path | str, dict[str, Any]]],
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


OVERRIDES = "--set"


def parse_overrides(settings: dict[str, Any]) -> dict[str, Any]:
    """Turn {"data.max_rows": 1000} into the nested form a config file has."""
    nested: dict[str, Any] = {}
    for key, value in settings.items():
        section, _, name = key.partition(".")
        if name:
            nested.setdefault(section, {})[name] = value
        else:
            nested[section] = value
    return nested


def load_config(
    mode: str, config_dir: Path | str = "configs", overrides: dict[str, Any] | None = None
) -> Config:
    """Load, merge and validate configs/base.toml and configs/<mode>.toml, then apply
    overrides ({"data.max_rows": 1000}: dotted keys, checked like a file's)."""
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
    files: list[tuple[Path | str, dict[str, Any]]] = []
    for name in ("base", mode):
        path = config_dir / f"{name}.toml"
        content = read_toml(path)
        _check_file(path, content)
        files.append((path, content))
    if overrides:
        content = parse_overrides(overrides)
        _check_file(OVERRIDES, content)
        files.append((OVERRIDES, content))
    merged, origin = _merge(files)
    return _build(mode, merged, origin, config_dir)


def default_primary_metric(task: str) -> str:
    """The primary metric when evaluation.primary_metric is not set."""
    return "roc_auc" if task == "classification" else "r2"


def _build(
    mode: str, merged: dict[str, Any], origin: dict[str, Path | str], config_dir: Path
) -> Config:
    """Turn the merged settings into a Config, checking what needs the whole picture."""
    base = config_dir / "base.toml"

    def where(key: str) -> Path | str:
        return origin.get(key, base)

    def value_of(section: str, item: dataclasses.Field[Any]) -> Any:
        given = merged.get(section, {})
        if item.name in given:
            return given[item.name]
        if item.default is not dataclasses.MISSING:
            return item.default
        if item.default_factory is not dataclasses.MISSING:
            return item.default_factory()
        raise ConfigError(f"{base}: missing key '{section}.{item.name}'")

    task = merged.get("task")
    if task is None:
        raise ConfigError(f"{base}: missing key 'task'")
    if task not in TASKS:
        raise ConfigError(
            f"{where('task')}: key 'task' must be one of {', '.join(TASKS)}, got {task!r}"
        )
    sections = {
        section: cls(**{item.name: value_of(section, item) for item in fields(cls)})
        for section, cls in SECTIONS.items()
    }
    evaluation = sections["evaluation"]
    primary = evaluation.primary_metric or default_primary_metric(task)
    thresholds = dict(evaluation.thresholds)
    if "primary" in thresholds:
        if primary in thresholds:
            raise ConfigError(
                f"{where('evaluation.thresholds')}: key 'evaluation.thresholds' sets both "
                f"'primary' and {primary!r}, which is the primary metric: keep one"
            )
        thresholds[primary] = thresholds.pop("primary")
    sections["evaluation"] = dataclasses.replace(
        evaluation, primary_metric=primary, thresholds=thresholds
    )
    root = config_dir.resolve().parent
    data, outputs = sections["data"], sections["outputs"]
    protected = [root / name for name in PROJECT_FOLDERS]
    protected += [config_dir.resolve(), under_root(data.sample_dir, root).resolve()]
    _check_outputs_root(outputs, root, protected, where)
    sections["data"] = dataclasses.replace(
        data,
        source=resolve_source(data.source, root),
        sample_dir=str(under_root(data.sample_dir, root)),
    )
    output_root = under_root(outputs.root, root).resolve()
    sections["outputs"] = dataclasses.replace(outputs, root=str(output_root))
    config = Config(
        mode=mode,
        task=task,
        raw=merged,
        origin=origin,
        root=root,
        config_dir=config_dir,
        **sections,
    )
    _check_ranges(config, where)
    _check_columns(config, where)
    return config


# Folders of the project a run's output root must never be, hold or lie inside.
PROJECT_FOLDERS = ("configs", "src", "notebooks", "tests", "data", ".git", ".github", "docs")


def _check_outputs_root(
    outputs: OutputsConfig, root: Path, protected: list[Path], where: Any
) -> None:
    """An output root is a folder of its own inside the project (a run replaces it whole):
    not the project, not one of its own folders or files, not holding or inside one."""
    value, key = outputs.root, "outputs.root"
    # Where the path points, links kept: an outputs/ that links to a bigger disk still
    # lies in the project.
    resolved = Path(os.path.normpath(under_root(value, root)))
    refuse = f"{where(key)}: key '{key}' = {value!r}"
    if Path(value).name in ("", ".", "..") or root.is_relative_to(resolved):
        raise ConfigError(f"{refuse} would hold the whole project: name a folder of its own")
    for folder in protected:
        if resolved == folder or resolved.is_relative_to(folder) or folder.is_relative_to(resolved):
            raise ConfigError(
                f"{refuse} is, holds or lies in the project's own folder {folder.name}/: "
                "a run replaces its output root, so name a folder of its own (e.g. outputs/<mode>)"
            )
    for parent in (resolved, *resolved.parents):
        if parent.is_file():
            raise ConfigError(f"{refuse}: {parent} is a file, not a folder")
        if parent == root:
            break
    if not resolved.is_relative_to(root) and not outputs.allow_outside_project:
        raise ConfigError(
            f"{refuse} lies outside the project {root}: set outputs.allow_outside_project = "
            "true to write there (a folder this project did not make is still never replaced)"
        )


def _check_guard(config: Config, where: Any, metric_range: Any) -> None:
    """The quality guard keeps a constant model out: a lift above 0, thresholds a model
    can meet and a constant one cannot, unless evaluation.allow_no_lift says otherwise."""
    evaluation = config.evaluation
    allowed = evaluation.allow_no_lift
    key = "evaluation.min_lift_over_baseline"
    if evaluation.min_lift_over_baseline <= 0 and not allowed:
        raise ConfigError(
            f"{where(key)}: key '{key}' must be above 0 (a model must beat the dummy "
            f"baseline), got {evaluation.min_lift_over_baseline}; set "
            "evaluation.allow_no_lift = true to accept a model no better than the baseline"
        )
    for metric, bound in evaluation.thresholds.items():
        low, high, constant = metric_range(config.task, metric)
        key = "evaluation.thresholds"
        if not low <= bound <= high:
            raise ConfigError(
                f"{where(key)}: key '{key}' sets {metric} = {bound}, which no model can reach "
                f"({metric} lies in [{low}, {high}])"
            )
        if constant is not None and bound <= constant and not allowed:
            raise ConfigError(
                f"{where(key)}: key '{key}' sets {metric} = {bound}, which a constant model "
                f"reaches ({constant}): set it above, or evaluation.allow_no_lift = true"
            )


def _check_columns(config: Config, where: Any) -> None:
    """A column has one role at most, and the target has none."""
    columns, target = config.columns, config.data.target
    seen: dict[str, str] = {}
    for role in ("drop", "ids", "dates", "text"):
        for name in getattr(columns, role):
            key = f"columns.{role}"
            if name == target:
                raise ConfigError(
                    f"{where(key)}: key '{key}' names the target column {target!r} "
                    "(data.target); the target has no other role"
                )
            if name in seen:
                raise ConfigError(
                    f"{where(key)}: key '{key}' names column {name!r}, which "
                    f"columns.{seen[name]} names too: give a column one role"
                )
            seen[name] = role
    if columns.text_max_features < 1:
        key = "columns.text_max_features"
        raise ConfigError(
            f"{where(key)}: key '{key}' must be at least 1, got {columns.text_max_features}"
        )


def _check_ranges(config: Config, where: Any) -> None:
    """Check values whose validity depends on the task or on a range."""
    # Imported here: the registries import scikit-learn, which `--help` does not need.
    from ..modelling.evaluation import metric_names, metric_range
    from ..yours.models import invalid_params, model_names, unknown_params

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
        # Checked by the estimator itself, before any data is read.
        invalid = invalid_params(config.task, name, params)
        if invalid:
            raise ConfigError(f"{where('train.params')}: key '{key}': {invalid}")
    _check_guard(config, where, metric_range)
    if config.compute.engine not in ENGINES:
        raise ConfigError(
            f"{where('compute.engine')}: key 'compute.engine' must be one of "
            f"{', '.join(ENGINES)}, got {config.compute.engine!r}"
        )
