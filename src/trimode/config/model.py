"""The typed model of a mode's configuration: every key's type, default and range.

One pydantic class per table of the config files ([data], [columns], ...), each field
with its default (the value configs/base.toml starts with), its range or allowed values
and a description (docs/configuration.md is generated from them). `Expect` gives the
words an error message uses for a key (they follow "must"). Loading, merging and the
error messages live in loading.py and wording.py; checks across keys in checks.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import core_schema

from trimode.core.errors import ConfigError
from trimode.core.locations import local_files
from trimode.core.metrics import task_for
from trimode.core.project import Project, project_at
from trimode.core.secrets import Secret
from trimode.core.tasks import Task as TaskRules
from trimode.core.writes import Guard


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
# Not a NUL either: no path, column or URL holds one (the OS refuses it in a path).
NAME_PATTERN = r"^[^\x00]*[^\x00\s][^\x00]*$"
Name = Annotated[str, Field(min_length=1, pattern=NAME_PATTERN)]


@dataclass(frozen=True)
class AsSecret:
    """How a key that may hold a credential is read and written: text (not empty when
    `not_empty`) made a Secret, serialized redacted (model_dump and JSON alike)."""

    not_empty: bool = False

    def __get_pydantic_core_schema__(self, _type: Any, _handler: Any) -> core_schema.CoreSchema:
        text = (
            core_schema.str_schema(min_length=1, pattern=NAME_PATTERN) if self.not_empty else None
        )
        return core_schema.no_info_after_validator_function(
            Secret,
            text or core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )


# Text that may hold a credential (a URL with a password, a connection string, a query),
# and one that must not be empty: the code reads it with reveal(), output shows it redacted.
SecretText = Annotated[Secret, AsSecret()]
SecretName = Annotated[Secret, AsSecret(not_empty=True)]
# A list of names that may be empty: columns, features.
Names = Annotated[list[Name], Expect("be a list of names (strings)")]
# A wait on something outside the run (a source's answer): more than no time at all.
Seconds = Annotated[
    float, Field(gt=0, allow_inf_nan=False), Expect("be a number of seconds above 0")
]
# Registry model names: at least one.
Models = Annotated[list[str], Field(min_length=1), Expect("be a non-empty list of strings")]
# Variants per registry model to compare: {"model name": {"parameter": [values]}} (every
# combination), or {"model name": [{"parameter": value}, ...]} (each table one variant).
Variants = Annotated[
    dict[str, dict[str, list[Any]] | list[dict[str, Any]]],
    Expect(
        "be a table of model names to tables of hyper-parameter value lists (or to lists of tables)"
    ),
]
# Hyper-parameters per registry model: {"model name": {"parameter": value}}.
Params = Annotated[
    dict[str, dict[str, Any]],
    Expect("be a table of model names to tables of hyper-parameters"),
]


def _flat_thresholds(value: Any) -> Any:
    """Per-class thresholds as flat keys: TOML reads `recall.dead = 0.3` as a table in the
    table, the same threshold as `"recall.dead" = 0.3`."""
    if not isinstance(value, dict):
        return value
    flat: dict[str, Any] = {}
    for key, bound in value.items():
        if isinstance(bound, dict):
            flat.update({f"{key}.{label}": inner for label, inner in bound.items()})
        else:
            flat[key] = bound
    return flat


# A number per metric name: {"roc_auc": 0.7}; "primary" names the primary metric;
# "<figure>.<class>" one class's precision, recall or f1 ({"recall.dead": 0.3}).
Thresholds = Annotated[
    dict[str, float],
    BeforeValidator(_flat_thresholds),
    Expect("be a table of metric names to finite numbers"),
]
# The decision threshold of a binary classifier: tuned for F1 or for the user's metric
# named "cost" (by cross-validation on the training rows), or a probability; "" for none.
Threshold = Annotated[
    Literal["", "f1", "cost"] | Annotated[float, Field(gt=0, lt=1)],
    Expect("be 'f1', 'cost', a finite number strictly between 0 and 1, or '' (none)"),
]
# What the models predict.
Task = Literal["classification", "regression"]
# What a check of the data contract does when a later load breaks it.
Verdict = Literal["error", "warn"]
# Where parallel work runs: this machine's cores, or a Dask cluster.
Engine = Literal["local", "dask"]
# The formats a sample can also be written in, beside its Parquet file, for spreadsheets
# and scripts (data/spreadsheets.py): CSV, and an Excel workbook.
SampleFormat = Literal["csv", "xlsx"]
SampleFormats = Annotated[
    list[SampleFormat], Expect("be a list of: " + ", ".join(get_args(SampleFormat)))
]


class Section(BaseModel):
    """A table of the config files: typed keys, unknown ones refused. Strict, since TOML
    has real types ("3" stays text), but an integer is a number where one is expected."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class DataConfig(Section):
    """Where the rows come from and how many of them a run uses."""

    target: Name = Field(description="the column to predict (no default)")
    source: SecretName = Field(
        "synthetic",
        validate_default=True,
        description="'synthetic', a file, folder, URL or database",
    )
    table: Text = Field("", description="a database table to read")
    query: SecretText = Field("", validate_default=True, description="or an SQL query to read")
    # The built-in set is generated in batches: a trillion rows would run for days.
    synthetic_rows: Annotated[
        int, Field(ge=1, le=10_000_000), Expect("be from 1 to 10000000 (rows)")
    ] = Field(200_000, description="size of the built-in data set")
    max_rows: Annotated[int, Field(ge=0), Expect("be 0 (all rows) or more")] = Field(
        0, description="a sample of that many rows; 0: every row, from the source"
    )
    stratify: bool = Field(True, description="keep each class's share in the sample")
    batch_rows: int = Field(100_000, ge=1, description="rows read from the source at a time")
    connect_timeout_s: Seconds = Field(
        30, description="seconds a source (URL, database) may take to accept a connection"
    )
    read_timeout_s: Seconds = Field(
        600, description="seconds a source may take to answer a request or a query"
    )
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
    group: Text = Field(
        "", description="a column whose rows belong together: never on both sides of a split"
    )
    time: Text = Field(
        "", description="a date column: the latest rows are held out, folds move forward"
    )
    time_gap_days: Annotated[float, Field(ge=0), Expect("be 0 or a number of days")] = Field(
        0,
        description="days left out between the rows a model learns from and those it is judged on",
    )
    weight: Text = Field(
        "", description="a column of sample weights: not a feature; weighs fits and metrics"
    )


