"""Command line: `python -m {{ cookiecutter.package_name }} COMMAND --mode {test,human,production}`.

Exit statuses: 0 success; 1 an unexpected failure; 2 bad input (a missing or
invalid config, a missing column, an unknown model, an artifact that cannot be
trusted); 3 the quality gate refused the model (nothing was published); 130
interrupted (Ctrl-C). Errors are one line, with any password in a URL hidden; the
traceback is shown only with --verbose.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..ingest.locations import redact
from .modes import MODES

if TYPE_CHECKING:  # the config model imports pydantic, which --help does not need
    from .config import Config
from .errors import ConfigError, ProjectError, QualityGateFailed

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_GATE_FAILED = 3
# What a shell reports for a process ended by SIGINT (128 + 2).
EXIT_INTERRUPTED = 130
# The exit status of each kind of error: the first kind the error is.
EXIT_STATUSES: tuple[tuple[type[BaseException], int], ...] = (
    (KeyboardInterrupt, EXIT_INTERRUPTED),
    (QualityGateFailed, EXIT_GATE_FAILED),
    (ProjectError, EXIT_BAD_INPUT),
    (Exception, EXIT_FAILURE),
)


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, pointing at --help."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"error: {self.prog}: {message} (see --help)\n")


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = OneLineErrorParser(
        prog=prog,
        description="One pipeline, three modes: test (seconds, on every commit), "
        "human (a local sample, to inspect and compare), production (all the data, "
        "the model that ships).",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show the traceback of an error"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = add_command(
        commands,
        "train",
        run_train,
        MODES,
        help="train and evaluate the mode's models, write outputs/<mode>/",
        description="Load the mode's data (its local sample in test and human mode, every "
        "row in production), fit its models, evaluate the best against a dummy baseline, "
        "and write the model, its record (manifest.json; metrics.json holds its results) "
        "and its model card under the mode's output root.",
    )
    train.add_argument(
        "--model",
        metavar="NAME",
        help="train this registry model instead of the ones the config names",
    )
    fetch = add_command(
        commands,
        "fetch-sample",
        run_fetch_sample,
        ("test", "human"),
        help="stream a sample of the source into data/<mode>/",
        description="Stream the configured source in batches and keep a deterministic, "
        "uniform sample of data.max_rows rows (stratified by the target when data.stratify) "
        "as data/<mode>/sample.parquet, with sample.meta.json beside it, and copies of it "
        "as sample.csv and sample.xlsx when data.sample_formats or --also asks. Reports "
        "columns added, removed or retyped since the last fetch.",
    )
    fetch.add_argument(
        "--also",
        metavar="FORMATS",
        help="also write the sample in these formats beside the Parquet file: csv, xlsx, or "
        "csv,xlsx (instead of data.sample_formats; '' writes none)",
    )
    compare = add_command(
        commands,
        "compare",
        run_compare,
        MODES,
        help="cross-validate several models side by side, write a leaderboard",
        description="Load the mode's data, cross-validate the chosen registry models and the "
        "dummy baseline on identical folds (in parallel across the mode's cores), print the "
        "leaderboard (mean ± std of every metric, fit and score times, best first) and write "
        "it as leaderboard.csv and leaderboard.json under the mode's output root.",
    )
    compare.add_argument(
        "--models",
        metavar="A,B,C",
        help="comma-separated registry models to compare instead of those in compare.models",
    )
    promote = add_command(
        commands,
        "promote",
        run_promote,
        None,
        help="write the model a mode chose, and its hyper-parameters, into production.toml",
        description="Read the manifest of the last run of --from (human mode by default) and "
        "write its model into train.models of configs/<--to>.toml, with the hyper-parameters "
        "that differ from the registry's defaults as [train.params.<model>]. The file keeps "
        "its comments; it is checked by loading it, and left as it was if that fails.",
    )
    promote.add_argument(
        "--from", dest="source_mode", default="human", choices=MODES, help="default: human"
    )
    promote.add_argument(
        "--to", dest="target_mode", default="production", choices=MODES, help="default: production"
    )
    add_command(
        commands,
        "report",
        run_report,
        MODES,
        help="write outputs/<mode>/report.html: metrics, leaderboard, data, errors",
        description="Load the mode's saved model and its manifest.json, recompute its held-out "
        "rows, and write one self-contained HTML file (plots embedded, opens offline): the "
        "metrics against the dummy baseline, the leaderboard if `compare` ran, a summary of "
        "the data, and the error analysis (confusion matrix or residuals, which features set "
        "false positives and false negatives apart, worst slices, worst predictions).",
    )
    predict = add_command(
        commands,
        "predict",
        run_predict,
        None,
        help="score a CSV or Parquet file with the production model, in batches",
        description="Stream the input in batches through the model and write its predictions "
        "(and class probabilities for classification) to the output, .csv or .parquet, in the "
        "input's row order. The input's columns are checked against the training schema first: "
        "missing ones are an error, extra ones are ignored. The model's sha256 and types are "
        "checked before it is loaded; an artifact trained in test or human mode is refused "
        "unless --allow-non-production.",
    )
    predict.add_argument("--input", required=True, help="CSV or Parquet file or folder, or URL")
    predict.add_argument("--output", required=True, type=Path, help="a .csv or .parquet file")
    predict.add_argument(
        "--model",
        type=Path,
        help="model file, or the folder holding it and its manifest.json "
        "(default: the production output root from configs/production.toml)",
    )
    predict.add_argument(
        "--allow-non-production",
        action="store_true",
        help="accept a model trained in test or human mode",
    )
    predict.add_argument(
        "--keep",
        metavar="A,B",
        default="",
        help="input columns to copy into the output beside the predictions (e.g. an ID)",
    )
    predict.add_argument(
        "--batch-rows", type=int, default=100_000, help="rows scored at a time (default 100000)"
    )
    return parser


def add_command(
    commands, name: str, handler, modes: Sequence[str] | None, **texts: str
) -> argparse.ArgumentParser:
    """Add a subcommand taking --mode (unless modes is None) and --config-dir, run by
    handler(arguments, config): the mode's config, loaded once for the command (None
    without --mode)."""
    command = commands.add_parser(name, **texts)
    if modes is not None:
        command.add_argument(
            "--mode", required=True, choices=modes, help="which configuration to use"
        )
    command.add_argument(
        "--config-dir",
        type=Path,
        default=Path("configs"),
        help="folder holding base.toml and <mode>.toml (default: configs); relative paths "
        "in them are relative to its parent folder, the project root",
    )
    if modes is not None:
        command.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config key for this run, e.g. --set data.max_rows=1000 "
            "(a TOML value; repeat for several keys)",
        )
    command.set_defaults(handler=handler)
    return command


def parse_set(items: list[str]) -> dict[str, object]:
    """--set KEY=VALUE items as {key: value}; the value is read as TOML, else as text."""
    import tomllib

    overrides: dict[str, object] = {}
    for item in items:
        key, separator, text = item.partition("=")
        if not separator or not key.strip():
            raise ProjectError(f"--set {item!r}: expected KEY=VALUE, e.g. data.max_rows=1000")
        try:
            value = tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            value = text
        overrides[key.strip()] = value
    return overrides


def mode_config(arguments: argparse.Namespace, mode: str | None = None) -> Config:
    """The config of the command's mode, with its --set overrides and the settings of its
    other options, all checked as the config files are. fetch-sample, which reads data
    only, is spared the registries' checks (and scikit-learn's import)."""
    from .config import load_config

    return load_config(
        mode or arguments.mode,
        arguments.config_dir,
        parse_set(getattr(arguments, "overrides", [])),
        options=command_options(arguments),
        registries=arguments.command != "fetch-sample",
    )


def command_options(arguments: argparse.Namespace) -> dict[str, dict[str, object]]:
    """What train --model, compare --models and fetch-sample --also set, as config
    settings named by the option: the config checks them like any other."""
    if arguments.command == "train" and arguments.model is not None:
        return {"--model": {"train.models": [arguments.model]}}
    if arguments.command == "compare" and arguments.models is not None:
        return {"--models": {"compare.models": listed(arguments.models)}}
    if arguments.command == "fetch-sample" and arguments.also is not None:
        return {"--also": {"data.sample_formats": listed(arguments.also)}}
    return {}


def listed(text: str) -> list[str]:
    """The names of a comma-separated option, "a, b" -> ["a", "b"]."""
    return [name.strip() for name in text.split(",") if name.strip()]


def print_notes(notes: Sequence[str], warnings: Sequence[str] = ()) -> None:
    """Print what the run noted and warned about, one line each, on the error stream."""
    for note in notes:
        print(f"note: {redact(note)}", file=sys.stderr)
    for warning in warnings:
        print(f"warning: {redact(warning)}", file=sys.stderr)


def run_train(arguments: argparse.Namespace, config: Config) -> int:
    """Train in the chosen mode and print a summary of the result."""
    from ..modelling.pipeline import train

    result = train(config)
    if result.fetched is not None:
        print_fetch(result.fetched)
    print_notes(result.notes, result.warnings)
    record = result.manifest
    primary = record["primary_metric"]
    verdict = "beats" if record["beats_baseline"] else "does NOT beat"
    print(
        f"[{record['mode']}] {record['model']} on {record['data']['rows']} rows in "
        f"{record['duration_s']:.1f}s: {primary} {record['metrics'][primary]:.4f}, dummy baseline "
        f"{record['baseline'][primary]:.4f}; {verdict} it by the required "
        f"{record['min_lift_over_baseline']} (lift {record['lift_over_baseline']:.4f})"
    )
    gate = record["gate"]
    if gate["enforced"]:
        checks = "; ".join(
            f"{check['check']} {check['value']:.4g} {check['required']}" for check in gate["checks"]
        )
        print(f"quality gate passed: {checks}")
    print(f"steps: {result.timer.summary()}")
    print(f"outputs: {shown(result.output_dir)}/")
    return 0


def run_fetch_sample(arguments: argparse.Namespace, config: Config) -> int:
    """Fetch the mode's sample and say what was kept and what changed."""
    from ..ingest.sampling import fetch_sample

    fetched = fetch_sample(config)
    print_fetch(fetched)
    print_notes(fetched.notes, fetched.warnings)
    return 0


