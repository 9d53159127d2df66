"""Command line: `python -m {{ cookiecutter.package_name }} train --mode {test,human,production}`.

Bad input (a missing or invalid config, a missing target column, an unknown
model) ends the command with a one-line reason and a non-zero exit status; the
traceback is shown only with --verbose.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import MODES
from .errors import ProjectError

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


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

    train = commands.add_parser(
        "train",
        help="train and evaluate the mode's models, write outputs/<mode>/",
        description="Load the mode's data, fit its models, evaluate the best against a "
        "dummy baseline, and write the model and metrics.json under the mode's output root.",
    )
    train.add_argument("--mode", required=True, choices=MODES, help="which configuration to run")
    train.add_argument(
        "--model",
        metavar="NAME",
        help="train this registry model instead of the ones the config names",
    )
    train.add_argument(
        "--config-dir",
        type=Path,
        default=Path("configs"),
        help="folder holding base.toml and <mode>.toml (default: configs)",
    )
    train.set_defaults(handler=run_train)
    return parser


def run_train(arguments: argparse.Namespace) -> int:
    """Train in the chosen mode and print a summary of the result."""
    from .config import load_config
    from .models import model_names
    from .pipeline import train

    config = load_config(arguments.mode, arguments.config_dir)
    models = None
    if arguments.model is not None:
        if arguments.model not in model_names(config.task):
            raise ProjectError(
                f"--model: unknown model {arguments.model!r} for task {config.task} "
                f"(expected one of: {', '.join(model_names(config.task))})"
            )
        models = [arguments.model]
    result = train(config, models=models)
    record = result.record
    primary = record["primary_metric"]
    verdict = "beats" if record["beats_baseline"] else "does NOT beat"
    print(
        f"[{record['mode']}] {record['model']} on {record['n_rows']} rows in "
        f"{record['duration_s']:.1f}s: {primary} {record['metrics'][primary]:.4f}, dummy baseline "
        f"{record['baseline'][primary]:.4f}; {verdict} it by the required "
        f"{record['min_lift_over_baseline']} (lift {record['lift_over_baseline']:.4f})"
    )
    print(f"steps: {result.timer.summary()}")
    print(f"outputs: {result.output_dir}/")
    return 0


def one_line(error: BaseException) -> str:
    """The error's message with its line breaks folded, for a one-line reason."""
    return " ".join(str(error).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the command, and turn errors into exit statuses."""
    prog = None if Path(sys.argv[0]).name != "__main__.py" else "python -m {{ cookiecutter.package_name }}"
    arguments = build_parser(prog).parse_args(argv)
    try:
        return arguments.handler(arguments)
    except ProjectError as error:
        if arguments.verbose:
            raise
        print(f"error: {one_line(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:
        if arguments.verbose:
            raise
        print(
            f"error: {type(error).__name__}: {one_line(error)} "
            "(run with --verbose for the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILURE
