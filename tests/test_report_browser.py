"""The report of each task is a page that works in a real browser: headless Chromium.

The generated projects (generated.py) train in test mode with their own script and
write their report, for real, in temporary project roots (a copy of their configs and
pyproject.toml): binary classification (after `compare`, and with tracked runs given to
build_report), three classes (the built-in `plan` column as the target) and regression.
Playwright drives Debian's chromium (`executable_path`: browser builds cannot be
downloaded here; .ci/run installs it). Every number the explorer shows is checked
against the rows embedded in the page, decoded here in Python, and the worst slices the
report computed with pandas; the screenshots land in build/test-artifacts/report/ and
the session summary lists them.
"""

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from generated import CLASSIFICATION, REGRESSION, Environment, Generated, ok, on
from playwright.sync_api import Browser, Page, sync_playwright

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts" / "report"
WIDTHS = {"phone": 375, "desktop": 1280}
DATA_BLOCK = re.compile(
    r'<script type="application/json" id="explorer-rows">(.*?)</script>', re.DOTALL
)
# Runs as a tracking store would list them, for the binary report's panel.
TRACKED_RUNS = [
    {"run_id": "run-a", "started": "2026-01-01T10:00:00", "model": "rf", "metrics": {"auc": 0.61}},
    {"run_id": "run-b", "started": "2026-01-02T10:00:00", "model": "lr", "metrics": {"auc": 0.83}},
    {"run_id": "run-c", "started": "2026-01-03T10:00:00", "model": "hgb", "metrics": {"auc": 0.72}},
]


@dataclass(frozen=True)
class Case:
    """A task's report: which generated project made it, with which config changes."""

    name: str
    project: Generated
    overrides: tuple[str, ...] = ()


CASES = [
    Case("binary", CLASSIFICATION),
    Case("multiclass", CLASSIFICATION, ('data.target="plan"',)),
    Case("regression", REGRESSION),
]
BINARY, MULTICLASS, _ = CASES
# Each case on the xdist worker of its project.
cases = pytest.mark.parametrize(
    "case", [on(case.project, case) for case in CASES], ids=[case.name for case in CASES]
)


def command(case: Case, root: Path, name: str) -> list[str]:
    """`<name> --mode test` on the configs of root, with the case's overrides."""
    sets = [part for override in case.overrides for part in ("--set", override)]
    return [name, "--mode", "test", "--config-dir", str(root / "configs"), *sets]


# Run by the project's python: the report of a mode, given the runs tracking recorded
# (trimode's public API, as a notebook calls it).
BUILD_REPORT = """
import json, sys
from trimode import build_report, load_config
config = load_config("test", sys.argv[1])
print(build_report(config, tracked_runs=json.loads(sys.argv[2])))
"""


def write_report(environment: Environment, case: Case, root: Path) -> Path:
    """Train in test mode in a project root of its own (the project's configs), then
    write the report: the binary one after compare, with tracked runs."""
    installed = environment[case.project.slug]
    shutil.copytree(installed.folder / "configs", root / "configs")
    # The root is a project: its [tool.trimode] names the code, installed in the venv.
    shutil.copy2(installed.folder / "pyproject.toml", root)
    ok(installed.script(*command(case, root, "train")))
    if case.name != "binary":
        ok(installed.script(*command(case, root, "report")))
        return root / "outputs" / "test" / "report.html"
    compare = command(case, root, "compare")
    compare += ["--set", 'compare.models=["logistic_regression", "hist_gradient_boosting"]']
    ok(installed.script(*compare))
    made = installed.python(BUILD_REPORT, str(root / "configs"), json.dumps(TRACKED_RUNS))
    return Path(ok(made).stdout.strip())


class Reports:
    """Each case's report.html, made by its generated project when first asked for."""

    def __init__(self, environment: Environment, tmp_path_factory: pytest.TempPathFactory):
        self.environment = environment
        self.tmp_path_factory = tmp_path_factory
        self.made: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        if name not in self.made:
            (case,) = [case for case in CASES if case.name == name]
            root = self.tmp_path_factory.mktemp(name)
            self.made[name] = write_report(self.environment, case, root)
        return self.made[name]


