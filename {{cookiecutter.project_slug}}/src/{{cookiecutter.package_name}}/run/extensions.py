"""The seam where optional machinery plugs into the one code path.

A template answer can add machinery that only some projects have. Such a project holds
run/plugged.py, which names what that machinery adds: its config tables (SECTIONS,
{"name": pydantic model}, validated like every other table) and what it does after a
command's work (`after(event, config, **facts)`) and, for the report, the runs it
recorded so far (`tracked_runs(config)`). Without that file the config has its
standard tables only (a file that sets another is refused as an unknown key) and
`after` does nothing, so the modules of the code path never name optional machinery.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .config import Config

PLUGGED = f"{__package__}.plugged"


@functools.cache
def _plugged() -> ModuleType | None:
    """run/plugged.py, imported once; None when this project has no optional machinery."""
    try:
        return importlib.import_module(PLUGGED)
    except ModuleNotFoundError as error:
        if error.name != PLUGGED:  # the module is there, but something it imports is not
            raise
        return None


def plugged_sections() -> dict[str, type[BaseModel]]:
    """The config tables optional machinery adds, by name."""
    module = _plugged()
    return dict(module.SECTIONS) if module is not None else {}


def after(event: str, config: Config, **facts: Any) -> None:
    """Tell optional machinery that a command did its work: "compare" (leaderboard),
    "train" (manifest, output_dir), "report" (manifest, path). It never fails the run."""
    module = _plugged()
    if module is not None:
        module.after(event, config, **facts)


def tracked_runs(config: Config) -> list[dict[str, Any]] | None:
    """The runs optional machinery recorded so far, for the report's panel "Runs tracked
    so far" (see reporting/report.py); None when there is none, or it is off."""
    module = _plugged()
    return module.tracked_runs(config) if module is not None else None
