"""Load the configuration of one mode: configs/base.toml merged with configs/<mode>.toml.

A mode is configuration only. One typed model, the pydantic classes below, says what
every key holds: its type, its default, its range or its allowed values. Every file
is checked against it as it is read (unknown keys, wrong types, values out of range),
then the merged result as a whole (keys no file sets, model and metric names the task
knows, thresholds, column roles, the output root). Each error is one line naming the
file, the key and what was expected; a ConfigError holds every error of a check, one
line each, in file order. A key neither file sets takes the default beside its field
below (the values configs/base.toml starts with); `task` and `data.target` have none,
and `outputs.root` is outputs/<mode>.

Relative paths in the configs are resolved against the project root, the folder
holding the config folder, so a run means the same files from any current folder.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from ..ingest.locations import resolve_source, under_root
from ..modelling.tasks import Task as TaskRules
from ..modelling.tasks import task_named
from .errors import ConfigError
from .extensions import plugged_sections
from .modes import MODES


@dataclass(frozen=True)
class Expect:
    """What a key must hold, in the words of its error message (they follow "must")."""

    words: str


def _not_zero(value: int) -> int:
    """Refuse 0, for a count that may also be -1 ("all")."""
    if value == 0:
        raise ValueError("0 is no count")
    return value


# A string that may be empty ("" leaves an optional setting unset: TOML has no null).
Text = str
# A string that is not empty (nor only spaces): a path, a column.
Name = Annotated[str, Field(min_length=1, pattern=r"\S")]
# A list of names that may be empty: columns, features.
Names = Annotated[list[Name], Expect("be a list of names (strings)")]
# Registry model names: at least one.
Models = Annotated[list[str], Field(min_length=1), Expect("be a non-empty list of strings")]
# Hyper-parameters per registry model: {"model name": {"parameter": value}}.
Params = Annotated[
    dict[str, dict[str, Any]],
    Expect("be a table of model names to tables of hyper-parameters"),
]
# A number per metric name: {"roc_auc": 0.7}; "primary" names the primary metric.
Thresholds = Annotated[dict[str, float], Expect("be a table of metric names to numbers")]
# What the models predict.
Task = Literal["classification", "regression"]
# What a check of the data contract does when a later load breaks it.
Verdict = Literal["error", "warn"]
# Where parallel work runs: this machine's cores, or a Dask cluster.
Engine = Literal["local", "dask"]
# The formats a sample can also be written in, beside its Parquet file, for spreadsheets
# and scripts (ingest/spreadsheets.py): CSV, and an Excel workbook.
SampleFormat = Literal["csv", "xlsx"]
SampleFormats = Annotated[
    list[SampleFormat], Expect("be a list of: " + ", ".join(get_args(SampleFormat)))
]


class Section(BaseModel):
    """A table of the config files: typed keys, unknown ones refused. Strict, since TOML
    has real types ("3" stays text), but an integer is a number where one is expected."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class DataConfig(Section):
    """Where the rows come from and how many of them a run uses."""

    target: Name = Field(description="the column to predict (no default)")
    source: Name = Field("synthetic", description="'synthetic', a file, folder, URL or database")
    table: Text = Field("", description="a database table to read")
    query: Text = Field("", description="or an SQL query to read")
    synthetic_rows: int = Field(200_000, ge=1, description="size of the built-in data set")
    max_rows: Annotated[int, Field(ge=0), Expect("be 0 (all rows) or more")] = Field(
        0, description="a sample of that many rows; 0: every row, from the source"
    )
    stratify: bool = Field(True, description="keep each class's share in the sample")
    batch_rows: int = Field(100_000, ge=1, description="rows read from the source at a time")
    sample_dir: Name = Field("data", description="where samples go, in <sample_dir>/<mode>/")
    sample_formats: SampleFormats = Field(
        [], description="copies of the sample beside its Parquet file: csv, xlsx"
    )
    test_fraction: Annotated[float, Field(gt=0, lt=1), Expect("lie strictly between 0 and 1")] = (
        Field(0.2, description="share of the rows held out to evaluate the model")
    )