@pytest.fixture(scope="module")
def reports(environment: Environment, tmp_path_factory: pytest.TempPathFactory) -> Reports:
    """The reports of the cases (a worker makes those of its project's cases only)."""
    return Reports(environment, tmp_path_factory)


@pytest.fixture(scope="module")
def browser(chromium: str):
    """Headless Chromium (the system's), driven by Playwright."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium)
        yield launched
        launched.close()


@dataclass
class Opened:
    """A report open in a page, and what the page did while it loaded and ran."""

    page: Page
    url: str
    requests: list[str]
    errors: list[str]
    data: dict


def open_report(browser: Browser, path: Path, width: int = WIDTHS["desktop"]) -> Opened:
    """Open the report at a viewport width and wait until its script is done."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    url = path.as_uri()
    page.goto(url)
    page.wait_for_selector("html[data-ready=true]", timeout=30_000)
    block = DATA_BLOCK.search(path.read_text(encoding="utf-8"))
    assert block, "no explorer rows in the page"
    return Opened(page, url, requests, errors, json.loads(block.group(1)))


@pytest.fixture
def opened(browser, reports, request):
    """The report of the test's case, open in a desktop-wide page."""
    case = request.node.callspec.params["case"]
    result = open_report(browser, reports[case.name])
    yield result
    result.page.close()


def table_cells(page: Page, selector: str) -> list[list[str]]:
    """The text of every shown body cell of a table, row by row."""
    return page.eval_on_selector(
        selector,
        "table => Array.from(table.tBodies[0].rows).filter(row => !row.hidden)"
        ".map(row => Array.from(row.cells).map(cell => cell.textContent.trim()))",
    )


def headings(page: Page, selector: str) -> list[str]:
    return page.eval_on_selector(
        selector, "table => Array.from(table.tHead.rows[0].cells).map(c => c.textContent.trim())"
    )


def section_table(page: Page, heading: str) -> str:
    """A selector of the first table after the heading of that text."""
    index = page.evaluate(
        """text => {
            const all = Array.from(document.querySelectorAll("h2, h3, table"));
            const start = all.findIndex(node => /^H/.test(node.tagName)
                && node.textContent.trim().startsWith(text));
            const table = all.slice(start).find(node => node.tagName === "TABLE");
            table.dataset.testTable = text;
            return start;
        }""",
        heading,
    )
    assert index >= 0, f"no heading {heading!r}"
    return f'table[data-test-table="{heading}"]'


def decoded(codes, alphabet: str) -> list[int]:
    return [alphabet.index(code) for code in codes] if isinstance(codes, str) else list(codes)


def expected_slices(data: dict, feature: str, chosen: int | None = None) -> list[dict]:
    """Per slice of the feature, what the explorer should show, from the embedded rows."""
    (spec,) = [item for item in data["features"] if item["name"] == feature]
    codes = decoded(spec["codes"], data["alphabet"])
    slices = [{"slice": name, "rows": 0, "error": 0.0, "fp": 0, "fn": 0} for name in spec["slices"]]
    if data["task"] == "regression":
        for code, residual in zip(codes, data["residual"], strict=True):
            slices[code]["rows"] += 1
            slices[code]["error"] += abs(residual)
    else:
        actual = decoded(data["actual"], data["alphabet"])
        predicted = decoded(data["predicted"], data["alphabet"])
        for code, truth, guess in zip(codes, actual, predicted, strict=True):
            slices[code]["rows"] += 1
            slices[code]["error"] += truth != guess
            slices[code]["fp"] += guess == chosen and truth != chosen
            slices[code]["fn"] += truth == chosen and guess != chosen
    for item in slices:
        item["error"] /= item["rows"]
    return slices


