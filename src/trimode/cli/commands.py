"""What each command does once its arguments are read: call its workflow, print what
came of it. A handler takes the parsed arguments and the mode's config (None for a
command without --mode) and returns the exit status."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trimode.cli.printing import print_fetch, print_leaderboard, print_notes, shown
from trimode.core.errors import ProjectError
from trimode.core.stopping import EXIT_INTERRUPTED

if TYPE_CHECKING:  # the config model imports pydantic, which --help does not need
    from trimode.config.model import Config


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
        except RecursionError:
            raise ProjectError(f"--set {key.strip()}: arrays or tables nest too deeply") from None
        overrides[key.strip()] = value
    return overrides


def mode_config(arguments: argparse.Namespace, mode: str | None = None) -> Config:
    """The config of the command's mode, with its --set overrides and the settings of its
    other options, all checked as the config files are. fetch-sample, which reads data
    only, is spared the registries' checks (and scikit-learn's import)."""
    from trimode.workflows.session import load_config

    return load_config(
        mode or arguments.mode,
        arguments.config_dir,
        parse_set(getattr(arguments, "overrides", [])),
        options=command_options(arguments),
        registry=arguments.command != "fetch-sample",
    )


def command_options(arguments: argparse.Namespace) -> dict[str, dict[str, object]]:
    """What train --model, compare --models and fetch-sample --also set, as config
    settings named by the option: the config checks them like any other."""
    if arguments.command == "train" and arguments.model is not None:
        return {"--model": {"train.models": [arguments.model]}}
    if arguments.command == "compare":
        options: dict[str, dict[str, object]] = {}
        if arguments.models is not None:
            options["--models"] = {"compare.models": listed(arguments.models)}
        if arguments.learning_curve:
            options["--learning-curve"] = {"compare.learning_curve": True}
        return options
    if arguments.command == "fetch-sample" and arguments.also is not None:
        return {"--also": {"data.sample_formats": listed(arguments.also)}}
    return {}


def listed(text: str) -> list[str]:
    """The names of a comma-separated option, "a, b" -> ["a", "b"]."""
    return [name.strip() for name in text.split(",") if name.strip()]


def run_train(arguments: argparse.Namespace, config: Config) -> int:
    """Train in the chosen mode and print a summary of the result."""
    from trimode.modelling.splitting import describe_split
    from trimode.workflows.train import train

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
    print(f"rows split: {describe_split(record['split'])}")
    threshold = record.get("decision_threshold")
    if threshold:
        how = f"tuned for {threshold['tuned_for']}" if threshold["tuned_for"] else "as configured"
        print(
            f"decision threshold: class {threshold['positive_class']!r} when its probability "
            f"reaches {threshold['value']:.3f} ({how})"
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
    from trimode.data.sampling import fetch_sample

    fetched = fetch_sample(config)
    print_fetch(fetched)
    print_notes(fetched.notes, fetched.warnings)
    return 0


def run_compare(arguments: argparse.Namespace, config: Config) -> int:
    """Compare models in the chosen mode; print the leaderboard and where it was saved."""
    from trimode.modelling.fold_fits import INTERRUPTED
    from trimode.workflows.compare import compare

    leaderboard, paths = compare(config)
    print_notes(leaderboard.notes)
    print_leaderboard(leaderboard)
    curve = leaderboard.learning_curve
    for line in curve.lines if curve else []:
        print(line)
    print(f"outputs: {', '.join(map(shown, paths))}")
    # Ctrl-C kept the rows that finished (or the leaderboard, in its learning curve), and
    # still ends as an interrupted command does.
    stopped = {leaderboard.stopped, curve.stopped if curve else None}
    return EXIT_INTERRUPTED if INTERRUPTED in stopped else 0


def run_report(arguments: argparse.Namespace, config: Config) -> int:
    """Write the mode's HTML report and print its path."""
    from trimode.workflows.report import build_report

    print(shown(build_report(config)))
    return 0


