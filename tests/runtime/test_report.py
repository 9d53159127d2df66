"""The report is one valid, self-contained HTML file whose images are real PNGs, whose
only scripts are its own and the data they read, and whose text is escaped."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from html.parser import HTMLParser

import pytest

from trimode.artifacts.manifest import sealed
from trimode.core.errors import ProjectError
from trimode.core.layout import LEADERBOARD_JSON, MANIFEST_FILE, REPORT_FILE

from .conftest import machine_config

# The slow tests import matplotlib and the report's modules themselves: a run of the fast
# tests collects this module too, and should not pay for imports it does not use.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Tracked runs as a tracking store lists them, one with text to escape.
TRACKED_RUNS = [
    {
        "run_id": "a1",
        "started": "2026-01-02T03:04:05",
        "model": "random_forest",
        "metrics": {"roc_auc": 0.71},
    },
    {
        "run_id": "<i>b2</i>",
        "started": "2026-01-03T03:04:05",
        "model": "hist_gradient_boosting",
        "metrics": {"roc_auc": 0.74, "accuracy": 0.8},
        "status": "FINISHED",
        "params": {"a": 1},
    },
]
VOID_ELEMENTS = {"meta", "img", "br", "hr", "link", "input", "col", "wbr", "source"}


class StrictParser(HTMLParser):
    """Records every tag, and every end tag that does not close the innermost open one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.problems: list[str] = []
        # The text inside each <script> element, in order.
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_data(self, data):
        if self.open and self.open[-1] == "script":
            self.scripts.append(data)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> at {self.getpos()} closes {self.open[-1:]}")
        else:
            self.open.pop()


def parse(page: str) -> StrictParser:
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def reports(machine_run, tmp_path_factory) -> dict[str, str]:
    """The test-mode report of the machine run, made without a leaderboard, and with one
    (and tracked runs)."""
    from trimode.workflows.report import build_report

    config = machine_config(tmp_path_factory.mktemp("report"))
    shutil.copytree(machine_run.output_dir, config.output_dir)
    pages = {"without leaderboard": build_report(config).read_text()}
    rows = [{"model": "<b>bold</b> & model", "score_mean": 0.5}]
    (config.output_dir / LEADERBOARD_JSON).write_text(json.dumps({"rows": rows}))
    path = build_report(config, tracked_runs=TRACKED_RUNS)
    assert path == config.output_dir / REPORT_FILE
    pages["with leaderboard"] = path.read_text()
    return pages


@pytest.mark.slow
def test_report_is_valid_html_with_tables(reports):
    for page in reports.values():
        parser = parse(page)
        assert parser.problems == []
        assert parser.open == []
        tags = [tag for tag, _ in parser.tags]
        assert tags[0] == "html" and "body" in tags
        assert tags.count("table") >= 5


@pytest.mark.slow
def test_every_image_is_an_embedded_png(reports):
    import matplotlib.image

    page = reports["with leaderboard"]
    sources = [attrs["src"] for tag, attrs in parse(page).tags if tag == "img"]
    assert len(sources) >= 3  # at least the target, the errors and the worst slices
    for source in sources:
        prefix = "data:image/png;base64,"
        assert source.startswith(prefix)
        data = base64.b64decode(source.removeprefix(prefix), validate=True)
        assert data.startswith(PNG_SIGNATURE)
        pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
        assert pixels.ndim == 3 and min(pixels.shape[:2]) > 50


@pytest.mark.slow
def test_report_opens_offline_and_escapes_text(reports):
    for page in reports.values():
        parser = parse(page)
        attributes = [value for _, attrs in parser.tags for key, value in attrs.items() if value]
        assert not [value for value in attributes if re.match(r"(https?:)?//", value)]
        assert "<link" not in page and "url(" not in page and "@import" not in page
        # Two scripts, both inline: the explorer's rows as JSON, and the page's own script.
        scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
        assert scripts == [{"type": "application/json", "id": "explorer-rows"}, {}]
    assert "compare` was not run" in reports["without leaderboard"]
    with_leaderboard = reports["with leaderboard"]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; model" in with_leaderboard
    assert "<b>bold</b>" not in with_leaderboard


@pytest.mark.slow
def test_the_page_embeds_its_script_and_the_held_out_rows(reports, machine_run):
    from importlib import resources

    from trimode.reporting import page as report_page

    page_js = resources.files(report_page.__package__).joinpath("page.js").read_text()
    for page in reports.values():
        data_text, script = parse(page).scripts
        assert script.strip() == page_js.strip()
        data = json.loads(data_text)
        rows = machine_run.manifest["split"]["n_test"]
        assert data["rows"] == rows == len(data["actual"]) == len(data["predicted"])
        assert {feature["name"] for feature in data["features"]} >= {"age", "region"}
        for feature in data["features"]:
            assert len(feature["codes"]) == data["rows"]
            assert set(feature["codes"]) <= set(data["alphabet"][: len(feature["slices"])])


def section_of(page: str, heading_id: str) -> str:
    """The page from the heading of that id to the next <h2>."""
    start = page.index(f'<h2 id="{heading_id}">')
    return page[start : page.index("<h2", start + 1)]