class ColumnsConfig(Section):
    """What each column of the data is for, beyond what its type says."""

    drop: Names = Field([], description="columns the pipeline never reads as features")
    ids: Names = Field([], description="identifiers: not features; shown and kept by predict")
    dates: Names = Field([], description="dates: become year, month, day of week, days")
    text: Names = Field([], description="free text: becomes TF-IDF word features")
    text_max_features: int = Field(100, ge=1, description="TF-IDF features per text column")


class TrainConfig(Section):
    """Which registry models to train, and the seed that makes runs repeatable."""

    models: Models = Field(["hist_gradient_boosting"], description="registry model names")
    seed: int = Field(42, description="the seed of every random step")
    params: Params = Field({}, description="hyper-parameters replacing a model's defaults")
    refit_on_all_rows: bool = Field(
        False, description="after evaluation, refit the kept model on every labelled row"
    )


class SearchConfig(Section):
    """The optional hyper-parameter search over each model's registry search space."""

    enabled: bool = Field(False, description="tune each model before the final fit")
    iterations: int = Field(0, ge=0, description="random candidates; 0 tries the whole grid")
    cv_folds: int = Field(3, ge=2, description="folds of the search's cross-validation")


class EvaluationConfig(Section):
    """How a model is judged against the dummy baseline, and whether it may be published."""

    primary_metric: Text = Field("", description="'' is the task's (default_primary_metric)")
    min_lift_over_baseline: float = Field(0.05, description="how far past the baseline")
    allow_no_lift: bool = Field(
        False, description="let a model no better than the dummy baseline pass, on purpose"
    )
    leakage_threshold: Annotated[float, Field(gt=0, le=1), Expect("lie in (0, 1]")] = Field(
        0.95, description="one feature this predictive alone leaks the target"
    )
    leakage_allow: Names = Field([], description="features known to be that strong for real")
    gate: bool = Field(False, description="refuse to publish a model that fails a check")
    thresholds: Thresholds = Field({}, description="the least acceptable value per metric")


class ContractConfig(Section):
    """What happens when data break the contract recorded at a mode's first load (see
    contract.py): "error" stops the run naming the column, "warn" says so and goes on."""

    missing_column: Verdict = Field("error", description="a column the contract has is missing")
    new_column: Verdict = Field("warn", description="a column the contract lacks appeared")
    type_changed: Verdict = Field("error", description="a column changed kind")
    new_missing_values: Verdict = Field("warn", description="missing values, none before")
    out_of_range: Verdict = Field("warn", description="a number or date outside the range")
    new_category: Verdict = Field("warn", description="a category the contract did not see")
    mostly_numeric: Verdict = Field("error", description="numbers but for a few ('forty')")


class CompareConfig(Section):
    """Which registry models `compare` evaluates, on how many identical CV folds."""

    models: Models = Field(
        ["random_forest", "hist_gradient_boosting"], description="registry model names"
    )
    cv_folds: int = Field(5, ge=2, description="cross-validation folds, the same for each")


class InspectionConfig(Section):
    """How much of the error analysis the report and notebooks show."""

    min_slice_rows: int = Field(30, ge=1, description="smaller slices are not reported weak")
    top_n: int = Field(10, ge=1, description="weak slices and worst predictions listed")


class ComputeConfig(Section):
    """How many cores a run may use, how long it may take, and where parallel work runs."""

    n_jobs: Annotated[
        int,
        Field(ge=-1),
        AfterValidator(_not_zero),
        Expect("be -1 (all cores) or a count of at least 1"),
    ] = Field(-1, description="cores a run may use")
    time_budget_s: Annotated[
        float, Field(ge=0), Expect("be 0 (no limit) or a number of seconds")
    ] = Field(0, description="seconds a whole run may take")
    engine: Engine = Field("local", description="'dask' needs the dask extra and [dask]")


class DaskConfig(Section):
    """The Dask cluster used when compute.engine = "dask"."""

    scheduler_address: Text = Field("", description="a scheduler; '' starts a local cluster")
    n_workers: int = Field(0, ge=0, description="workers of that local cluster; 0: one a core")
    threads_per_worker: int = Field(1, ge=1, description="threads of each local worker")


