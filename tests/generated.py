"""Generated projects installed as their README says, for the slow tests.

One classification project (copier, all defaults) and one regression project
(cookiecutter, another name) are rendered from the template repository (the
template_repo fixture, tagged v<version>) and set up ONCE per session, when a test first
uses them (the `environment` fixture in conftest.py): `uv sync` with the extras http,
postgres and dask, its bytecode compiled, makes each project's own .venv, where uv
installs the runtime from the template repository's tag over file:// (the project's
[tool.uv.sources] pin). Tests then drive a project as its user does, from a shell where
no environment is activated: `uv run <slug> train --mode test`, `uv run pytest`. The
tests of a project carry its xdist group (Generated.group), so that one pytest-xdist
worker sets it up and owns it: the two projects' tests run side by side on two workers.
"""

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from project_shell import not_activated_environment
from rendering import render_with_cookiecutter, render_with_copier

# The xdist group of the classification project's tests (and of the bad-input corpus,
# which runs in it): one pytest-xdist worker sets the project up and owns it.
XDIST_GROUP = "generated-environment"
# Extras of the generated projects their environments install: http(s) sources,
# PostgreSQL, Dask, serve.
EXTRAS = ("http", "postgres", "dask", "serve")


@dataclass(frozen=True)
class Generated:
    """A generated project and the answers that matter to run it."""

    task: str
    engine: str
    slug: str
    package: str
    project_name: str
    # The xdist group of the tests that use it: the two projects run on two workers.
    group: str = XDIST_GROUP

    @property
    def id(self) -> str:
        return f"{self.task}-{self.engine}"


PROJECTS = [
    Generated("classification", "copier", "ml-project", "ml_project", "ML Project"),
    Generated(
        "regression",
        "cookiecutter",
        "sales-forecast",
        "sales_forecast",
        "Sales Forecast",
        group="generated-regression",
    ),
]
CLASSIFICATION, REGRESSION = PROJECTS


def on(item: Generated, *values, marks=()):
    """A test parameter that uses the project: in the xdist group of its worker."""
    return pytest.param(*values, marks=[pytest.mark.xdist_group(item.group), *marks])


# A test of each project, each in its project's group.
projects = pytest.mark.parametrize(
    "generated", [on(item, item) for item in PROJECTS], ids=[item.id for item in PROJECTS]
)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """Assert a command succeeded, showing its output when it did not."""
    output = f"{result.args}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, output
    return result


@dataclass(frozen=True)
class Installed:
    """A generated project set up in its own environment (.venv, made by `uv sync`)."""

    generated: Generated
    folder: Path
    # A user's shell: uv on PATH, no virtual environment activated (project_shell.py).
    shell: dict[str, str]
    # Wall time of `uv sync` (printed by a test, never asserted).
    install_s: float = 0.0

    @property
    def venv(self) -> Path:
        return self.folder / ".venv"

    def command(self, name: str) -> str:
        """The path of a command installed in the project's environment."""
        return str(self.venv / "bin" / name)

    def variables(self) -> dict[str, str]:
        """The environment variables of a process with the project's .venv activated."""
        env = dict(self.shell)
        env["VIRTUAL_ENV"] = str(self.venv)
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run a command with the project's environment activated (in its folder unless
        cwd says otherwise); standard output and errors apart."""
        return subprocess.run(
            list(command),
            cwd=cwd or self.folder,
            env=self.variables(),
            capture_output=True,
            text=True,
            check=False,
        )

    def uv_run(self, *arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """`uv run ...` from the user's shell (nothing activated), in the project folder."""
        return subprocess.run(
            ["uv", "run", *arguments],
            cwd=cwd or self.folder,
            env=self.shell,
            capture_output=True,
            text=True,
            check=False,
        )

    def script(self, *arguments: str) -> subprocess.CompletedProcess:
        """The project's own command line: `uv run <slug> ...` in its folder."""
        return self.uv_run(self.generated.slug, *arguments)

    def python(self, code: str, *arguments: str) -> subprocess.CompletedProcess:
        """`uv run python -c code arguments...` in the project folder."""
        return self.uv_run("python", "-c", code, *arguments)


