"""Template 4.0.0: the package's modules moved into rooms by purpose.

`copier update --trust` runs this inside the project after it merged the new template
version in (copier.yml, `_migrations`, stage "after"), and only when the update crosses
4.0.0. It runs after the merge, not before: copier diffs the user's project against a
fresh render of the old version, so a file moved before the merge would reach it as a
new file with no common ancestor and conflict as a whole. After the merge, the
template's module is at its new path, and copier has removed the old path from the
working tree (edited or not) while git's index still holds the user's version. This
script renders the old version (the common ancestor) and merges three ways:

- a module the user never changed is removed from its old path (`git rm`);
- a module the user changed gets their edits merged into its new path
  (`git merge-file`; where both sides changed the same lines, the file keeps copier's
  inline markers, which the pre-commit guard refuses to commit), then `git rm`;
- every Python file and notebook under src/, tests/ and notebooks/ has its references
  to moved modules rewritten (`<package>.preprocessing` -> `<package>.yours.features`,
  `from .config import` -> `from .run.config import`), so modules of the user's own
  keep importing what they used.

Usage (copier passes these): v4_0_0_rooms.py TEMPLATE_PATH OLD_COMMIT
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import copier
import yaml

# old module name -> (room, new module name), for every module of 3.x's flat package.
ROOMS = {
    "yours": {"models": "models", "preprocessing": "features"},
    "ingest": {
        "sources": "sources",
        "synthetic": "synthetic",
        "sampling": "sampling",
        "data": "loading",
        "contract": "contract",
        "locations": "locations",
    },
    "modelling": {
        name: name
        for name in (
            "pipeline",
            "compare",
            "tuning",
            "evaluation",
            "splitting",
            "quality",
            "column_advice",
            "compute",
            "timing",
        )
    },
    "reporting": {name: name for name in ("inspection", "plots", "report")},
    "publishing": {
        name: name for name in ("publish", "artifacts", "manifest", "promote", "predict", "files")
    },
    "run": {name: name for name in ("cli", "config", "errors", "progress")},
}
MOVES = {old: (room, new) for room, names in ROOMS.items() for old, new in names.items()}
LABELS = ("before updating", "last update", "after updating")  # copier's own markers
# `from .X import` and `from . import X` (X a moved module) inside the package.
RELATIVE = re.compile(r"\bfrom \.(\w+) import")
FROM_PACKAGE = re.compile(r"\bfrom \. import (\w+)\b")


def relative_import(room: str | None, old: str) -> str:
    """The relative module path of `old`'s new home, seen from a module in `room`
    (None: the package's top level)."""
    new_room, new = MOVES[old]
    if room is None:
        return f".{new_room}.{new}"
    return f".{new}" if new_room == room else f"..{new_room}.{new}"


def rewrite(text: str, package: str, room: str | None, inside: bool = True) -> str:
    """Point references to moved modules at their new homes: absolute ones anywhere and,
    for a module inside the package, relative ones seen from its `room` (None: the top
    level)."""
    names = "|".join(sorted(MOVES, key=len, reverse=True))
    absolute = re.compile(rf"\b{re.escape(package)}\.({names})\b(?![\w-])")
    text = absolute.sub(lambda m: f"{package}.{'.'.join(MOVES[m.group(1)])}", text)
    if not inside:
        return text
    text = RELATIVE.sub(
        lambda m: (
            f"from {relative_import(room, m.group(1))} import"
            if m.group(1) in MOVES
            else m.group(0)
        ),
        text,
    )
    if room is None:
        text = FROM_PACKAGE.sub(
            lambda m: (
                f"from .{MOVES[m.group(1)][0]} import {MOVES[m.group(1)][1]}"
                if m.group(1) in MOVES
                else m.group(0)
            ),
            text,
        )
    return text


def git(*args: str) -> subprocess.CompletedProcess:
    """Run git in the project, failing loudly."""
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True)