class OutputsConfig(Section):
    """Where a mode writes its models and metrics."""

    root: Name = Field(description="a folder of the run's own; left out: outputs/<mode>")
    allow_outside_project: bool = Field(
        False, description="accept a root outside the project (never one it did not make)"
    )


class Settings(Section):
    """What the config files hold: the task, and one table per section."""

    task: Task = Field(description="what the models predict (no default)")
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


class Config(Settings):
    """The validated configuration of one mode."""

    mode: str
    # The merged settings as plain data, as the files wrote them, for manifests and reports.
    raw: dict[str, Any]
    # Which file set each key ("data.max_rows" -> configs/test.toml), for error messages.
    origin: dict[str, Path | str]
    # The project root: the folder holding the config folder. Relative paths in the
    # configs (data.source, data.sample_dir, outputs.root) are already resolved against it.
    root: Path = Field(default_factory=Path.cwd)
    # The config folder, for messages that tell which file to edit.
    config_dir: Path = Path("configs")

    def where(self, key: str) -> str:
        """Name the key with the file that set it, e.g. "data.max_rows in configs/test.toml"."""
        return f"{key} in {self.origin[key]}" if key in self.origin else key

    def file_of(self, key: str) -> Path | str:
        """The file that set the key, else base.toml (where a key left at its default goes)."""
        return self.origin.get(key, self.config_dir / "base.toml")

    def section(self, name: str) -> Any:
        """A table that optional machinery adds to the config (see run/extensions.py)."""
        return getattr(self, name)

    @property
    def output_dir(self) -> Path:
        """The mode's output root (absolute)."""
        return Path(self.outputs.root)

    @property
    def sample_folder(self) -> Path:
        """The folder of the mode's local sample: <data.sample_dir>/<mode>/ (absolute)."""
        return Path(self.data.sample_dir) / self.mode