def run_promote(arguments: argparse.Namespace, config: None) -> int:
    """Write the chosen model into the target mode's config; say what was written."""
    from trimode.workflows.promote import promote

    promotion = promote(
        arguments.config_dir, arguments.source_mode, arguments.target_mode, arguments.variant
    )
    params = ", ".join(f"{key} = {value!r}" for key, value in promotion.params.items())
    print(
        f"{promotion.path}: train.models = [{promotion.model!r}] (from {promotion.source_mode} "
        f"mode), [train.params.{promotion.model}]: {params or 'the registry defaults'}"
    )
    return 0


def run_predict(arguments: argparse.Namespace, config: None) -> int:
    """Score the input file with the model; say how many rows went where."""
    from trimode.config.loading import project_root
    from trimode.core.project import project_at
    from trimode.workflows.predict import predict_file
    from trimode.workflows.session import config_dir_of

    if arguments.batch_rows < 1:
        raise ProjectError(f"--batch-rows must be at least 1, got {arguments.batch_rows}")
    config_dir = arguments.config_dir or config_dir_of()
    # Production's settings: its output root holds the model, its engine says where to score.
    production = mode_config(arguments, "production")
    model = arguments.model if arguments.model is not None else production.output_dir
    keep = tuple(name.strip() for name in arguments.keep.split(",") if name.strip())
    project = project_at(project_root(Path(config_dir)))
    options: dict[str, Any] = {
        "allow_non_production": arguments.allow_non_production,
        "batch_rows": arguments.batch_rows,
        "keep": keep,
    }
    if production.compute.engine == "dask":
        from trimode.workflows.predict_on_cluster import predict_on_cluster

        result = predict_on_cluster(
            project, production, arguments.input, arguments.output, model, **options
        )
    else:
        result = predict_file(project, arguments.input, arguments.output, model, **options)
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


def run_serve(arguments: argparse.Namespace, config: None) -> int:
    """Serve the production model over HTTP until stopped."""
    from trimode.workflows.serve import serve

    production = mode_config(arguments, "production")
    options = {"host": arguments.host, "port": arguments.port}
    given = {key: value for key, value in options.items() if value is not None}
    if not 1 <= given.get("port", 1) <= 65535:
        raise ProjectError(f"--port must lie in 1..65535, got {arguments.port}")
    settings = production.serve.model_copy(update=given)
    serve(production.project, arguments.model or production.output_dir, settings)
    return 0


def run_check_secrets(arguments: argparse.Namespace, config: None) -> int:
    """Refuse config files holding a password written out (ConfigError, a line each)."""
    from trimode.config.passwords import check_files
    from trimode.workflows.session import config_dir_of

    paths = arguments.files or sorted((arguments.config_dir or config_dir_of()).glob("*.toml"))
    check_files(paths)
    print(f"no password written out in {len(paths)} config file(s)")
    return 0


def run_eject(arguments: argparse.Namespace, config: None) -> int:
    """Eject the runtime into the project around the current folder (or say what that
    would do); say what was done and what comes next."""
    from trimode.workflows.eject import TARGET, eject

    ejection = eject(Path.cwd(), dry_run=arguments.dry_run)
    what = f"trimode {ejection.version} into {TARGET}/ ({len(ejection.files)} files)"
    if arguments.dry_run:
        print(f"dry run, nothing written: eject would copy {what}, one way:")
        print("\n".join(f"  {path.as_posix()}" for path in ejection.files))
        print("\n".join(f"would change pyproject.toml: {change}" for change in ejection.changes))
        return 0
    print(
        f"ejected {what}. This is one way: the project owns that code now, and no pin or "
        "`copier update` changes it."
    )
    print("\n".join(f"pyproject.toml: {change}" for change in ejection.changes))
    print("next: `uv sync` (it installs these requirements and updates uv.lock), then commit")
    return 0