class Environment:
    """The projects of PROJECTS, each rendered and set up in its own environment when a
    test first asks for it (environment[slug]), once a session: a worker that runs only
    one project's tests sets up only that one.

    venv, command, variables and run are the first (classification) project's, the one
    the bad-input corpus runs in.
    """

    def __init__(self, template: Path, root: Path):
        self.template = template
        self.root = root
        self.installed: dict[str, Installed] = {}
        self.shell = not_activated_environment(root)

    def __getitem__(self, slug: str) -> Installed:
        """The project of that slug, set up now if it is not yet."""
        if slug not in self.installed:
            (item,) = [item for item in PROJECTS if item.slug == slug]
            folder = render(item, self.template, self.root)
            start = time.perf_counter()
            synced = subprocess.run(
                sync_command(), cwd=folder, env=self.shell, capture_output=True, text=True
            )
            ok(synced)
            self.installed[slug] = Installed(item, folder, self.shell, time.perf_counter() - start)
        return self.installed[slug]

    @property
    def folders(self) -> Mapping[str, Path]:
        """Each project's folder, by slug (set up when first asked for)."""
        return Folders(self)

    @property
    def default(self) -> Installed:
        return self[CLASSIFICATION.slug]

    @property
    def venv(self) -> Path:
        return self.default.venv

    def command(self, name: str) -> str:
        """The path of a command in the classification project's environment."""
        return self.default.command(name)

    def variables(self) -> dict[str, str]:
        """The environment variables of a process with the classification project's
        environment activated."""
        return self.default.variables()

    def run(self, *command: str, cwd: Path) -> subprocess.CompletedProcess:
        """Run a command with the classification project's environment activated."""
        return self.default.run(*command, cwd=cwd)


class Folders(Mapping[str, Path]):
    """The generated projects' folders, by slug; a project is set up when first asked for."""

    def __init__(self, environment: Environment):
        self.environment = environment

    def __getitem__(self, slug: str) -> Path:
        return self.environment[slug].folder

    def __iter__(self) -> Iterator[str]:
        return iter(item.slug for item in PROJECTS)

    def __len__(self) -> int:
        return len(PROJECTS)


def render(item: Generated, template: Path, root: Path) -> Path:
    """Generate the project with its engine under root; return its folder."""
    answers = {"project_name": item.project_name, "task": item.task, "install_hooks": False}
    if item.engine == "copier":
        return render_with_copier(template, root / item.slug, answers)
    return render_with_cookiecutter(template, root, answers)


def sync_command() -> list[str]:
    """`uv sync` as the README says, with the extras the tests use, bytecode compiled
    (the tests start many Pythons; uv leaves it to the first import otherwise)."""
    return ["uv", "sync", "--quiet", "--compile-bytecode", *(f"--extra={e}" for e in EXTRAS)]


def make_environment(template: Path, root: Path) -> Environment:
    """The generated projects of PROJECTS, to be set up under root when first used."""
    return Environment(template, root)


@dataclass
class Step:
    """One command of a walkthrough: what it printed, its exit status, its wall time."""

    arguments: tuple[str, ...]
    result: subprocess.CompletedProcess
    seconds: float

    def wall_time(self, slug: str) -> str:
        """The line the session summary prints for it."""
        return f"{self.seconds:6.2f} s  uv run {slug} {' '.join(self.arguments)}"


# Human mode's sample in the walkthrough: a few times test mode's, well below the
# 50,000 rows of configs/human.toml (the same code path; minutes less on 2 cores).
HUMAN_ROWS = 5_000


@dataclass(frozen=True)
class Production:
    """How big the walkthrough's production run and `predict` are for a project."""

    # The built-in data set's size (data.synthetic_rows; None: configs/base.toml's).
    rows: int | None
    # Rows of new data `predict` scores, and its batch size: more rows than one batch.
    predict_rows: int
    batch_rows: int


# The default project at full size, once (200,000 rows; predict's default batch of
# 100,000 rows); the other on a smaller data set, its production run the same code.
PRODUCTION = {
    CLASSIFICATION.slug: Production(None, 250_000, 100_000),
    REGRESSION.slug: Production(20_000, 30_000, 10_000),
}


# Run by the project's python: write `rows` unseen synthetic rows (an ID column in front,
# the target dropped) to a Parquet file, or to a folder of `parts` Parquet files.
MAKE_ROWS = """
import sys
from pathlib import Path
import numpy as np
from trimode.data.synthetic import TARGETS, make_dataset

task, rows, where, parts, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), 9
frame = make_dataset(task, rows, seed=seed)
if parts == 1:
    frame = frame.drop(columns=TARGETS[task])
    frame.insert(0, "customer_id", np.arange(rows))
    frame.to_parquet(where, index=False)
else:
    Path(where).mkdir()
    step = -(-rows // parts)
    for part in range(parts):
        chunk = frame.iloc[part * step : (part + 1) * step]
        chunk.to_parquet(f"{where}/part-{part}.parquet", index=False)
"""