SECTIONS: dict[str, type[BaseModel]] = {
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
# The tables optional machinery adds (run/extensions.py), plugged into the two models
# every file and the merged result are checked with; the same as Settings and Config
# in a project without any.
PLUGGED_SECTIONS = plugged_sections()
SECTIONS |= PLUGGED_SECTIONS
_plugged_fields: dict[str, Any] = {name: (model, ...) for name, model in PLUGGED_SECTIONS.items()}
SettingsModel = create_model("Settings", __base__=Settings, **_plugged_fields)
ConfigModel = create_model("Config", __base__=Config, **_plugged_fields)
# Keys a template version renamed: old key -> (new key, template version). An old key
# gets an error saying what to do instead of a bare "unknown key".
RENAMED_KEYS = {"data.cache_dir": ("data.sample_dir", "1.0.0")}
OVERRIDES = "--set"
# Folders of the project a run's output root must never be, hold or lie inside.
PROJECT_FOLDERS = ("configs", "src", "notebooks", "tests", "data", ".git", ".github", "docs")
# What a value should have been, by pydantic's error type for a key's own value.
TYPE_WORDS = {
    "int_type": "be an integer",
    "float_type": "be a number",
    "bool_type": "be true or false",
    "string_type": "be a string",
    "string_too_short": "be a non-empty string",
    "string_pattern_mismatch": "be a non-empty string",
}
# Pydantic's range errors, by the bound they name in their context.
BOUND_WORDS = {"ge": "be at least", "gt": "be above", "le": "be at most", "lt": "be below"}


# The config files read, in order, each with its content: base, the mode's, --set.
Files = list[tuple[Path | str, dict[str, Any]]]


class Problem(NamedTuple):
    """One error: the file at fault, the key, and the line that says it."""

    file: Path | str
    key: str
    line: str


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


def _field(loc: tuple[str, ...]) -> FieldInfo | None:
    """The field a key names: ("task",) or ("data", "max_rows")."""
    if len(loc) == 1:
        return SettingsModel.model_fields.get(loc[0])
    return SECTIONS[loc[0]].model_fields.get(loc[1])


def _expected(loc: tuple[str, ...], error: Any) -> str:
    """What the key must hold, in words, for one of pydantic's errors about it."""
    kind, field = error["type"], _field(loc)
    metadata = field.metadata if field is not None else []
    expect = next((item.words for item in metadata if isinstance(item, Expect)), None)
    # The field's own words cover all but a value of the wrong type (an item of a list
    # or table is the field's affair: it names the whole).
    if expect is not None and (len(error["loc"]) > len(loc) or kind not in TYPE_WORDS):
        return expect
    if kind in TYPE_WORDS:
        return TYPE_WORDS[kind]
    if kind == "literal_error" and field is not None:
        return "be one of " + ", ".join(map(str, get_args(field.annotation)))
    if kind == "model_type":
        return f"be a [{loc[0]}] table"
    bound = next((name for name in BOUND_WORDS if name in error.get("ctx", {})), None)
    if bound is not None:
        return f"{BOUND_WORDS[bound]} {error['ctx'][bound]}"
    message = str(error["msg"])
    return f"be valid ({message[:1].lower()}{message[1:]})"


def _problems(path: Path | str, content: dict[str, Any], errors: list[Any]) -> list[Problem]:
    """pydantic's errors (ValidationError.errors()) as one line each, naming the file
    and the key; two items of one list wrong make one line about the list."""
    problems = []
    for item in errors:
        loc = tuple(map(str, item["loc"]))
        loc = loc[:2] if loc[0] in SECTIONS else loc[:1]
        key = ".".join(loc)
        problems.append(Problem(path, key, f"{path}: {_wrong(loc, item, content)}"))
    return list(dict.fromkeys(problems))


def _wrong(loc: tuple[str, ...], error: Any, content: dict[str, Any]) -> str:
    """What is wrong with the key, for one of pydantic's errors about it."""
    key = ".".join(loc)
    if error["type"] == "missing":
        return f"missing key '{key}'"
    if key in RENAMED_KEYS:
        renamed, version = RENAMED_KEYS[key]
        return (
            f"key '{key}' was renamed '{renamed}' in template version {version}: rename it "
            "(`copier update` does it for you)"
        )
    if error["type"] == "extra_forbidden":
        model = SettingsModel if len(loc) == 1 else SECTIONS[loc[0]]
        return f"unknown key '{key}' (expected one of: {', '.join(sorted(model.model_fields))})"
    value = content[loc[0]] if len(loc) == 1 else content[loc[0]][loc[1]]
    return f"key '{key}' must {_expected(loc, error)}, got {value!r}"


def _check_file(path: Path | str, content: dict[str, Any]) -> list[Problem]:
    """Unknown keys and values of the wrong type or out of range in one config file (a
    key it leaves out is no error: another file may set it)."""
    try:
        SettingsModel.model_validate(content)
    except ValidationError as error:
        errors = [item for item in error.errors(include_url=False) if item["type"] != "missing"]
        return _problems(path, content, errors)
    return []


def _refuse(problems: list[Problem], files: Files) -> None:
    """Raise one ConfigError of every problem, if any."""
    if problems:
        raise _config_error(problems, files)


def _config_error(problems: list[Problem], files: Files) -> ConfigError:
    """One ConfigError of the problems, one line each: by file, then where in the file the
    key is (a key no file sets last)."""

    def place(problem: Problem) -> tuple[int, int, int]:
        for index, (path, content) in enumerate(files):
            if path == problem.file:
                section, _, name = problem.key.partition(".")
                keys = list(content)
                if section not in content:
                    return (index, len(keys), 0)
                inner = content[section]
                names = list(inner) if isinstance(inner, dict) else []
                return (index, keys.index(section), names.index(name) if name in names else 0)
        return (len(files), 0, 0)

    return ConfigError("\n".join(problem.line for problem in sorted(problems, key=place)))


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
    mode: str,
    config_dir: Path | str = "configs",
    overrides: dict[str, Any] | None = None,
    *,
    options: dict[str, dict[str, Any]] | None = None,
    registries: bool = True,
) -> Config:
    """Load, merge and validate configs/base.toml and configs/<mode>.toml, then apply
    overrides ({"data.max_rows": 1000}: dotted keys, checked like a file's, named --set)
    and the settings of other command-line options ({"--model": {"train.models": [...]}},
    each checked like a file named by its option).

    registries=False leaves out the checks against the model registry (it imports
    scikit-learn): for commands that fit no model, such as fetch-sample, which then holds
    only the data in memory."""
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
    _refuse([problem for path, content in files for problem in _check_file(path, content)], files)
    merged, origin = _merge(files)
    return _build(mode, merged, origin, config_dir, files, registries)


