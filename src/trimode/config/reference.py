"""The configuration reference, rendered from the config model (model.py): every key with
its type, default, allowed values and description, then the longer notes below.

A generated project's docs/configuration.md is this text (without [tracking] when the
project was made without MLflow); the template's tests check that the committed page is
what render_reference() returns, and `uv run python tests/runtime/test_reference.py`
rewrites it. In a project, `python -m trimode.config.reference` prints the page.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Collection
from typing import Any, Literal, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from trimode.config.model import SECTIONS, Expect, Secret, Settings
from trimode.core.tasks import TASKS

# Defaults the loader fills in rather than the model (loading.py's _build).
LOADER_DEFAULTS = {"outputs.root": "outputs/<mode>"}


def _metrics(task: str, better: bool) -> str:
    """The task's metrics where greater is better (better=True) or smaller is."""
    names = [metric.name for metric in TASKS[task].metrics if metric.greater_is_better == better]
    return ", ".join(f"`{name}`" for name in names)


INTRO = f"""\
# Configuration reference

Every key a mode's configuration can hold, generated from trimode's config model
(`trimode/config/model.py`); regenerate rather than edit it (see the end of this page).

**How the files combine.** A run of mode `<mode>` reads `configs/base.toml`, then
`configs/<mode>.toml`, whose keys replace base's one by one (a table such as `[data]`
is merged key by key, not replaced whole), then each `--set KEY=VALUE` of the command
line (a TOML value, else text: `--set data.max_rows=1000 --set compare.cv_folds=3`). A key
no file sets takes the default below; `task` and `data.target` have none. The merged
result is checked as a whole before anything runs, and every mistake is one line
naming the file and the key, e.g.
`error: configs/test.toml: key 'data.max_rows' must be 0 (all rows) or more, got -5`
(exit status 2). Unknown keys are refused. Types are TOML's own: `"3000"` is a string,
not a number, `3000.0` is no row count, and an integer is accepted where a number is.

**Relative paths** (`data.source`, `data.sample_dir`, `outputs.root`, a SQLite file in
a URL) are relative to the project root, the folder of `pyproject.toml`, whatever folder
a command, a notebook or a test runs from.

**Passwords** do not belong in a committed file: write `${{env:NAME}}` where one goes
(`postgresql+psycopg://user:${{env:DB_PASSWORD}}@host/db`) and the value comes from the
environment, else from `.env` at the project root (git-ignored; copy `.env.example`,
which lists the variables). A variable set in neither is one error naming it. The
commit hook (`trimode check-secrets`) refuses a config holding a password written out
in a URL, naming the file, line and key and the line to write instead, and `train`
warns of one. A URL's password is hidden in every line and file a run writes.

Metrics by task (for `evaluation.primary_metric` and `evaluation.thresholds`):
classification: {_metrics("classification", True)} (greater is better),
{_metrics("classification", False)} (smaller is better); regression:
{_metrics("regression", True)} (greater is better), {_metrics("regression", False)}
(smaller is better). The primary metric may also be any scikit-learn scorer name
(`sklearn.metrics.get_scorer_names()`; a `neg_` scorer is reported unsigned, smaller
better) or one of your own: a scorer in `METRICS` of the module `[tool.trimode] metrics`
names (`src/<package>/metrics.py`, e.g. the template's `cost`).
"""

OUTRO = """\
## Regenerating this page

This page is rendered by `trimode.config.reference` from the model the runtime checks
your configs against, so it matches the trimode version this project depends on. After
updating trimode, regenerate it:

```bash
uv run python -m trimode.config.reference > docs/configuration.md
```
"""

