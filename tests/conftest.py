"""Fixtures shared by the template's tests: a git repository of the template and renders."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import postgres_server
import pytest
from generated import Environment, Walkthroughs, make_environment
from rendering import (
    Case,
    environment_with,
    make_template_repo,
    path_without_uv,
    render_with_command,
)


@pytest.fixture(scope="session", autouse=True)
def engine_homes(tmp_path_factory: pytest.TempPathFactory):
    """Keep cookiecutter's clones and replays and copier's git cache out of $HOME.

    Set in the environment, so the CLIs the tests run as subprocesses see them too.
    """
    home = tmp_path_factory.mktemp("engine-homes")
    config = home / "cookiecutter-config.yaml"
    config.write_text(
        f"cookiecutters_dir: {home / 'cookiecutters'}\nreplay_dir: {home / 'replay'}\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COOKIECUTTER_CONFIG", str(config))
        patch.setenv("COPIER_CACHE_DIR", str(home / "copier-cache"))
        yield home


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository (one commit, one PEP 440 tag) of the template's working tree."""
    return make_template_repo(tmp_path_factory.mktemp("template") / "trimode")


@pytest.fixture(scope="session")
def no_uv_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PATH on which the post-generation step finds everything (git...) but uv.

    Fast tests render with it: install_hooks=true then sets up git only and prints the
    command to run, instead of making an environment for every render.
    """
    return path_without_uv(tmp_path_factory.mktemp("no-uv"))


class Renders:
    """Projects rendered from the template repository, made once per case and engine."""

    def __init__(self, template: Path, workspace: Path, path: str):
        self.template = template
        self.workspace = workspace
        self.path = path
        self.made: dict[tuple[str, str], Path] = {}

    def get(self, case: Case, engine: str) -> Path:
        """Return the project the engine ("copier" or "cookiecutter") makes for the case."""
        key = (case.id, engine)
        if key not in self.made:
            folder = self.workspace / engine / case.id
            environment = environment_with({"PATH": self.path})
            self.made[key], _ = render_with_command(
                engine, self.template, folder, case.given, environment
            )
        return self.made[key]


@pytest.fixture(scope="session")
def renders(
    template_repo: Path, tmp_path_factory: pytest.TempPathFactory, no_uv_path: str
) -> Renders:
    """Render cases lazily (with no uv on PATH) and share the results across the session."""
    return Renders(template_repo, tmp_path_factory.mktemp("renders"), no_uv_path)


def in_ci() -> bool:
    """True when the CI variable says this is a CI run (where nothing may be skipped)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL: TRIMODE_TEST_POSTGRES_URL, or a server started for this session."""
    given = os.environ.get(postgres_server.URL_VARIABLE)
    if given:
        yield given
        return
    # Not under pytest's tmp_path: its folders are private to root, the server is not root.
    folder = Path(tempfile.mkdtemp(prefix="trimode-postgres-"))
    try:
        url = postgres_server.start(folder)
    except postgres_server.ServerError as error:
        shutil.rmtree(folder, ignore_errors=True)
        reason = (
            f"no PostgreSQL server: {postgres_server.URL_VARIABLE} is not set and none could "
            f"be started ({' '.join(str(error).split())})"
        )
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield url
    finally:
        postgres_server.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


# Debian's chromium package first (.ci/run installs it), else a Chromium or Chrome on PATH
# (as GitHub's Ubuntu runners have): Playwright cannot download its own browser builds here.
CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium the browser tests drive; without one they fail under CI and are
    skipped elsewhere, saying why."""
    found = next(filter(None, map(shutil.which, CHROMIUM)), None)
    if found:
        return found
    reason = f"no Chromium (looked for {', '.join(CHROMIUM)}): apt-get install chromium"
    if in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def environment(template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Environment:
    """Both generated projects, each set up once a session in its own environment (`uv
    sync`: the runtime from the template repository's tag, the extras, the dev group).

    Slow tests only; they carry generated.XDIST_GROUP so that one xdist worker makes it.
    """
    return make_environment(template_repo, tmp_path_factory.mktemp("generated"))


@pytest.fixture(scope="session")
def walkthroughs(
    environment: Environment, tmp_path_factory: pytest.TempPathFactory
) -> Walkthroughs:
    """Every mode of each generated project through its own script, once a session, on
    first use (see generated.Walkthrough)."""
    return Walkthroughs(environment, tmp_path_factory.mktemp("walkthroughs"))


def recorded(terminalreporter, name: str) -> list[tuple[str, object]]:
    """The (node id, value) pairs the tests recorded under name with record_property."""
    return [
        (report.nodeid, value)
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for key, value in getattr(report, "user_properties", [])
        if key == name
    ]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print what the slow tests recorded: wall times (printed, never asserted), the real
    data matrix, the totals of the bad-input corpus, and the browser tests' screenshots."""
    timings = recorded(terminalreporter, "wall_time")
    if timings:
        terminalreporter.section("wall times")
        for nodeid, value in timings:
            terminalreporter.write_line(f"{value}    ({nodeid})")
    matrix = recorded(terminalreporter, "real_data")
    if matrix:
        terminalreporter.section("real data sets: step, result, wall time")
        for _, line in matrix:
            terminalreporter.write_line(line)
    corpus = [value for _, value in recorded(terminalreporter, "bad_input")]
    if corpus:
        terminalreporter.section("bad-input corpus")
        totals = {"tried": len(corpus)}
        for verdict in corpus:
            for key, count in verdict.items():
                totals[key] = totals.get(key, 0) + count
        terminalreporter.write_line(", ".join(f"{key}: {count}" for key, count in totals.items()))
    screenshots = recorded(terminalreporter, "screenshot")
    if screenshots:
        terminalreporter.section("screenshots of the report (test artifacts)")
        for _, path in screenshots:
            terminalreporter.write_line(str(path))


def pytest_report_header(config):
    """Say which engines the tests drive."""
    import cookiecutter
    import copier

    return f"engines: copier {copier.__version__}, cookiecutter {cookiecutter.__version__}; " + (
        "CI" if os.environ.get("CI") else "local run"
    )