def default_primary_metric(task: str) -> str:
    """The primary metric when evaluation.primary_metric is not set."""
    return task_named(task).primary_metric


def _build(
    mode: str,
    merged: dict[str, Any],
    origin: dict[str, Path | str],
    config_dir: Path,
    files: Files,
    registries: bool = True,
) -> Config:
    """Turn the merged settings into a Config, checking what needs the whole picture."""
    root = config_dir.resolve().parent
    given: dict[str, Any] = {**merged, **{name: dict(merged.get(name, {})) for name in SECTIONS}}
    given["outputs"].setdefault("root", f"outputs/{mode}")
    extra = {"mode": mode, "raw": merged, "origin": origin, "root": root, "config_dir": config_dir}
    try:
        config = ConfigModel.model_validate({**given, **extra})
    except ValidationError as error:  # keys no file sets
        errors = error.errors(include_url=False)
        raise _config_error(_problems(config_dir / "base.toml", given, errors), files) from None
    problems: list[Problem] = []
    evaluation = config.evaluation
    primary = evaluation.primary_metric or default_primary_metric(config.task)
    thresholds = dict(evaluation.thresholds)
    if "primary" in thresholds:
        bound = thresholds.pop("primary")
        if primary in thresholds:
            problems.append(
                _problem(
                    config,
                    "evaluation.thresholds",
                    f"sets both 'primary' and {primary!r}, which is the primary metric: keep one",
                )
            )
        thresholds[primary] = bound
    evaluation = evaluation.model_copy(update={"primary_metric": primary, "thresholds": thresholds})
    config = config.model_copy(update={"evaluation": evaluation})
    data = config.data
    protected = [root / name for name in PROJECT_FOLDERS]
    protected += [config_dir.resolve(), under_root(data.sample_dir, root).resolve()]
    problems += _check_outputs_root(config, protected)
    problems += _check_metrics(config)
    if registries:
        problems += _check_models(config)
    problems += _check_columns(config)
    _refuse(problems, files)
    data = data.model_copy(
        update={
            "source": resolve_source(data.source, root),
            "sample_dir": str(under_root(data.sample_dir, root)),
        }
    )
    output_root = str(under_root(config.outputs.root, root).resolve())
    outputs = config.outputs.model_copy(update={"root": output_root})
    return config.model_copy(update={"data": data, "outputs": outputs})


def _problem(config: Config, key: str, text: str, named: str | None = None) -> Problem:
    """A problem of the merged config: the file that set the key says `key '<named>' <text>`."""
    file = config.file_of(key)
    return Problem(file, key, f"{file}: key '{named or key}' {text}")


def _check_outputs_root(config: Config, protected: list[Path]) -> Iterator[Problem]:
    """An output root is a folder of its own inside the project (a run replaces it whole):
    not the project, not one of its own folders or files, not holding or inside one."""
    value, root, key = config.outputs.root, config.root, "outputs.root"
    # Where the path points, links kept: an outputs/ that links to a bigger disk still
    # lies in the project.
    resolved = Path(os.path.normpath(under_root(value, root)))
    refuse = f"= {value!r}"
    if Path(value).name in ("", ".", "..") or root.is_relative_to(resolved):
        yield _problem(
            config, key, f"{refuse} would hold the whole project: name a folder of its own"
        )
        return
    for folder in protected:
        if resolved == folder or resolved.is_relative_to(folder) or folder.is_relative_to(resolved):
            yield _problem(
                config,
                key,
                f"{refuse} is, holds or lies in the project's own folder {folder.name}/: "
                "a run replaces its output root, so name a folder of its own (e.g. outputs/<mode>)",
            )
            return
    for parent in (resolved, *resolved.parents):
        if parent.is_file():
            yield _problem(config, key, f"{refuse}: {parent} is a file, not a folder")
            return
        if parent == root:
            break
    if not resolved.is_relative_to(root) and not config.outputs.allow_outside_project:
        yield _problem(
            config,
            key,
            f"{refuse} lies outside the project {root}: set outputs.allow_outside_project = "
            "true to write there (a folder this project did not make is still never replaced)",
        )