# Longer notes on a key ("data.source") or a whole table ("contract"), below its table.
NOTES: dict[str, str] = {
    "data": "Test and human mode normally read a local sample (`data.max_rows` above 0); "
    "production reads every row from the source on each run.",
    "data.source": "`synthetic` is the data set built into trimode (customers of a "
    "subscription service: numeric and categorical columns, missing values, a learnable "
    "target), deterministic and offline. Otherwise a CSV or Parquet file or folder of "
    "files, as a path or an fsspec URL (`https://...` with the project's `http` extra: "
    "`uv sync --extra http`; `s3://...` once `s3fs` is installed), or a database as a "
    "SQLAlchemy URL with `table` or `query` (`sqlite:///data/shop.db` works as it is; "
    "`postgresql+psycopg://user@host/db` with the `postgres` extra).",
    "data.max_rows": "Above 0, a run uses a uniform random sample of that many rows, "
    "fetched once into `<sample_dir>/<mode>/` (`fetch-sample`, or the first run) and "
    "fetched again when the source's fingerprint or the sampling settings change. The "
    "sample is deterministic: each row's key is a hash of its content and the seed, and "
    "the sample keeps the smallest keys (per class when `stratify`).",
    "data.batch_rows": "A fetch holds the sample plus one batch in memory, never the whole source.",
    "data.sample_formats": "`csv` writes `<sample_dir>/<mode>/sample.csv`, `xlsx` "
    "`sample.xlsx` (a sheet of the rows, one that summarises each column; needs the "
    "`excel` extra of trimode). `fetch-sample --also csv,xlsx` makes them once. The "
    "pipeline reads only the Parquet file.",
    "columns": "A run names the columns that look like IDs, dates written as text or free "
    "text, with the line to add here. Columns not listed are numeric features when they "
    "hold numbers, categorical otherwise; date-typed columns are dates without a listing.",
    "columns.drop": "For columns known only after the outcome, or that the model must not use.",
    "columns.ids": "Listed beside the worst predictions in the report; `predict --keep` "
    "copies them into the output.",
    "columns.dates": "Also text such as `2024-03-01` or `03/01/2024`: each becomes year, "
    "month, day, day of the week and days since 1970.",
    "columns.text": "Each becomes TF-IDF features of its `text_max_features` most frequent words.",
    "columns.group": "One column (a customer, patient, store or device ID): the hold-out, "
    "`compare`'s and the search's folds and the test and human samples keep each group's "
    "rows together, and the column is no feature. The manifest and the report say how the "
    "rows were split.",
    "columns.time": "One date or timestamp column: the latest `test_fraction` of rows are "
    "held out, cross-validation folds learn from earlier rows than they are scored on, and "
    "the column's parts stay features as `dates` make them. Set `group` or `time`, not both.",
    "train.models": "Names in the registry (`models.py`, found through `[tool.trimode]` "
    "in `pyproject.toml`). With more than one, the best by cross-validation on the "
    "training rows is kept: the model `compare` ranks first.",
    "train.params": "One table per model, checked against the estimator when the config "
    "loads, e.g. `[train.params.hist_gradient_boosting]` then `learning_rate = 0.05`. "
    "`promote` writes the values human mode's model used that differ from the registry's.",
    "train.refit_on_all_rows": "The published model then learned from more rows, but is "
    "not exactly the model whose metrics the run reports.",
    "search": "The search space is the registry entry's `search_space`; the search runs by "
    "cross-validation on the training rows, and the held-out rows still judge the result.",
    "evaluation.primary_metric": "The metric that picks the best model and is compared "
    "with the dummy baseline (see the metrics by task above), in compare, train, the "
    "gate, the report and tracking alike.",
    "evaluation.threshold": "Binary classification only: the probability of the second "
    "class (sorted) from which it is predicted. `f1` or `cost` (your metric named `cost`) "
    "is tuned by cross-validation on the training rows (`search.cv_folds` folds); the "
    "manifest records it, and predict and the report apply it.",
    "train.class_weight": "For imbalanced classes; a model without a `class_weight` "
    "hyper-parameter is named in one warning and trained unweighted.",
    "evaluation.min_lift_over_baseline": "In the metric's own units, in the direction "
    "that is better. It must be above 0, and thresholds must lie above what a constant "
    "model scores (roc_auc 0.5, r2 0), so that a slip cannot switch the guard off.",
    "evaluation.allow_no_lift": "Only to accept on purpose a model no better than the "
    "baseline: the tests and the gate then pass a constant model.",
    "evaluation.leakage_threshold": "The tests fail when one feature alone reaches this "
    "ROC AUC (classification) or R² on the target's ranks (regression): usually a leak "
    "(an ID, a timestamp after the fact, the target in disguise).",
    "evaluation.leakage_allow": "Features known when predicting that really are that "
    "strong; the failing test prints the line to write, e.g. "
    '`leakage_allow = ["worst perimeter"]`.',
    "evaluation.gate": "When true (production), a model that does not beat the baseline by "
    "`min_lift_over_baseline` or misses a threshold publishes nothing: the run exits with "
    "status 3 and the previous outputs stay. Test and human mode keep a failing model, so "
    "that the tests and the report can show why it fails.",
    "evaluation.near_leak_threshold": "Every run names, as a warning, the features that "
    "alone reach this score (the leakage check's) and are not in `leakage_allow`, asking "
    "whether each is known when you predict (a delay measured before the outcome is; one "
    "measured after it is a leak).",
    "evaluation.rare_class_recall": "A class holding under 10% of the held-out rows whose "
    "recall is below this is named in the run's warnings, the report and the manifest "
    "(`findings`), whatever the primary metric says; 0 names none.",
    "evaluation.thresholds": "The most, for a metric where smaller is better. The key "
    "`primary` means the primary metric, whichever it is, e.g. `{ primary = 0.7, "
    "balanced_accuracy = 0.6 }`. A class's precision, recall or F1 on the held-out rows "
    'is `"recall.<class>"`, e.g. `"recall.dead" = 0.3` (or `recall.dead = 0.3`); a class '
    "the target does not hold stops the run before fitting.",
    "contract": "At a mode's first load (its first sample, or production's first run) the "
    "columns, their kinds, missing values, ranges and categories (for columns of at most "
    "50 distinct values) are recorded in `<sample_dir>/<mode>/contract.json` and in the "
    "manifest; every later load, and `predict`, is checked against it. `error` stops the "
    "run naming the column, the rows and an example value; `warn` says so and goes on. To "
    "accept data that changed for good, delete that `contract.json`: the next load records "
    "a new one.",
    "compare": "`compare` cross-validates these models and the dummy baseline on identical "
    "folds of the training rows (never the rows `train` holds out).",
    "data.connect_timeout_s": "Past it, a run that needs the source stops with one line "
    "naming it; a run that only checks whether its sample is current goes on with that "
    "sample, with a warning. Test mode sets a short one: a commit never waits on the source.",
    "data.read_timeout_s": "How long one request to a URL, or one query, may go unanswered "
    "(also the statement timeout on PostgreSQL and the read timeout on MySQL).",
    "compute.n_jobs": "On a machine other jobs share, busy OpenMP threads waiting for a "
    "core can slow gradient boosting down many times over: set it to the cores the run "
    "may really have.",
    "compute.time_budget_s": "Past it the run fails, naming the slowest step. Test mode "
    "sets one: it runs on every commit.",
    "compute.engine": "`dask` sends scikit-learn's parallel work (search candidates, "
    "cross-validation folds, a forest's trees) to a Dask cluster and reads CSV or Parquet "
    "sources in partitions; in production's config, `predict` then scores a Parquet input "
    "in parts on the cluster's workers and writes a folder of Parquet files. It needs the "
    "project's `dask` extra (`uv sync --extra dask`).",
    "dask.scheduler_address": "An existing cluster's scheduler, e.g. "
    '`"tcp://10.0.0.5:8786"`, whose workers have this project installed and can read the '
    "source. Empty: the run starts a local cluster and stops it when it ends.",
    "tracking": "Needs trimode's `mlflow` extra. `compare` is one parent run with a child "
    "run per model; `train` records its parameters, metrics, baseline, manifest and "
    "report, and a production model that passes the gate is registered in MLflow's model "
    "registry. Tracking never fails a run: a store that cannot be reached is one line, "
    "and the run goes on.",
    "tracking.uri": "A SQLite file keeps its artifacts beside it in `mlruns/`; a team's "
    'server is a URL, e.g. `"http://mlflow.example.com:5000"`.',
    "outputs.root": "A run replaces its folder whole, so it must lie inside the project, "
    "apart from `configs/`, `src/`, `notebooks/`, `tests/`, `data/`, `docs/`, `.git` and "
    "`.github`, and a folder the project did not make (it holds `.trimode-output.json`) is never "
    "replaced.",
}


