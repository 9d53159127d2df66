"""Names every layer agrees on: the modes, the runtime's version, and the files a run
writes, each spelled once.

A run of a mode writes into its output root (outputs/<mode>/ by default) and reads its
local sample from <data.sample_dir>/<mode>/. The modes are listed here, apart from the
config model, so that the command line answers --help without importing pydantic.
"""

from __future__ import annotations

# The runtime's version: the template's too (one version, one tag). A test checks that
# pyproject.toml, CHANGELOG.md and the template's pin say the same.
VERSION = "6.3.0"

MODES = ("test", "human", "production")

# What a training run publishes together (artifacts/publish.py swaps them in at once).
MODEL_FILE = "model.skops"
MANIFEST_FILE = "manifest.json"
METRICS_FILE = "metrics.json"
MODEL_CARD_FILE = "model-card.md"
# Written into an output root beside a run's files: `compare`'s leaderboard, `report`'s page.
LEADERBOARD_CSV = "leaderboard.csv"
LEADERBOARD_JSON = "leaderboard.json"
REPORT_FILE = "report.html"
# The marker that says the project made an output root (and may replace it whole).
MARKER_FILE = ".trimode-output.json"
# Every file a run or a command writes by name into an output root.
PIPELINE_FILES = frozenset(
    [
        MODEL_FILE,
        MANIFEST_FILE,
        METRICS_FILE,
        MODEL_CARD_FILE,
        LEADERBOARD_CSV,
        LEADERBOARD_JSON,
        REPORT_FILE,
    ]
)
# Files a new run keeps from the outputs it replaces: the leaderboard stays true for a
# new model (a report of the old model does not).
CARRIED_OVER = (LEADERBOARD_CSV, LEADERBOARD_JSON)

# A mode's local sample, in <data.sample_dir>/<mode>/: the rows, their metadata, the
# data contract recorded at the mode's first load, and the copies for spreadsheets.
SAMPLE_FILE = "sample.parquet"
META_FILE = "sample.meta.json"
CONTRACT_FILE = "contract.json"
SAMPLE_COPIES = {"csv": "sample.csv", "xlsx": "sample.xlsx"}