def percent(text: str) -> float:
    assert text.endswith("%"), text
    return float(text.removesuffix("%")) / 100


def assert_explorer_shows(page: Page, data: dict, feature: str, chosen: int | None = None):
    """The explorer's tables hold the slices of the feature and their numbers."""
    assert headings(page, "#explorer-errors")[:2] == [feature, "rows"]
    shown = table_cells(page, "#explorer-errors")
    expected = expected_slices(data, feature, chosen)
    assert [row[0] for row in shown] == [item["slice"] for item in expected]
    assert [int(row[1]) for row in shown] == [item["rows"] for item in expected]
    assert sum(int(row[1]) for row in shown) == data["rows"]
    for row, item in zip(shown, expected, strict=True):
        if data["task"] == "regression":
            assert float(row[3]) == pytest.approx(item["error"], rel=1e-3, abs=1e-9), row
        else:
            assert percent(row[3]) == pytest.approx(item["error"], abs=0.0005 + 1e-9), row
    if data["task"] == "regression":
        assert page.locator("#explorer-contrast").is_hidden()
        return
    contrast = table_cells(page, "#explorer-contrast")
    assert [row[0] for row in contrast] == [item["slice"] for item in expected]
    assert [int(row[1]) for row in contrast] == [item["fp"] for item in expected]
    assert [int(row[5]) for row in contrast] == [item["fn"] for item in expected]


@cases
def test_the_page_loads_offline_and_without_errors(case, opened):
    assert opened.requests == [opened.url]  # the file itself, nothing else
    assert opened.errors == []
    assert opened.page.locator("script[src], link, iframe, object, embed").count() == 0


@cases
def test_sorting_a_table_changes_its_order_and_filtering_hides_rows(case, opened):
    page = opened.page
    table = section_table(page, "Worst predictions")
    before = table_cells(page, table)
    column = headings(page, table).index("age")  # a feature: worst first is not its order
    page.locator(f"{table} thead th").nth(column).locator("button").click()
    ascending = table_cells(page, table)
    values = [float(row[column]) if row[column] else float("inf") for row in ascending]
    assert values == sorted(values) and ascending != before
    page.locator(f"{table} thead th").nth(column).locator("button").click()
    descending = [row[column] for row in table_cells(page, table)]
    assert [value for value in descending if value] == [
        row[column] for row in reversed(ascending) if row[column]
    ]

    columns = section_table(page, "Columns")
    everything = table_cells(page, columns)
    # The filter box page.js put right above the table's scrolling box.
    page.locator(f"div.filter:has(+ .scroll > {columns}) input").fill("categorical")
    kept = table_cells(page, columns)
    assert 0 < len(kept) < len(everything)
    assert all("categorical" in " ".join(row) for row in kept)


@pytest.mark.xdist_group(BINARY.project.group)
def test_the_leaderboard_and_the_tracked_runs_sort(browser, reports):
    opened = open_report(browser, reports[BINARY.name])
    page = opened.page
    leaderboard = section_table(page, "Leaderboard")
    names = [row[0] for row in table_cells(page, leaderboard)]
    assert set(names) >= {"logistic_regression", "hist_gradient_boosting"}
    page.locator(f"{leaderboard} thead th").nth(0).locator("button").click()
    assert [row[0] for row in table_cells(page, leaderboard)] == sorted(names)
    runs = section_table(page, "Runs tracked so far")
    assert headings(page, runs) == ["run_id", "started", "model", "auc"]
    assert [row[0] for row in table_cells(page, runs)] == ["run-a", "run-b", "run-c"]
    page.locator(f"{runs} thead th").nth(3).locator("button").click()  # auc, lowest first
    assert [row[0] for row in table_cells(page, runs)] == ["run-a", "run-c", "run-b"]
    assert opened.errors == []
    page.close()


