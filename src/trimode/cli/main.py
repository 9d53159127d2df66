"""Command line: `trimode COMMAND --mode {test,human,production}` (or the project's own
script name, or `python -m trimode`), run from anywhere inside the project.

Exit statuses: 0 success; 2 a failure: bad input (a missing or invalid config, a
missing column, an unknown model, an artifact that cannot be trusted) or one no check
foresaw, said with the step it stopped (core/steps.py); 3 the quality gate refused the
model (nothing was published); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM,
handled as Ctrl-C is: workers ended, temporaries removed). Errors are one line, with
credentials hidden (core/secrets.py); the traceback, redacted too, is shown only with
--verbose.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from trimode.cli import commands as handlers
from trimode.core.errors import ConfigError, ProjectError, QualityGateFailed
from trimode.core.layout import MODES, VERSION
from trimode.core.secrets import guard_outputs, redact, redacted_traceback
from trimode.core.steps import failed_step, step
from trimode.core.stopping import EXIT_INTERRUPTED, Terminated, end_workers, handling_signals

EXIT_BAD_INPUT = 2
# A failure no check foresaw ends as bad input does: one line, naming the step.
EXIT_FAILURE = EXIT_BAD_INPUT
EXIT_GATE_FAILED = 3
# And for one ended by SIGTERM (128 + 15).
EXIT_TERMINATED = 143
# The exit status of each kind of error: the first kind the error is.
EXIT_STATUSES: tuple[tuple[type[BaseException], int], ...] = (
    (Terminated, EXIT_TERMINATED),
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
    parser.add_argument("--version", action="version", version=f"%(prog)s (trimode {VERSION})")
    add_verbose(parser, default=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = add_command(
        commands,
        "train",
        handlers.run_train,
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
        handlers.run_fetch_sample,
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
        handlers.run_compare,
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
    compare.add_argument(
        "--learning-curve",
        action="store_true",
        default=None,
        help="also fit the two leading models on growing shares of the rows and say whether "
        "more rows would help (sets compare.learning_curve)",
    )
    promote = add_command(
        commands,
        "promote",
        handlers.run_promote,
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
    promote.add_argument(
        "--variant",
        metavar="NAME",
        help="promote this row of --from's leaderboard instead (a variant compare ranked, "
        "e.g. mlp#2, or a model as compared)",
    )
    add_command(
        commands,
        "report",
        handlers.run_report,
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
        handlers.run_predict,
        None,
        help="score a CSV or Parquet file with the production model, in batches",
        description="Stream the input in batches through the model and write its predictions "
        "(and class probabilities for classification) to the output, .csv or .parquet, in the "
        "input's row order. The input's columns are checked against the training schema first: "
        "missing ones are an error, extra ones are ignored. The model's sha256 and types are "
        "checked before it is loaded; an artifact trained in test or human mode is refused "
        "unless --allow-non-production. With compute.engine = 'dask' in the production "
        "config, a Parquet input is scored in parts by the Dask cluster's workers, with the "
        "same checks, and the output is a folder of Parquet files, one per part.",
    )
    predict.add_argument("--input", required=True, help="CSV or Parquet file or folder, or URL")
    predict.add_argument(
        "--output",
        required=True,
        type=Path,
        help="a .csv or .parquet file (a folder, on a Dask cluster)",
    )
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
    serve = add_command(
        commands,
        "serve",
        handlers.run_serve,
        None,
        help="serve the production model over HTTP: /health, /model, POST /predict",
        description="Load the published production model once, with the checks of predict "
        "(its sha256 and types; trained in production mode; through the quality gate), and "
        "answer HTTP requests on [serve] host and port (127.0.0.1:8000 by default) until "
        "stopped: GET /health, GET /model (its summary), POST /predict (JSON rows, as records "
        "or columns; the schema check and data contract of predict), /docs. A newly "
        "published model replaces it once loaded and verified (and on SIGHUP).",
    )
    serve.add_argument(
        "--model",
        type=Path,
        help="model file, or the folder holding it and its manifest.json "
        "(default: the production output root from configs/production.toml)",
    )
    serve.add_argument("--host", help="the address to listen on (default: serve.host)")
    serve.add_argument("--port", type=int, help="the port to listen on (default: serve.port)")
    check = add_command(
        commands,
        "check-secrets",
        handlers.run_check_secrets,
        None,
        help="refuse config files holding a password written out (the commit hook)",
        description="Read each config file given (default: every .toml file of the config "
        "folder) and refuse, with a line per password naming the file, the line and the key, "
        "a URL whose password is written out rather than taken from the environment: the "
        "line says what to write instead, ${env:NAME}, and the variable to set in .env "
        "(git-ignored). The passwords themselves are never printed.",
    )
    check.add_argument("files", nargs="*", type=Path, help="TOML files to check")
    eject = commands.add_parser(
        "eject",
        help="copy the runtime's source into the project, and depend on what it depends on",
        description="For teams that must own every line. Copy the installed runtime's source "
        "(modules and package data) into src/trimode/ and rewrite pyproject.toml: the trimode "
        "requirement becomes the runtime's own requirements and those of the extras the "
        "project used, the [tool.uv.sources] pin goes, src/trimode joins the wheel, and the "
        "trimode script and pytest plugin become the project's. It is one way: updates then "
        "come by hand. Refused, with nothing written, when the project has uncommitted "
        "changes, pins no runtime, or has a file eject would write. Run `uv sync` after it.",
    )
    add_verbose(eject, default=argparse.SUPPRESS)
    eject.add_argument(
        "--dry-run", action="store_true", help="list what eject would do, and write nothing"
    )
    eject.set_defaults(handler=handlers.run_eject)
    return parser


def add_command(
    commands, name: str, handler, modes: Sequence[str] | None, **texts: str
) -> argparse.ArgumentParser:
    """Add a subcommand taking --mode (unless modes is None) and --config-dir, run by
    handler(arguments, config): the mode's config, loaded once for the command (None
    without --mode)."""
    command = commands.add_parser(name, **texts)
    add_verbose(command, default=argparse.SUPPRESS)  # after the command too: train -v
    if modes is not None:
        command.add_argument(
            "--mode", required=True, choices=modes, help="which configuration to use"
        )
    command.add_argument(
        "--config-dir",
        type=Path,
        default=None,
        help="folder holding base.toml and <mode>.toml (default: the configs of the project "
        "around the current folder); relative paths in them are relative to its parent "
        "folder, the project root",
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


def add_verbose(parser: argparse.ArgumentParser, default: object) -> None:
    """-v/--verbose, accepted before the command and after it."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="show the traceback of an error",
    )