def make_rows(installed: Installed, rows: int, where: Path, parts: int = 1) -> None:
    """Write unseen synthetic rows of the project's task (see MAKE_ROWS)."""
    arguments = [installed.generated.task, str(rows), str(where), str(parts)]
    ok(installed.python(MAKE_ROWS, *arguments))


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class Walkthrough:
    """Every mode of one generated project through its own script, in the order its
    README walks a user through them, each command run once a session: train in test
    mode; fetch a human sample, compare, train and report in human mode; promote human's
    choice into production's config; train in production mode (every row of the built-in
    data, PRODUCTION's size) and score new rows with `predict`.

    What the tests check is read when the step ran (other tests reuse the project's
    outputs after): its result, and the records of each mode's run.
    """

    installed: Installed
    workspace: Path
    steps: dict[str, Step] = field(default_factory=dict)
    records: dict[str, dict] = field(default_factory=dict)
    # The human report's page; production.toml as promote left it; predict's output.
    report: str = ""
    promoted: str = ""
    predictions: Path | None = None

    def run(self, name: str, *arguments: str) -> Step:
        start = time.perf_counter()
        result = self.installed.script(*arguments)
        self.steps[name] = Step(arguments, result, time.perf_counter() - start)
        ok(result)
        return self.steps[name]

    def record(self, mode: str) -> None:
        """Keep the mode's manifest.json and metrics.json as the run left them."""
        outputs = self.installed.folder / "outputs" / mode
        self.records[mode] = {
            "manifest": read_json(outputs / "manifest.json"),
            "metrics": read_json(outputs / "metrics.json"),
            "files": sorted(path.name for path in outputs.iterdir()),
            "model_sha256": hashlib.sha256((outputs / "model.skops").read_bytes()).hexdigest(),
        }

    def walk(self) -> None:
        """Run every step; production's config is restored after (promote edits it)."""
        folder = self.installed.folder
        for mode in ("test", "human", "production"):
            for made in (folder / "outputs" / mode, folder / "data" / mode):
                shutil.rmtree(made, ignore_errors=True)
        self.run("train test", "train", "--mode", "test")
        self.record("test")
        human = ("--mode", "human", "--set", f"data.max_rows={HUMAN_ROWS}")
        self.run("fetch-sample human", "fetch-sample", *human)
        self.run("compare human", "compare", *human)
        self.run("train human", "train", *human)
        self.record("human")
        self.run("report human", "report", *human)
        self.report = (folder / "outputs" / "human" / "report.html").read_text(encoding="utf-8")
        production = folder / "configs" / "production.toml"
        size = PRODUCTION[self.installed.generated.slug]
        rows = () if size.rows is None else ("--set", f"data.synthetic_rows={size.rows}")
        pristine = production.read_text(encoding="utf-8")
        try:
            self.run("promote", "promote")
            self.promoted = production.read_text(encoding="utf-8")
            self.run("train production", "train", "--mode", "production", *rows)
            self.record("production")
        finally:
            production.write_text(pristine, encoding="utf-8")
        new_rows = self.workspace / "rows.parquet"
        make_rows(self.installed, size.predict_rows, new_rows)
        self.predictions = self.workspace / "predictions.parquet"
        predict = ["--input", str(new_rows), "--output", str(self.predictions)]
        predict += ["--keep", "customer_id", "--batch-rows", str(size.batch_rows)]
        self.run("predict", "predict", *predict)


class Walkthroughs:
    """The walkthrough of each generated project, run on first use, once a session."""

    def __init__(self, environment: Environment, workspace: Path):
        self.environment = environment
        self.workspace = workspace
        self.done: dict[str, Walkthrough] = {}
        self.failed: dict[str, str] = {}

    def of(self, generated: Generated) -> Walkthrough:
        """The project's walkthrough, run now if it has not been (a walkthrough that
        failed fails every test that asks for it, without running again)."""
        slug = generated.slug
        if slug in self.failed:
            pytest.fail(f"the walkthrough of {slug} failed earlier:\n{self.failed[slug]}")
        if slug not in self.done:
            workspace = self.workspace / slug
            workspace.mkdir(parents=True)
            walkthrough = Walkthrough(self.environment[slug], workspace)
            try:
                walkthrough.walk()
            except BaseException as error:
                self.failed[slug] = str(error)
                raise
            self.done[slug] = walkthrough
        return self.done[slug]