def render_reference(leave_out: Collection[str] = ()) -> str:
    """The Markdown of the configuration reference: every key of the config model with
    its type, default, allowed values and description, and the notes above. `leave_out`
    names tables to leave out (a template leaves out [tracking] for a project made
    without MLflow)."""
    top = {name: field for name, field in Settings.model_fields.items() if name not in SECTIONS}
    parts = [INTRO, _table("Top level", "", top, "")]
    for name, section in SECTIONS.items():
        if name not in leave_out:
            parts.append(_table(f"[{name}]", _docstring(section), section.model_fields, name))
    parts.append(OUTRO)
    return "\n".join(parts)


def _docstring(section: type[BaseModel]) -> str:
    """A section's docstring as one paragraph."""
    return " ".join((section.__doc__ or "").split())


def _table(title: str, summary: str, fields: dict[str, FieldInfo], section: str) -> str:
    """One table of keys, with its summary before and its notes after."""
    lines = [f"## {title}", ""]
    if summary:
        lines += [_wrap(summary), ""]
    if section in NOTES:
        lines += [_wrap(NOTES[section]), ""]
    lines += ["| key | type | default | allowed | what it is |", "| --- | --- | --- | --- | --- |"]
    notes = []
    for name, field in fields.items():
        key = f"{section}.{name}" if section else name
        cells = [f"`{name}`", _type(field.annotation), _default(key, field), _allowed(field)]
        lines.append("| " + " | ".join([*cells, _cell(field.description or "")]) + " |")
        if key in NOTES:
            notes.append(_wrap(f"- `{key}`: {NOTES[key]}", indent="  "))
    lines.append("")
    if notes:
        lines += [*notes, ""]
    return "\n".join(lines)


