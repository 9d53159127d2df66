"""What permutation importance and partial dependence add to human mode's report.

In one process, in a temporary project holding the template's models.py, features.py and
expectations.py: human mode trains its default model on the built-in data (50,000 rows,
10,000 held out, as human mode holds out) twice, side by side: with importance (train's
step "importance", 5 repeats on at most inspection.importance_rows = 2,000 rows) and the
report's partial dependence, and with neither (inspection.importance_repeats = 0,
inspection.partial_dependence_features = 0); each then writes its report. The extra time
is train's importance step plus what the report with them takes over the report without
(in CPU time: what the train and the report with them take over those without); the
target: at most 25% of the report without them, or under 10 s.
Run it with: uv run python benchmarks/report_importance.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: 3,000 rows, one repeat; see common.py).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import tomlkit
from common import TEMPLATE, rows_and_repeats

STARTER = TEMPLATE / "{{cookiecutter.project_slug}}" / "src" / "{{cookiecutter.package_name}}"
SETTINGS = {
    "with": {},
    "without": {"importance_repeats": 0, "partial_dependence_features": 0},
}


def make_project(folder: Path, rows: int) -> Path:
    """A project in folder: the template's project files as the package `starter`, and a
    config folder whose human mode trains hist_gradient_boosting on `rows` built-in rows."""
    package = folder / "code" / "starter"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""The template\'s project files."""\n')
    for name in ("models.py", "features.py", "expectations.py"):
        shutil.copy(STARTER / name, package / name)
    sys.path.insert(0, str(package.parent))
    project = folder / "project"
    (project / "configs").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "bench"\nversion = "0"\n\n[tool.trimode]\n'
        'models = "starter.models"\nfeatures = "starter.features"\n'
        'expectations = "starter.expectations"\nconfigs = "configs"\n'
    )
    base = {
        "task": "classification",
        "data": {"source": "synthetic", "target": "churned", "synthetic_rows": rows},
        "train": {"models": ["hist_gradient_boosting"]},
    }
    (project / "configs" / "base.toml").write_text(tomlkit.dumps(base))
    human = {"data": {"max_rows": rows}}
    for mode in ("test", "production"):
        (project / "configs" / f"{mode}.toml").write_text("")
    (project / "configs" / "human.toml").write_text(tomlkit.dumps(human))
    return project


def measure(project: Path, name: str) -> dict[str, float]:
    """Train human mode with the named settings, then write its report: the seconds of
    train's importance step, of the train and of the report, each also in CPU time (this
    process's, all its threads: steadier than wall time on a shared machine)."""
    from trimode.workflows.report import build_report
    from trimode.workflows.session import load_config
    from trimode.workflows.train import train

    overrides = {f"inspection.{key}": value for key, value in SETTINGS[name].items()}
    config = load_config("human", project / "configs", overrides=overrides)
    found = {}
    for step, run in (("train", lambda: train(config)), ("report", lambda: build_report(config))):
        start, cpu = time.perf_counter(), time.process_time()
        result = run()
        found[step], found[f"{step} CPU"] = time.perf_counter() - start, time.process_time() - cpu
        if step == "train":
            found["importance"] = result.manifest["timings_s"].get("importance", 0.0)
    return found


def main() -> None:
    """Make the project, measure with and without, alternating, print the ratios."""
    arguments = rows_and_repeats(__doc__.splitlines()[0], 50_000, 3_000)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["TRIMODE_CACHE_DIR"] = str(Path(folder) / "cache")
        project = make_project(Path(folder), arguments.rows)
        measure(project, "with")  # untimed: the first run pays the imports for both
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in SETTINGS}
        for _ in range(arguments.repeats):
            for name in SETTINGS:
                runs[name].append(measure(project, name))
    on, off = (
        {key: statistics.median(run[key] for run in runs[name]) for key in runs[name][0]}
        for name in SETTINGS
    )
    # Wall time: train's importance step, plus the report's difference; CPU time: the
    # trains' difference (the importance step's share of it), plus the reports'.
    extra = on["importance"] + on["report"] - off["report"]
    extra_cpu = on["train CPU"] - off["train CPU"] + on["report CPU"] - off["report CPU"]
    print(f"human mode, {arguments.rows:,} rows, median of {arguments.repeats}:")
    print(f"  train's importance step: {on['importance']:6.2f} s")
    for name, times in (("with", on), ("without", off)):
        print(
            f"  {name} importance and dependence: train {times['train']:6.2f} s "
            f"(CPU {times['train CPU']:6.2f} s), report {times['report']:6.2f} s "
            f"(CPU {times['report CPU']:6.2f} s)"
        )
    print(f"  extra: {extra:6.2f} s, CPU {extra_cpu:6.2f} s   (target: under 10 s)")
    print(f"ratio extra / report without: {extra / off['report']:6.3f}   (target: at most 0.25)")
    ratio_cpu = extra_cpu / off["report CPU"]
    print(f"ratio extra / report without, CPU time: {ratio_cpu:6.3f}   (target: at most 0.25)")


if __name__ == "__main__":
    main()