def run_compare(arguments: argparse.Namespace, config: Config) -> int:
    """Compare models in the chosen mode; print the leaderboard and where it was saved."""
    from ..modelling.compare import compare, print_leaderboard

    leaderboard, paths = compare(config)
    print_notes(leaderboard.notes)
    print_leaderboard(leaderboard)
    print(f"outputs: {', '.join(map(shown, paths))}")
    return 0


def run_report(arguments: argparse.Namespace, config: Config) -> int:
    """Write the mode's HTML report and print its path."""
    from ..reporting.report import build_report

    print(shown(build_report(config)))
    return 0


def run_promote(arguments: argparse.Namespace, config: None) -> int:
    """Write the chosen model into the target mode's config; say what was written."""
    from ..publishing.promote import promote

    promotion = promote(arguments.config_dir, arguments.source_mode, arguments.target_mode)
    params = ", ".join(f"{key} = {value!r}" for key, value in promotion.params.items())
    print(
        f"{promotion.path}: train.models = [{promotion.model!r}] (from {promotion.source_mode} "
        f"mode), [train.params.{promotion.model}]: {params or 'the registry defaults'}"
    )
    return 0


def run_predict(arguments: argparse.Namespace, config: None) -> int:
    """Score the input file with the model; say how many rows went where."""
    from ..publishing.predict import predict_file

    if arguments.batch_rows < 1:
        raise ProjectError(f"--batch-rows must be at least 1, got {arguments.batch_rows}")
    model = arguments.model
    if model is None:
        model = mode_config(arguments, "production").output_dir
    keep = tuple(name.strip() for name in arguments.keep.split(",") if name.strip())
    result = predict_file(
        arguments.input,
        arguments.output,
        model,
        allow_non_production=arguments.allow_non_production,
        batch_rows=arguments.batch_rows,
        keep=keep,
    )
    if result.ignored_columns:
        print(
            f"note: ignored input column(s) the model does not use: "
            f"{', '.join(result.ignored_columns)}",
            file=sys.stderr,
        )
    print_notes([], result.warnings)
    manifest = result.manifest
    print(
        f"predicted {result.rows:,} rows with {result.model} ({manifest['model']}, "
        f"{manifest['mode']} mode, trained {manifest.get('finished_at')}) -> {result.output}"
    )
    return 0