def render_old_version(template: str, commit: str, answers: dict, folder: Path) -> Path:
    """The project as the old template version generated it: the common ancestor."""
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    copier.run_copy(
        template,
        str(folder),
        data=data,
        vcs_ref=commit,
        defaults=True,
        overwrite=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
    )
    return folder


def users_version(path: Path) -> str | None:
    """The user's file at path: on disk, or (copier removes files the new template no
    longer has, edited or not) as git's index holds it; None when neither has it."""
    if path.exists():
        return path.read_text(encoding="utf-8")
    shown = subprocess.run(["git", "show", f":{path.as_posix()}"], capture_output=True, text=True)
    return shown.stdout if shown.returncode == 0 else None


def merge_users_edits(mine: str, base: Path, theirs: Path) -> bool:
    """Merge the user's text (mine, from the old path) with the template's new file
    (theirs) over base; write the result to theirs. True when it merged without
    conflicts."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as merged:
        merged.write(mine)
    labels = [flag for label in LABELS for flag in ("-L", label)]
    result = subprocess.run(
        ["git", "merge-file", *labels, merged.name, str(base), str(theirs)],
        capture_output=True,
        text=True,
    )
    theirs.write_text(Path(merged.name).read_text(encoding="utf-8"), encoding="utf-8")
    Path(merged.name).unlink()
    return result.returncode == 0


def move_modules(package: str, old_render: Path) -> list[str]:
    """Remove or merge every moved module still at its old path; say what was done."""
    said = []
    source = Path("src") / package
    for old, (room, new) in MOVES.items():
        old_path, new_path = source / f"{old}.py", source / room / f"{new}.py"
        mine, base = users_version(old_path), old_render / old_path
        if mine is None or not base.exists():  # gone, or never the template's: leave it
            continue
        forget = ["rm", "--quiet", "--force", "--ignore-unmatch", "--", str(old_path)]
        if mine == base.read_text(encoding="utf-8"):
            git(*forget)
            continue
        clean = merge_users_edits(mine, base, new_path)
        new_path.write_text(
            rewrite(new_path.read_text(encoding="utf-8"), package, room), encoding="utf-8"
        )
        git("add", "--", str(new_path))
        git(*forget)
        outcome = "your edits merged" if clean else "CONFLICTS to resolve (inline markers)"
        said.append(f"{old_path} -> {new_path}: {outcome}")
    return said


def rewrite_references(package: str) -> list[str]:
    """Rewrite references to moved modules in the project's Python files and notebooks."""
    changed = []
    source = Path("src") / package
    files = [*Path("src").rglob("*.py"), *Path("tests").rglob("*.py")]
    files += Path("notebooks").glob("*.ipynb")
    for path in sorted(files):
        inside = path.is_relative_to(source)
        parts = path.relative_to(source).parts if inside else ()
        room = parts[0] if len(parts) > 1 else None
        text = path.read_text(encoding="utf-8")
        updated = rewrite(text, package, room, inside)
        if updated != text:
            path.write_text(updated, encoding="utf-8")
            git("add", "--", str(path))
            changed.append(str(path))
    return changed


def main() -> None:
    """Move the modules into rooms, keeping the user's edits, and say what happened."""
    template, commit = sys.argv[1], sys.argv[2]
    answers = yaml.safe_load(Path(".copier-answers.yml").read_text(encoding="utf-8"))
    package = answers["package_name"]
    with tempfile.TemporaryDirectory() as folder:
        old_render = render_old_version(template, commit, answers, Path(folder) / "old")
        said = move_modules(package, old_render)
    rewritten = rewrite_references(package)
    for line in said:
        print(f"migration 4.0.0: {line}", file=sys.stderr)
    print(
        f"migration 4.0.0: modules moved into rooms under src/{package}/ "
        f"(yours/, ingest/, modelling/, reporting/, publishing/, run/); "
        f"references rewritten in {len(rewritten)} file(s)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