@pytest.mark.slow
def test_the_page_shows_why_the_model_decides_and_its_calibration(reports, machine_run):
    manifest = machine_run.manifest
    importance = manifest["importance"]
    why = section_of(reports["without leaderboard"], "importance")
    # A chart, a table of every input column most important first, and partial dependence.
    assert why.count("<img") == 2 and "Partial dependence of the 3 most important" in why
    table = why[why.index("<table") : why.index("</table>")]
    names = re.findall(r"<tr>\s*<td>([^<]*)</td>", table)
    assert names == [item["feature"] for item in importance["features"]]
    assert set(names) == set(manifest["features"]["inputs"])
    assert f"drop in {manifest['primary_metric']} when shuffled" in why
    # Counts read as people write them: 2,400 (3,000 rows: the training side has thousands).
    assert f"on {importance['rows']:,} of the {importance['held_out_rows']:,} held-out rows" in why
    training_rows = manifest["split"]["n_train"]
    assert (
        training_rows >= 1_000
        and f"Data (the {training_rows:,} training rows)" in reports["without leaderboard"]
    )
    calibration = section_of(reports["without leaderboard"], "calibration")
    assert calibration.count("<img") == 1 and "Brier score" in calibration


def table_after(page: str, text: str) -> list[list[str]]:
    """The cells of each body row of the first table after `text`."""
    start = page.index(text)
    table = page[page.index("<tbody>", start) : page.index("</tbody>", start)]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row) for row in rows]


@pytest.mark.slow
def test_the_page_reads_right(reports, machine_run):
    manifest, page = machine_run.manifest, reports["without leaderboard"]
    # Whether the model beat the baseline, metric by metric, the metric's direction applied.
    for name, _, _, better, beats in table_after(page, "Metrics on the held-out"):
        higher = manifest["metrics"][name] > manifest["baseline"][name]
        assert beats == ("yes" if higher == (better == "higher") else "no"), name
    # Worst predictions: wrong rows only (actual and predicted are its 2nd and 3rd cells).
    worst = table_after(page, "<h3>Worst predictions</h3>")
    assert worst and all(row[1] != row[2] for row in worst)
    # Plain numbers: no exponent notation in any table.
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert not [cell for cell in cells if re.fullmatch(r"-?[\d.]+e[+-]?\d+", cell)]


@pytest.mark.slow
def test_the_tracked_runs_panel_shows_only_when_runs_are_given(reports):
    assert "Runs tracked so far" not in reports["without leaderboard"]
    page = reports["with leaderboard"]
    assert "Runs tracked so far" in page and "2 runs" in page
    section = page[page.index("Runs tracked so far") :]
    section = section[: section.index("</table>")]
    headings = re.findall(r"<th>([^<]*)</th>", section)
    assert headings == ["run_id", "started", "model", "status", "roc_auc", "accuracy"]
    assert "&lt;i&gt;b2&lt;/i&gt;" in section and "<i>b2</i>" not in page
    assert "FINISHED" in section and "0.74" in section


@pytest.mark.slow
def test_report_without_a_trained_model_says_to_train_first(tmp_path):
    from trimode.workflows.report import build_report

    with pytest.raises(ProjectError, match=r"run `train --mode test` first"):
        build_report(machine_config(tmp_path))


@pytest.mark.slow
def test_a_report_of_a_model_replaced_meanwhile_is_not_written(machine_run, tmp_path, monkeypatch):
    from trimode.workflows import report

    config = machine_config(tmp_path)
    shutil.copytree(machine_run.output_dir, config.output_dir)
    load = report.load_dataset

    def published_meanwhile(config, **options):
        """A train that publishes another model while the report reads the data."""
        manifest = json.loads((config.output_dir / MANIFEST_FILE).read_text())
        manifest["artifact"]["sha256"] = "0" * 64
        (config.output_dir / MANIFEST_FILE).write_text(json.dumps(sealed(manifest)))
        return load(config, **options)

    monkeypatch.setattr(report, "load_dataset", published_meanwhile)
    with pytest.raises(ProjectError, match=r"a new model was published while the report"):
        report.build_report(config)
    assert not (config.output_dir / REPORT_FILE).exists()


@pytest.mark.slow
def test_the_report_names_its_model_and_whether_the_leaderboard_ranks_its_rows(tmp_path):
    from trimode.artifacts.model_file import read_manifest
    from trimode.workflows.compare import compare
    from trimode.workflows.report import build_report
    from trimode.workflows.train import train

    one_model = {"compare": {"models": ["logistic_regression"]}}
    config = machine_config(tmp_path, **one_model)
    compare(config)
    train(config)
    page = build_report(config).read_text()
    sha256 = read_manifest(config.output_dir)["artifact"]["sha256"]
    assert f'<meta name="trimode-model-sha256" content="{sha256}">' in page
    assert "on the rows this model was trained on" in page

    # Other rows (the data changed), a new model, the old leaderboard carried over.
    fewer = machine_config(tmp_path, **one_model, data={"max_rows": 2_000})
    train(fewer)
    page = build_report(fewer).read_text()
    assert "on other rows than this model was trained on" in page
    assert read_manifest(fewer.output_dir)["artifact"]["sha256"] != sha256
