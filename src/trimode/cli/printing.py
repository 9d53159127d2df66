"""What the commands print: their results on standard output, notes and warnings on the
error stream, one line each, passwords hidden; the leaderboard as a table."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trimode.core.secrets import redact

if TYPE_CHECKING:  # imported by the commands that print them: --help does not
    from rich.table import Table

    from trimode.modelling.compare import Leaderboard


def print_notes(notes: Sequence[str], warnings: Sequence[str] = ()) -> None:
    """Print what the run noted and warned about, one line each, on the error stream."""
    for note in notes:
        print(f"note: {redact(note)}", file=sys.stderr)
    for warning in warnings:
        print(f"warning: {redact(warning)}", file=sys.stderr)


def print_fetch(fetched) -> None:
    """Say what a fetch kept, where it went, and how the source's schema drifted."""
    meta = fetched.meta
    how = "stratified by the target, " if meta["stratify"] else ""
    why = f" ({fetched.reason})" if fetched.reason else ""
    print(
        f"sample{why}: {meta['rows_kept']:,} of {meta['rows_seen']:,} rows from "
        f"{meta['source_description']}; {how}seed {meta['seed']} -> {shown(fetched.path)}"
    )
    copies = [
        shown(fetched.path.with_name(entry["file"])) for entry in meta.get("copies", {}).values()
    ]
    if copies:
        print(f"copies for spreadsheets and scripts: {', '.join(copies)}")
    if fetched.drift:
        drift = fetched.drift.describe()
        print(f"warning: the source's columns changed since the last fetch: {drift}")


def shown(path: Path) -> str:
    """A path as a user reads it: relative to the current folder when inside it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def render_leaderboard(leaderboard: Leaderboard) -> Table:
    """The leaderboard as a rich table: "mean ± std" per metric, best model first."""
    from rich import box
    from rich.table import Table

    from trimode.modelling.compare import BASELINE, TIMES, random_split_column

    task, primary = leaderboard.rules, leaderboard.primary_metric
    caption = "↑ greater is better, ↓ smaller is better; times are seconds per fold"
    split = leaderboard.split or {}
    beside = random_split_column(primary).removesuffix("_mean")
    metrics = task.metric_names
    if f"{beside}_mean" in leaderboard.rows.columns:
        metrics = [
            *metrics[: metrics.index(primary) + 1],
            beside,
            *metrics[metrics.index(primary) + 1 :],
        ]
        caption += (
            f"; {primary} random split: on shuffled folds that ignore the {split.get('kind')} "
            f"column {split.get('column')!r}, how optimistic a random split would be"
        )
    variants = bool(leaderboard.variants)
    halving = "rows" in leaderboard.rows.columns
    if halving:
        caption += "; rows: the rows halving gave a variant last (it ranks below the finalists)"
    table = Table(
        title=f"{leaderboard.mode} mode: {leaderboard.n_rows:,} rows, {leaderboard.cv_folds}-fold "
        f"cross-validation{_folds_by(split)}, best {primary} first"
        + (" (PARTIAL: not every model finished)" if leaderboard.partial else ""),
        caption=caption,
        box=box.SIMPLE_HEAD,
    )
    table.add_column("model", no_wrap=True)
    if variants:
        table.add_column("params")
    for name in metrics:
        better = task.metric(primary if name == beside else name).greater_is_better
        style = "bold" if name == primary else ""
        label = f"{primary} random split" if name == beside else name
        table.add_column(f"{label} {'↑' if better else '↓'}", justify="right", style=style)
    for name in TIMES:
        table.add_column(name.replace("_", " "), justify="right")
    if halving:
        table.add_column("rows", justify="right")
    for row in leaderboard.rows.to_dict(orient="records"):
        cells = [row["model"]] + ([row["params"]] if variants else [])
        cells += [_mean_std(row, name, 4) for name in metrics]
        cells += [_mean_std(row, name, 2) for name in TIMES]
        if halving:
            cells.append(f"{row['rows']:,.0f}" if _is_finite(row["rows"]) else "all")
        table.add_row(*cells, style="dim" if row["model"] == BASELINE else None)
    return table


def print_leaderboard(leaderboard: Leaderboard) -> None:
    """Print the leaderboard table whole, wider than the terminal if need be, never squeezed."""
    from rich.console import Console
    from rich.measure import Measurement

    table = render_leaderboard(leaderboard)
    console = Console()
    needed = Measurement.get(console, console.options.update_width(1_000), table).maximum
    Console(width=max(console.width, needed)).print(table)


def _folds_by(split: dict[str, Any]) -> str:
    """ " by group 'customer'" or " forward in time 'day'" for folds that are not random."""
    words = {"group": "by group", "time": "forward in time"}.get(split.get("kind") or "")
    return f" {words} {split.get('column')!r}" if words else ""


def _mean_std(row: dict[str, Any], name: str, digits: int) -> str:
    mean, std = row[f"{name}_mean"], row[f"{name}_std"]
    if not _is_finite(mean):
        return "n/a"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _is_finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)