def _check_guard(config: Config, task: TaskRules) -> Iterator[Problem]:
    """The quality guard keeps a constant model out: a lift above 0, thresholds a model
    can meet and a constant one cannot, unless evaluation.allow_no_lift says otherwise."""
    known_metrics = task.metric_names
    evaluation = config.evaluation
    allowed = evaluation.allow_no_lift
    if evaluation.min_lift_over_baseline <= 0 and not allowed:
        yield _problem(
            config,
            "evaluation.min_lift_over_baseline",
            "must be above 0 (a model must beat the dummy baseline), got "
            f"{evaluation.min_lift_over_baseline}; set evaluation.allow_no_lift = true to "
            "accept a model no better than the baseline",
        )
    key = "evaluation.thresholds"
    for metric, bound in evaluation.thresholds.items():
        if metric not in known_metrics:
            if metric != evaluation.primary_metric:  # an unknown primary metric is said once
                yield _problem(
                    config,
                    key,
                    f"names unknown metric {metric!r} (expected {', '.join(known_metrics)} "
                    f"for task {config.task})",
                )
            continue
        low, high, constant = task.metric(metric).range
        if not low <= bound <= high:
            yield _problem(
                config,
                key,
                f"sets {metric} = {bound}, which no model can reach ({metric} lies in "
                f"[{low}, {high}])",
            )
        elif constant is not None and bound <= constant and not allowed:
            yield _problem(
                config,
                key,
                f"sets {metric} = {bound}, which a constant model reaches ({constant}): set "
                "it above, or evaluation.allow_no_lift = true",
            )


def _check_columns(config: Config) -> Iterator[Problem]:
    """A column has one role at most, and the target has none."""
    columns, target = config.columns, config.data.target
    seen: dict[str, str] = {}
    for role in ("drop", "ids", "dates", "text"):
        key = f"columns.{role}"
        for name in getattr(columns, role):
            if name == target:
                yield _problem(
                    config,
                    key,
                    f"names the target column {target!r} (data.target); the target has no "
                    "other role",
                )
            elif name in seen:
                yield _problem(
                    config,
                    key,
                    f"names column {name!r}, which columns.{seen[name]} names too: give a "
                    "column one role",
                )
            else:
                seen[name] = role


def _check_metrics(config: Config) -> Iterator[Problem]:
    """Check the metric names the task knows (modelling/tasks.py, no scikit-learn needed),
    and the quality guard's numbers against each metric's range."""
    task = task_named(config.task)
    primary = config.evaluation.primary_metric
    if primary not in task.metric_names:
        yield _problem(
            config,
            "evaluation.primary_metric",
            f"must be one of {', '.join(task.metric_names)} for task {task.name}, got {primary!r}",
        )
    yield from _check_guard(config, task)


def _check_models(config: Config) -> Iterator[Problem]:
    """Check the names the task's model registry must know: models and their
    hyper-parameters (yours/models.py)."""
    # Imported here: the registry imports scikit-learn, which `--help` does not need.
    from ..yours.models import invalid_params, model_names, unknown_params

    task = config.task
    known_models = model_names(task)
    expected = f"for task {task} (expected one of: {', '.join(known_models)})"
    for key, names in (
        ("train.models", config.train.models),
        ("compare.models", config.compare.models),
    ):
        for name in names:
            if name not in known_models:
                yield _problem(config, key, f"names unknown model {name!r} {expected}")
    for name, params in config.train.params.items():
        key = f"train.params.{name}"
        if name not in known_models:
            yield _problem(config, "train.params", f"names unknown model {name!r} {expected}", key)
            continue
        unknown, known = unknown_params(task, name, params)
        if unknown:
            yield _problem(
                config,
                "train.params",
                f"sets unknown hyper-parameter(s) {', '.join(map(repr, unknown))} "
                f"(the estimator takes: {', '.join(known)})",
                key,
            )
        # Checked by the estimator itself, before any data is read.
        elif invalid := invalid_params(task, name, params):
            file = config.file_of("train.params")
            yield Problem(file, "train.params", f"{file}: key '{key}': {invalid}")