@cases
def test_picking_a_feature_shows_its_slices_and_their_numbers(case, opened):
    page, data = opened.page, opened.data
    chosen = data.get("positive")
    # The explorer opens on the feature the page chose (explorer.most_informative).
    first = data["features"][data["first"]]["name"]
    assert page.input_value("#explorer-feature") == str(data["first"])
    assert_explorer_shows(page, data, first, chosen)
    before = table_cells(page, "#explorer-errors")
    # The feature of the worst slice the report found with pandas, then its slice's numbers.
    worst = section_table(page, "Worst slices")
    titles = headings(page, worst)
    feature, slice_name, rows, error = (
        table_cells(page, worst)[0][titles.index(name)]
        for name in ("feature", "slice", "rows", "error")
    )
    if feature == first:  # another feature first, so that the tables must change
        other = next(item["name"] for item in data["features"] if item["name"] != first)
        page.select_option("#explorer-feature", label=f"{other} ({kind(data, other)})")
        assert table_cells(page, "#explorer-errors") != before
        assert_explorer_shows(page, data, other, chosen)
        before = table_cells(page, "#explorer-errors")
    page.select_option("#explorer-feature", label=f"{feature} ({kind(data, feature)})")
    shown = table_cells(page, "#explorer-errors")
    assert shown != before
    assert_explorer_shows(page, data, feature, chosen)
    (row,) = [row for row in shown if row[0] == slice_name]
    assert int(row[1]) == int(rows)
    if data["task"] == "regression":
        assert float(row[3]) == pytest.approx(float(error), rel=1e-3)
    else:
        assert percent(row[3]) == pytest.approx(float(error), abs=0.0005 + 1e-4)
        assert row[5].startswith("+")  # a worst slice is worse than all rows
    assert opened.errors == []


def kind(data: dict, feature: str) -> str:
    return next(item["kind"] for item in data["features"] if item["name"] == feature)


@pytest.mark.xdist_group(MULTICLASS.project.group)
def test_picking_a_class_shows_its_false_positives_and_negatives(browser, reports):
    opened = open_report(browser, reports[MULTICLASS.name])
    page, data = opened.page, opened.data
    assert data["classes"] == ["basic", "premium", "standard"]
    page.select_option("#explorer-feature", label="region (categorical)")
    assert page.input_value("#explorer-class") == "0"
    assert_explorer_shows(page, data, "region", 0)
    before = table_cells(page, "#explorer-contrast")
    assert "Class basic against the rest" in page.inner_text("#explorer-summary")
    for chosen, label in list(enumerate(data["classes"]))[1:]:
        page.select_option("#explorer-class", label=label)
        assert f"Class {label} against the rest" in page.inner_text("#explorer-summary")
        assert headings(page, "#explorer-contrast")[-1] == f"mean probability of {label}"
        now = table_cells(page, "#explorer-contrast")
        assert now != before
        assert_explorer_shows(page, data, "region", chosen)
        before = now
    assert opened.errors == []
    page.close()


@cases
@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_page_fits_the_width_and_is_saved_as_a_screenshot(
    case, width, browser, reports, record_property
):
    opened = open_report(browser, reports[case.name], width)
    page = opened.page
    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert client_width == width
    assert scroll_width <= client_width, "the page scrolls sideways"
    wide = page.evaluate(
        """() => Array.from(document.body.querySelectorAll("*")).filter(node =>
            !node.closest(".scroll") && node.getBoundingClientRect().right
                > document.documentElement.clientWidth + 1).map(node => node.tagName)"""
    )
    assert wide == [], "elements outside a scrolling box are wider than the page"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, locator in (("page", None), ("explorer", page.locator("#explorer"))):
        path = ARTIFACTS / f"{case.name}-{width}px-{name}.png"
        if locator is None:
            page.screenshot(path=path, full_page=True)
        else:
            locator.screenshot(path=path)
        assert path.stat().st_size > 1_000
        saved.append(path)
    for path in saved:
        record_property("screenshot", str(path))
        print(f"screenshot: {path}")
    assert opened.errors == []
    page.close()
