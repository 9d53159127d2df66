"""Template 3.0.0: two settings that used to pass silently now need a key that says so.

- `outputs.root` outside the project is refused unless `outputs.allow_outside_project
  = true` (a run replaces its output root whole);
- `evaluation.min_lift_over_baseline` at 0 or below, or a threshold at what a constant
  model scores (roc_auc 0.5, r2 0), is refused unless `evaluation.allow_no_lift = true`.

A project that set either on purpose keeps working: `copier update` runs this inside
the project before it merges 3.0.0 in (copier.yml, `_migrations`, stage "before"), and
it adds the key to the config file that made the setting, with a comment saying why,
then stages the file (copier merges the user's changes from git's index). A file it
cannot edit safely is left as it is, and the line to add is printed instead.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

MARK = "# Added by the template's 3.0.0 migration: "
# The project's own folders an output root may no longer be or lie in.
PROJECT_FOLDERS = ("configs", "src", "notebooks", "tests", "data", ".git", ".github", "docs")
# A constant model's score where it does not depend on the data.
CONSTANT = {"roc_auc": 0.5, "r2": 0.0}


def outside_the_project(root: str) -> bool:
    """Whether an output root (relative to the project root, the current folder) lies
    outside the project."""
    project = Path.cwd().resolve()
    resolved = (project / Path(root).expanduser()).resolve()
    return not resolved.is_relative_to(project)


def primary_metric(settings: dict, base: dict) -> str:
    """The primary metric a file's "primary" threshold means: its own, base.toml's, or the
    task's default."""
    for source in (settings, base):
        metric = source.get("evaluation", {}).get("primary_metric")
        if metric:
            return metric
    task = settings.get("task") or base.get("task")
    return "r2" if task == "regression" else "roc_auc"


def needed(settings: dict, base: dict) -> list[tuple[str, str, str]]:
    """The keys one config file needs: (table, key, why)."""
    keys = []
    outputs = settings.get("outputs", {})
    outside = "root" in outputs and outside_the_project(str(outputs["root"]))
    if outside and "allow_outside_project" not in outputs:
        keys.append(("outputs", "allow_outside_project", "outputs.root lies outside"))
    evaluation = settings.get("evaluation", {})
    lift = evaluation.get("min_lift_over_baseline")
    weak = lift is not None and lift <= 0
    thresholds = {
        (primary_metric(settings, base) if metric == "primary" else metric): bound
        for metric, bound in evaluation.get("thresholds", {}).items()
    }
    weak = weak or any(
        metric in CONSTANT and bound <= CONSTANT[metric] for metric, bound in thresholds.items()
    )
    if weak and "allow_no_lift" not in evaluation:
        keys.append(("evaluation", "allow_no_lift", "a model no better than the baseline passes"))
    return keys


def add_key(text: str, table: str, key: str, why: str) -> str | None:
    """The file's text with `key = true` added to its [table] (or as a dotted key after
    the table's first dotted line); None when neither is there."""
    lines = text.splitlines(keepends=True)
    addition = [f"{MARK}{why} the project\n", f"{key} = true\n"]
    for index, line in enumerate(lines):
        if line.strip() == f"[{table}]":
            return "".join([*lines[: index + 1], *addition, *lines[index + 1 :]])
    for index, line in enumerate(lines):
        if line.lstrip().startswith(f"{table}."):
            dotted = [addition[0], f"{table}.{key} = true\n"]
            return "".join([*lines[: index + 1], *dotted, *lines[index + 1 :]])
    return None


def own_folder(root: str) -> str | None:
    """The project's own folder an output root lies in (3.0.0 refuses it), or None."""
    project = Path.cwd().resolve()
    resolved = (project / Path(root).expanduser()).resolve()
    for name in PROJECT_FOLDERS:
        if resolved.is_relative_to(project / name):
            return name
    return None


def main() -> None:
    """Add the keys the project's config files need, and stage them."""
    changed, manual = [], []
    base_path = Path("configs") / "base.toml"
    try:
        base = tomllib.loads(base_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        base = {}
    for path in sorted(Path("configs").glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        try:
            settings = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            continue  # the project's own checks name a file that is not TOML
        root = settings.get("outputs", {}).get("root")
        if root is not None and own_folder(str(root)):
            manual.append(
                f"{path}: outputs.root = {root!r} lies in the project's own "
                f"{own_folder(str(root))}/ folder, which 3.0.0 refuses: choose e.g. outputs/<mode>"
            )
        edited = text
        for table, key, why in needed(settings, base):
            added = add_key(edited, table, key, why)
            if added is None:
                manual.append(f"{path}: add `{key} = true` under [{table}] ({why} the project)")
                continue
            edited = added
        if edited != text:
            tomllib.loads(edited)  # what was added is valid TOML, or nothing is written
            path.write_text(edited, encoding="utf-8")
            changed.append(str(path))
    if changed:
        subprocess.run(["git", "add", "--", *changed], check=True)
    print(
        f"migration 3.0.0: kept outputs.root and the quality guard as set in "
        f"{', '.join(changed) or 'no config file'}",
        file=sys.stderr,
    )
    for line in manual:
        print(f"migration 3.0.0: {line}", file=sys.stderr)


if __name__ == "__main__":
    main()