def print_fetch(fetched) -> None:
    """Say what a fetch kept, where it went, and how the source's schema drifted."""
    meta = fetched.meta
    how = "stratified by the target, " if meta["stratify"] else ""
    why = f" ({fetched.reason})" if fetched.reason else ""
    print(
        f"sample{why}: {meta['rows_kept']:,} of {meta['rows_seen']:,} rows from "
        f"{meta['source_description']}; {how}seed {meta['seed']} -> {shown(fetched.path)}"
    )
    copies = [
        shown(fetched.path.with_name(entry["file"])) for entry in meta.get("copies", {}).values()
    ]
    if copies:
        print(f"copies for spreadsheets and scripts: {', '.join(copies)}")
    if fetched.drift:
        drift = fetched.drift.describe()
        print(f"warning: the source's columns changed since the last fetch: {drift}")


def shown(path: Path) -> str:
    """A path as a user reads it: relative to the current folder when inside it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def error_lines(error: BaseException) -> list[str]:
    """What an error prints: a line per problem of the configs (a file with three mistakes
    says all three), one line otherwise; any password in a URL hidden."""
    if isinstance(error, KeyboardInterrupt):
        # Whatever the run was writing is left aside (see publish.py); nothing to report.
        return ["interrupted"]
    text = str(error)
    problems = text.splitlines() if isinstance(error, ConfigError) else [text]
    lines = [redact(" ".join(line.split())) for line in problems if line.strip()]
    if isinstance(error, ProjectError):
        return [f"error: {line}" for line in lines or [type(error).__name__]]
    return [
        f"error: {type(error).__name__}: {' '.join(lines)} (run with --verbose for the traceback)"
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the command, and turn errors into exit statuses."""
    prog = None if Path(sys.argv[0]).name != "__main__.py" else "python -m {{ cookiecutter.package_name }}"
    arguments = build_parser(prog).parse_args(argv)
    try:
        config = mode_config(arguments) if getattr(arguments, "mode", None) else None
        return arguments.handler(arguments, config)
    except (KeyboardInterrupt, Exception) as error:
        if arguments.verbose:
            raise
        print("\n".join(error_lines(error)), file=sys.stderr)
        return next(status for kind, status in EXIT_STATUSES if isinstance(error, kind))
