"""The report page's size and its time to interactive in headless Chromium.

A generated project (the default, classification) trains in human mode on its sample
of 50,000 rows (10,000 held out, as human mode holds out) and writes its report; then
a second time with as many held-out rows as that sample has (62,500 rows, 80% held
out: 50,000 rows in the explorer). For each page the script prints its size (target:
under 5 MB), the share of it that is the explorer's embedded rows, and, opened from
disk in headless Chromium (Debian's) driven by Playwright, its time to interactive: from the start
of navigation to the mark page.js sets when the tables and the explorer are ready
(median of the repeats), with the share of it its script took.
Run it with: uv run python benchmarks/report_page.py
(at smoke size, TRIMODE_BENCHMARK_SMOKE=1: 3,000 and 2,500 rows, one repeat; see common.py).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from common import make_project, say_if_smoke, sized
from playwright.sync_api import sync_playwright

# As the browser tests look for it (tests/conftest.py): Debian's, else one on PATH.
CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
TARGET_BYTES = 5 * 1_000_000
DATA_BLOCK = re.compile(r'<script type="application/json" id="explorer-rows">(.*?)</script>', re.S)
# Two runs, each: the rows it reads (times --rows) and the share it holds out. Human mode
# as it is, and one whose explorer holds as many rows as human mode's sample.
PAGES = {"human-mode sample": (1.0, 0.2), "as many held-out rows": (1 / 0.8, 0.8)}


def write_report(project: Path, python: Path, root: Path, rows: int, held_out: float) -> Path:
    """Train one model in human mode on `rows` rows (a share held out), in a project
    root of its own, and write the report; return its path."""
    # A project root: the configs, and the pyproject.toml whose [tool.trimode] names the
    # project's code (installed, so found from anywhere).
    shutil.copytree(project / "configs", root / "configs")
    shutil.copy2(project / "pyproject.toml", root / "pyproject.toml")
    settings = [
        f"data.max_rows={rows}",
        f"data.test_fraction={held_out}",
        'train.models=["hist_gradient_boosting"]',
    ]
    sets = [part for setting in settings for part in ("--set", setting)]
    for command in ("train", "report"):
        run = [str(python), "-m", "trimode", command, "--mode", "human"]
        run += ["--config-dir", str(root / "configs"), *sets]
        subprocess.run(run, cwd=project, check=True, capture_output=True)
    return root / "outputs" / "human" / "report.html"


def time_to_interactive(browser, page_path: Path) -> tuple[float, float]:
    """Milliseconds from the start of navigation to the mark "report-interactive", and
    those its script took (from the mark "report-script-start")."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_path.as_uri())
    page.wait_for_selector("html[data-ready=true]", timeout=120_000)
    start, ready = page.evaluate(
        "['report-script-start', 'report-interactive']"
        ".map(name => performance.getEntriesByName(name)[0].startTime)"
    )
    page.close()
    return ready, ready - start


def main() -> None:
    """Generate and install the project, write both reports, measure them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=sized(50_000, 3_000))
    parser.add_argument("--repeats", type=int, default=sized(5, 1))
    arguments = parser.parse_args()
    say_if_smoke()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        project, python = make_project(workdir)
        with sync_playwright() as playwright:
            chromium = next(filter(None, map(shutil.which, CHROMIUM)), None)
            if chromium is None:
                raise SystemExit(f"no Chromium (looked for {', '.join(CHROMIUM)})")
            browser = playwright.chromium.launch(executable_path=chromium)
            for name, (times, held_out) in PAGES.items():
                root = workdir / name.replace(" ", "-")
                path = write_report(project, python, root, round(arguments.rows * times), held_out)
                measure(browser, name, path, arguments.repeats)
            browser.close()


def measure(browser, name: str, path: Path, repeats: int) -> None:
    """Print a page's size and its time to interactive."""
    text = path.read_text(encoding="utf-8")
    size = path.stat().st_size
    block = DATA_BLOCK.search(text)
    embedded = len(block.group(1).encode()) if block else 0
    held_out = int(re.search(r'"rows":(\d+)', block.group(1)).group(1)) if block else 0
    timings = [time_to_interactive(browser, path) for _ in range(repeats)]
    ready = statistics.median(timing[0] for timing in timings)
    script = statistics.median(timing[1] for timing in timings)
    print(f"{name}: {held_out:,} held-out rows in the explorer")
    print(f"  page size: {size / 1e6:6.2f} MB, the explorer's rows {embedded / 1e6:.2f} MB of it")
    print(f"  time to interactive (headless Chromium, median of {repeats}): {ready:7.0f} ms")
    print(f"  of which page.js: {script:7.0f} ms")
    print(f"size ratio page / 5 MB, {name}: {size / TARGET_BYTES:6.3f}   (target: under 1)")
    print(f"time ratio page.js / time to interactive, {name}: {script / ready:6.3f}", flush=True)


if __name__ == "__main__":
    main()