def error_lines(error: BaseException) -> list[str]:
    """What an error prints: a line per problem of the configs (a file with three mistakes
    says all three), one line otherwise; any password in a URL hidden."""
    if isinstance(error, KeyboardInterrupt):
        # Whatever the run was writing is left aside (see publish.py); nothing to report.
        return ["terminated" if isinstance(error, Terminated) else "interrupted"]
    text = str(error)
    problems = text.splitlines() if isinstance(error, ConfigError) else [text]
    lines = [redact(" ".join(line.split())) for line in problems if line.strip()]
    if isinstance(error, ProjectError):
        return [f"error: {line}" for line in lines or [type(error).__name__]]
    where = failed_step(error) or "the run"
    if isinstance(error, OSError) and error.strerror:  # a full or read-only disk, a lock
        target = f"{error.filename}: " if error.filename else ""
        return [redact(f"error: {where} failed: {target}{error.strerror}")]
    # What no check foresaw: the step it stopped and what that step read, then the error.
    return [
        f"error: {where} failed: {type(error).__name__}: {' '.join(lines)} (run with "
        "--verbose for the traceback)"
    ]


def command_step(arguments: argparse.Namespace) -> tuple[str, str]:
    """The command as the outermost step of a run, with what it reads: its mode, or
    predict's input."""
    mode = getattr(arguments, "mode", None)
    subject = f"--mode {mode}" if mode else ""
    if getattr(arguments, "input", None):
        subject = f"--input {arguments.input}"
    return arguments.command, subject


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the command, and turn errors into exit statuses."""
    prog = None if Path(sys.argv[0]).name != "__main__.py" else "python -m trimode"
    guard_outputs()  # what is printed, logged or warned redacted, usage errors included
    arguments = build_parser(prog).parse_args(argv)
    try:
        with handling_signals(), step(*command_step(arguments)):
            config = handlers.mode_config(arguments) if getattr(arguments, "mode", None) else None
            return arguments.handler(arguments, config)
    except (KeyboardInterrupt, Exception) as error:
        if isinstance(error, KeyboardInterrupt):
            end_workers()  # a stopped run leaves no worker behind
        # --verbose: the traceback, redacted as every output is, then the same one line.
        if arguments.verbose:
            print(redacted_traceback(error), file=sys.stderr, end="")
        print("\n".join(error_lines(error)), file=sys.stderr)
        return next(status for kind, status in EXIT_STATUSES if isinstance(error, kind))