class TrainConfig(Section):
    """Which registry models to train, and the seed that makes runs repeatable."""

    models: Models = Field(["hist_gradient_boosting"], description="registry model names")
    # numpy's and scikit-learn's seeds are 32-bit: a larger one fails deep inside a split.
    seed: Annotated[
        int, Field(ge=0, le=2**32 - 1), Expect("be a whole number from 0 to 4294967295")
    ] = Field(42, description="the seed of every random step")
    params: Params = Field({}, description="hyper-parameters replacing a model's defaults")
    refit_on_all_rows: bool = Field(
        False, description="after evaluation, refit the kept model on every labelled row"
    )
    class_weight: Literal["", "balanced"] = Field(
        "", description="'balanced' weighs classes inversely to their shares (models that can)"
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
    near_leak_threshold: Annotated[float, Field(gt=0, le=1), Expect("lie in (0, 1]")] = Field(
        0.85, description="one feature this predictive alone is named: is it known in time?"
    )
    rare_class_recall: Annotated[float, Field(ge=0, le=1), Expect("lie in [0, 1]")] = Field(
        0.5, description="a class under 10% of the rows recalled less than this is named"
    )
    gate: bool = Field(False, description="refuse to publish a model that fails a check")
    thresholds: Thresholds = Field({}, description="the least acceptable value per metric")
    threshold: Threshold = Field(
        "", description="binary classification's decision threshold: 'f1', 'cost' or a number"
    )


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
    unreadable_date: Verdict = Field("error", description="text in a date column that is no date")


class CompareConfig(Section):
    """Which registry models `compare` evaluates, on how many identical CV folds."""

    models: Models = Field(
        ["random_forest", "hist_gradient_boosting"], description="registry model names"
    )
    cv_folds: int = Field(5, ge=2, description="cross-validation folds, the same for each")
    random_split_beside: bool = Field(
        False,
        description="with columns.group or time, each model's primary metric on random folds too",
    )
    variants: Variants = Field(
        {},
        description="per model, hyper-parameter values to try: a table of lists (every "
        "combination) or a list of tables (one variant each)",
    )
    strategy: Literal["grid", "halving"] = Field(
        "grid",
        description="grid: every variant on every fold; halving: many variants on few rows, "
        "the best on more (successive halving)",
    )
    time_budget_s: float = Field(
        0,
        ge=0,
        description="seconds compare may take: the leaderboard then holds what finished "
        "(0: no limit)",
    )
    learning_curve: bool = Field(
        False, description="fit the leading models on growing shares of the rows, too"
    )


class InspectionConfig(Section):
    """How much of the error analysis the report and notebooks show."""

    min_slice_rows: int = Field(30, ge=1, description="smaller slices are not reported weak")
    top_n: int = Field(10, ge=1, description="weak slices and worst predictions listed")
    # 2,000 rows rank the columns as 10,000 do on real sets (flights: the same five first)
    # in a fifth of the time; the recorded spread says how sure each figure is.
    importance_rows: int = Field(
        2_000,
        ge=1,
        description="held-out rows (at most, drawn at random) importance is measured on",
    )
    importance_repeats: int = Field(
        5,
        ge=0,
        le=100,  # more tells nothing new; a typo's million would run until the budget
        description="times each column is shuffled to measure its importance; 0: not measured",
    )
    partial_dependence_features: int = Field(
        3, ge=0, description="most important features the report plots partial dependence of"
    )


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

    scheduler_address: SecretText = Field(
        "", validate_default=True, description="a scheduler; '' starts a local cluster"
    )
    n_workers: int = Field(0, ge=0, description="workers of that local cluster; 0: one a core")
    threads_per_worker: int = Field(1, ge=1, description="threads of each local worker")


class TrackingConfig(Section):
    """[tracking]: whether and where runs are recorded in MLflow (the `mlflow` extra of
    trimode). Off unless a config file turns it on."""

    enabled: bool = Field(False, description="record compare and train runs in MLflow")
    uri: SecretName = Field(
        "sqlite:///mlruns.db",
        validate_default=True,
        description="an MLflow tracking URI; a relative SQLite file is under the project root",
    )
    experiment: Text = Field(
        "", description="the experiment and registered model; '' the project's name"
    )


class ServeConfig(Section):
    """`serve`: where the production model answers over HTTP, and the limits of a request
    (the `serve` extra of trimode)."""

    host: Name = Field("127.0.0.1", description="the address to listen on (--host)")
    port: int = Field(8000, ge=1, le=65535, description="the port to listen on (--port)")
    max_body_bytes: int = Field(
        5_000_000, ge=1, description="a larger request body is refused (413)"
    )
    max_rows: int = Field(10_000, ge=1, description="rows a request may hold (413 past it)")
    read_timeout_s: Seconds = Field(
        10, description="a request body not received within it is refused (408)"
    )
    reload_interval_s: Annotated[
        float, Field(ge=0, allow_inf_nan=False), Expect("be 0 (never) or a number of seconds")
    ] = Field(2, description="how often a newly published model is looked for; 0: on SIGHUP only")


class OutputsConfig(Section):
    """Where a mode writes its models and metrics."""

    root: Name = Field(description="a folder of the run's own; left out: outputs/<mode>")
    allow_outside_project: bool = Field(
        False,
        description="accept outputs.root, data.sample_dir and a SQLite tracking store outside "
        "the project (never a folder or file it did not make)",
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
    tracking: TrackingConfig
    serve: ServeConfig
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

    @property
    def project(self) -> Project:
        """The project these configs belong to: its root, and where its own code is."""
        return project_at(self.root)

    @property
    def rules(self) -> TaskRules:
        """The task with the metrics this config reports: its own, and the primary metric
        when that is a scikit-learn scorer or one of the user's (core/metrics.py)."""
        return task_for(self.task, self.evaluation.primary_metric, self.root)

    @property
    def output_dir(self) -> Path:
        """The mode's output root (absolute)."""
        return Path(self.outputs.root)

    @property
    def guard(self) -> Guard:
        """The guard of every write of this mode's runs (core/writes.py): the project's
        root, config folder and package, the local data source, outputs.allow_outside_project."""
        sources = local_files(self.data.source.reveal())
        allow_outside = self.outputs.allow_outside_project
        try:
            return Guard.of(self.project, sources, allow_outside)
        except ConfigError:  # configs outside a project (tests of the config alone)
            return Guard(self.root, self.config_dir, None, sources, allow_outside)

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
    "tracking": TrackingConfig,
    "serve": ServeConfig,
    "outputs": OutputsConfig,
}
