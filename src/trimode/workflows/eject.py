"""`trimode eject`: copy the runtime's source into the project, for teams that must own
every line (as create-react-app's eject does). It is one way: afterwards the project
holds the code, and updates to it come by hand, not by moving a pin.

What it does to a project:
- copies the installed runtime's files (its modules and package data, not Python's
  bytecode caches) into src/trimode/, beside the project's own package;
- in pyproject.toml, replaces each `trimode[extras]` requirement by the runtime's own
  requirements and those of the extras asked for (read from the installed distribution's
  metadata), removes the [tool.uv.sources] pin, adds src/trimode to the wheel's packages,
  and makes the runtime's scripts (`trimode`) and entry points (the pytest plugin) the
  project's.

It refuses, in one line and before writing anything, a project with uncommitted changes
(git is how to see and undo what eject did), one without the pin (nothing to eject, or
ejected already), and any file it would overwrite. Every file is written to a temporary
first and moved into place only when all are written.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from trimode.core.errors import ProjectError
from trimode.core.layout import VERSION
from trimode.core.project import PYPROJECT, find_project, project_at
from trimode.core.writes import EJECT, Guard

RUNTIME = "trimode"
# The runtime's package folder (this module is trimode/workflows/eject.py).
PACKAGE = Path(__file__).resolve().parents[1]
# Where the runtime's source goes in the project, beside src/<package>/.
TARGET = f"src/{RUNTIME}"
# Files of the installed package that are not its source.
CACHES = ("__pycache__",)
COMPILED = (".pyc", ".pyo")
# Where an entry point group goes in pyproject.toml; any other is [project.entry-points.<group>].
ENTRY_POINT_TABLES: dict[str, tuple[str, ...]] = {
    "console_scripts": ("scripts",),
    "gui_scripts": ("gui-scripts",),
}
ONE_WAY = "eject is one way; git is how to see and undo what it did"


@dataclass(frozen=True)
class Ejection:
    """What eject does to a project (or, in a dry run, would do)."""

    root: Path
    # The runtime's version that is (or would be) copied.
    version: str
    # {the project's new file, relative to root: the runtime's installed file}.
    files: dict[Path, Path]
    # The edits of pyproject.toml, one line each.
    changes: list[str]
    # pyproject.toml's new text.
    pyproject: str


def eject(start: Path | str = ".", dry_run: bool = False) -> Ejection:
    """Copy the runtime into the project holding `start` and rewrite its pyproject.toml,
    all files or none (dry_run: write nothing, return what would be done)."""
    ejection = plan_ejection(start)
    if not dry_run:
        writes: dict[Path, Callable[[Path], object]] = {
            ejection.root / target: partial(_copy, source)
            for target, source in ejection.files.items()
        }
        text = ejection.pyproject.encode("utf-8")
        writes[ejection.root / PYPROJECT] = lambda temporary: temporary.write_bytes(text)
        Guard.of(project_at(ejection.root)).write_permitted(EJECT, writes)
    return ejection


def plan_ejection(start: Path | str = ".") -> Ejection:
    """What ejecting the project holding `start` takes; refused (ProjectError, one line)
    when the project pins no runtime, has uncommitted changes, or already has a file
    eject would write."""
    project = find_project(start)
    if project is None:
        raise ProjectError(
            f"{Path(start).resolve()} is not inside a trimode project (no pyproject.toml with "
            "a [tool.trimode] table here or above): run eject from the project"
        )
    root = project.root
    document = tomlkit.parse(project.pyproject.read_bytes().decode("utf-8"))
    sources = _table(document, "tool", "uv", "sources")
    pin = _key_named(sources, RUNTIME)
    if pin is None:
        if (root / TARGET).exists():
            raise ProjectError(f"{root}: ejected already ({TARGET}/ holds the runtime's source)")
        raise ProjectError(
            f"{project.pyproject}: no [tool.uv.sources] {RUNTIME} pin: eject replaces a pinned "
            "runtime by its source, and this project pins none"
        )
    tag = sources[pin].get("tag") if isinstance(sources[pin], dict) else None
    if tag is not None and str(tag) != f"v{VERSION}":
        raise ProjectError(
            f"{project.pyproject} pins {RUNTIME} at {tag}, but this is {RUNTIME} {VERSION}: "
            f"run `uv sync`, then `uv run {RUNTIME} eject`"
        )
    _check_committed(root)
    if (root / TARGET).exists():
        raise ProjectError(f"{root / TARGET} exists: eject never overwrites a file")
    try:
        distribution = metadata.distribution(RUNTIME)
    except metadata.PackageNotFoundError:
        raise ProjectError(
            f"the {RUNTIME} distribution is not installed here: run `uv sync`, then "
            f"`uv run {RUNTIME} eject`"
        ) from None
    changes = _rewrite(document, project.pyproject, distribution)
    was = sources[pin].as_string().strip()
    del sources[pin]
    changes.append(f"[tool.uv.sources] {RUNTIME} = {was} removed")
    if not sources:
        del document["tool"]["uv"]["sources"]
        if not document["tool"]["uv"]:
            del document["tool"]["uv"]
    files = {Path(TARGET) / path: PACKAGE / path for path in runtime_files()}
    return Ejection(root, VERSION, files, changes, tomlkit.dumps(document))


def runtime_files(package: Path = PACKAGE) -> list[Path]:
    """The runtime's files, relative to its package folder: its modules and package data
    (page.js, page.css, py.typed, ...), without the bytecode Python caches beside them."""
    return sorted(
        path.relative_to(package)
        for path in package.rglob("*")
        if path.is_file()
        and path.suffix not in COMPILED
        and not set(CACHES) & set(path.relative_to(package).parts)
    )


def runtime_requirements(distribution: metadata.Distribution) -> dict[str, list[str]]:
    """The runtime's requirements by extra, from its metadata: {"": those of every
    install, extra: those the extra adds}."""
    extras = distribution.metadata.get_all("Provides-Extra") or []
    found: dict[str, list[str]] = {"": [], **{canonicalize_name(extra): [] for extra in extras}}
    for text in distribution.requires or []:
        requirement = Requirement(text)
        marker = str(requirement.marker or "")
        extra = next((name for name in found if name and marker == f'extra == "{name}"'), "")
        if extra:
            requirement.marker = None
        elif "extra" in marker:
            raise ProjectError(
                f"{RUNTIME}'s requirement {text!r}: eject cannot tell which extra it belongs to"
            )
        found[extra].append(str(requirement))
    return found


def _rewrite(
    document: tomlkit.TOMLDocument, pyproject: Path, distribution: metadata.Distribution
) -> list[str]:
    """Rewrite the document's requirements of the runtime into the runtime's own, add
    src/trimode to the wheel and the runtime's entry points to the project; return what
    changed, a line each."""
    requirements = runtime_requirements(distribution)
    project = _table(document, "project")
    listed: list[tuple[str, Any, str, bool]] = [
        ("[project] dependencies", project, "dependencies", True)
    ]
    for where, table in (
        ("[project.optional-dependencies]", _table(document, "project", "optional-dependencies")),
        ("[dependency-groups]", _table(document, "dependency-groups")),
    ):
        listed += [(f"{where} {name}", table, name, False) for name in table]
    changes = []
    for where, table, key, base in listed:
        items = list(table.get(key, []))
        new = _replaced(items, requirements, base, f"{pyproject}: {where}")
        if new is not None:
            old = [str(item) for item in items if _is_runtime(item)]
            added = [str(item) for item in new if item not in items]
            changes.append(f"{where}: {', '.join(old)} -> {', '.join(added)}")
            table[key] = _array(new, multiline=base)
        elif base:
            raise ProjectError(
                f"{pyproject}: [project] dependencies has no {RUNTIME} requirement to replace"
            )
    packages = _table(document, "tool", "hatch", "build", "targets", "wheel").get("packages")
    if not isinstance(packages, list):
        raise ProjectError(
            f"{pyproject}: no [tool.hatch.build.targets.wheel] packages to add {TARGET} to"
        )
    packages.append(TARGET)
    changes.append(f"[tool.hatch.build.targets.wheel] packages: {TARGET} added")
    return changes + _add_entry_points(document, pyproject, distribution.entry_points)


def _replaced(
    items: Iterable[Any], requirements: dict[str, list[str]], base: bool, where: str
) -> list[Any] | None:
    """The items with each requirement of the runtime replaced by the runtime's own
    (those of every install only when `base`: elsewhere [project] dependencies has them)
    and those of its extras asked for; None when no item names the runtime."""
    new: list[Any] = []
    found = False
    for item in items:
        if not _is_runtime(item):
            new.append(item)
            continue
        found = True
        requirement = Requirement(str(item))
        if requirement.marker is not None or requirement.url:
            raise ProjectError(f"{where}: eject cannot rewrite {str(item)!r} (a marker or URL)")
        extras = sorted(canonicalize_name(extra) for extra in requirement.extras)
        unknown = [extra for extra in extras if extra not in requirements]
        if unknown:
            raise ProjectError(
                f"{where}: {str(item)!r} asks for extra {unknown[0]!r}, which {RUNTIME} "
                f"{VERSION} does not have"
            )
        for name in ([""] if base else []) + extras:
            new += [text for text in requirements[name] if text not in new]
    return new if found else None


def _add_entry_points(
    document: tomlkit.TOMLDocument, pyproject: Path, entry_points: Iterable[metadata.EntryPoint]
) -> list[str]:
    """Make the runtime's scripts and entry points the project's (an equal one is kept;
    a different one of the same name is never overwritten)."""
    changes = []
    for entry in entry_points:
        keys = ("project", *ENTRY_POINT_TABLES.get(entry.group, ("entry-points", entry.group)))
        parents, name = keys[:-1], keys[-1]
        where = f"[{'.'.join(keys)}] {entry.name}"
        table = _table(document, *parents, create=True)
        if name not in table:  # a new table, then a blank line before the next one
            table[name] = tomlkit.table().add(entry.name, entry.value).add(tomlkit.nl())
        elif entry.name not in table[name]:
            table[name][entry.name] = entry.value
        elif str(table[name][entry.name]) != entry.value:
            raise ProjectError(
                f"{pyproject}: {where} = {str(table[name][entry.name])!r}, but eject would "
                f"make it {entry.value!r}: it never overwrites one"
            )
        else:
            continue
        changes.append(f"{where} = {entry.value!r} added")
    return changes


def _check_committed(root: Path) -> None:
    """Refuse a project outside git or with uncommitted changes (untracked files too)."""
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "--", "."],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:  # git is not installed
        result = None
    if result is None or result.returncode != 0:
        raise ProjectError(f"{root} is not in a git repository: commit it first ({ONE_WAY})")
    changed = [line[3:] for line in result.stdout.splitlines() if line.strip()]
    if changed:
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        raise ProjectError(
            f"{root}: uncommitted changes ({changed[0]}{more}): commit or stash them first "
            f"({ONE_WAY})"
        )


def _is_runtime(item: Any) -> bool:
    """Whether a dependency list's item is a requirement of the runtime."""
    if not isinstance(item, str):
        return False  # {include-group = "..."} in [dependency-groups]
    try:
        return canonicalize_name(Requirement(item).name) == RUNTIME
    except InvalidRequirement:
        return False


def _key_named(table: Any, name: str) -> str | None:
    """The key of a table spelling the distribution `name` (uv normalizes names)."""
    return next((key for key in table if canonicalize_name(key) == name), None)


def _table(document: Any, *keys: str, create: bool = False) -> Any:
    """The table at keys in the document: an empty one when absent (made there when
    `create`)."""
    table = document
    for key in keys:
        if key not in table:
            if not create:
                return {}
            table[key] = tomlkit.table(is_super_table=key == "entry-points")
        table = table[key]
    return table


def _array(items: list[Any], multiline: bool) -> Any:
    """A TOML array of the items; when multiline, one a line under a comment saying
    where the runtime's requirements came from."""
    array = tomlkit.array()
    if not multiline:
        array.extend(items)
        return array
    array.add_line(
        comment=f"With {RUNTIME} {VERSION}'s own since `{RUNTIME} eject` (its code: {TARGET}/)."
    )
    for item in items:
        array.add_line(item)
    array.add_line(indent="")
    return array


def _copy(source: Path, temporary: Path) -> None:
    """Copy a runtime file into the temporary that becomes the project's copy."""
    shutil.copyfile(source, temporary)