def _type(annotation: Any) -> str:
    """A field's type in TOML's words."""
    origin = get_origin(annotation)
    if origin is Literal:
        return "string"
    if origin is list:
        return f"list of {_type(get_args(annotation)[0])}s"
    if origin is dict:
        value = get_args(annotation)[1]
        return "table of tables" if get_origin(value) is dict else f"table of {_type(value)}s"
    if get_args(annotation):  # Annotated[str, ...] inside a list
        return _type(get_args(annotation)[0])
    names = {bool: "boolean", int: "integer", float: "number", str: "string", Secret: "string"}
    return names.get(annotation, "value")


def _default(key: str, field: FieldInfo) -> str:
    """A field's default as TOML writes it, or what the loader puts in its place."""
    if key in LOADER_DEFAULTS:
        return f"`{LOADER_DEFAULTS[key]}`"
    if field.default is PydanticUndefined:
        return "none: required"
    return f"`{_toml(field.default)}`"


def _toml(value: Any) -> str:
    """A default value in TOML syntax."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:_}"
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    if isinstance(value, dict):
        return "{}" if not value else "{ ... }"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


# Verbs an error's words start with ("must be ...", "must lie ..."), left out in the table.
VERBS = ("be ", "lie ")


def _allowed(field: FieldInfo) -> str:
    """What a field accepts: its error words, its allowed values, or its bounds."""
    metadata = field.metadata
    expect = next((item.words for item in metadata if isinstance(item, Expect)), None)
    if expect is not None:
        return _cell(next((expect[len(v) :] for v in VERBS if expect.startswith(v)), expect))
    if get_origin(field.annotation) is Literal:
        return ", ".join(f"`{json.dumps(value)}`" for value in get_args(field.annotation))
    symbols = {Ge: ("≥", "ge"), Gt: (">", "gt"), Le: ("≤", "le"), Lt: ("<", "lt")}
    bounds = [
        f"{symbol} {getattr(item, name)}"
        for item in metadata
        for kind, (symbol, name) in symbols.items()
        if isinstance(item, kind)
    ]
    if bounds:
        return _cell(" and ".join(bounds))
    if any(isinstance(item, MinLen) or getattr(item, "not_empty", False) for item in metadata):
        return "not empty"
    return "any"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (no column break, no HTML tag)."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _wrap(text: str, indent: str = "") -> str:
    """A paragraph or list item wrapped at 88 characters, code spans kept whole."""
    return textwrap.fill(
        text, 88, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )


if __name__ == "__main__":
    print(render_reference(), end="")
