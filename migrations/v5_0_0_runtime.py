"""Template 5.0.0: the machinery left the project for the trimode runtime, a dependency.

`copier update --trust` runs this inside the project after it merged 5.0.0 in
(copier.yml, `_migrations`, stage "after"), and only when the update crosses 5.0.0. By
then copier has written 5.0.0's files and removed from the working tree every file of
the old version that 5.0.0 no longer has, edited or not; git's index still holds the
user's versions. This script renders the old and the new version (the common ancestor
and what 5.0.0 makes of the same answers) and, comparing the three:

- the user's files move to src/<package>/models.py, features.py and expectations.py
  (from yours/ in 4.x, from models.py and preprocessing.py in 1.x-3.x), definition by
  definition: the user's registry, preprocessing and expectations with their edits,
  imports pointed at the runtime's public API (`from trimode import ModelSpec`); the
  machinery those files held (FeatureSchema, infer_schema, schema_of, model_names,
  build_model, ...) is the runtime's now and goes, unless the user's code still uses
  it. An edit of machinery that cannot carry over is never lost: the user's whole old
  file stays beside the new one (`<old path>.before-5.0`) and one line names it;
- every other file the old version had and 5.0.0 has not (the machinery under
  src/<package>/, tests/machinery/, tests/your_pipeline/, ...) leaves the index when the
  user never changed it; one they changed is kept as `<path>.before-5.0` (nothing
  imports or collects it) and named in one line saying what to do;
- imports of moved modules in the project's other Python files and notebooks (the
  user's own modules and tests) are rewritten: `<package>.yours.models` ->
  `<package>.models`, machinery names the runtime offers -> `from trimode import ...`;
  `python -m <package>` -> `python -m trimode`. What has no new home is named, with
  what to use instead.

Everything it changes is staged, so `git status` shows the update as one change.
Usage (copier passes these): v5_0_0_runtime.py TEMPLATE_PATH OLD_REF NEW_REF
"""

import ast
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import copier
import yaml
from python_source import (
    Binding,
    Composed,
    Policy,
    Style,
    Unresolved,
    absolute,
    compose,
    relative_to,
    rewrite_imports,
)

SAY = "migration 5.0.0:"
ACT = f"{SAY} ACTION NEEDED:"
SUFFIX = ".before-5.0"  # what a kept old file is renamed to
ANSWERS = ".copier-answers.yml"
# The user's files in 5.0.0 (src/<package>/<name>.py) and where older versions had them
# under src/<package>/, newest layout first.
USER_FILES = {
    "features": ("yours/features.py", "preprocessing.py"),
    "expectations": ("yours/expectations.py",),
    "models": ("yours/models.py", "models.py"),
}
# Public names the runtime makes instances of itself: an edited copy cannot take effect.
RUNTIME_TYPES = frozenset({"FeatureSchema", "ModelSpec"})
# What replaces a machinery name the runtime does not offer.
HINTS = {
    "infer_schema": "the runtime infers the schema ([columns] in configs/base.toml); "
    "trimode.feature_schema(config, frame) returns it",
    "schema_of": "a run records the schema its model was built for: "
    "FeatureSchema.from_record(record['features']) (see notebooks/3-inspect-results.ipynb)",
    "model_names": "the names are list(MODELS[task]) of your models.py",
    "build_model": "the runtime builds every pipeline: add_features, build_preprocessor, "
    "then the MODELS entry",
    "search_space": "the runtime tunes over MODELS[task][name].search_space",
    "unknown_params": "the runtime checks train.params against MODELS when a config loads",
    "invalid_params": "the runtime checks train.params against MODELS when a config loads",
    "ROLES": "the roles are FeatureSchema.roles(target)",
    "TEXT_PREFIX": "name your steps as you like: the schema is recorded, not read back",
    "load_dataset": "trimode.load_data(config).frame",
}
PRIVATE = "not part of trimode's public API (the names in trimode.__all__)"
# Public homes outside trimode.__all__: the pytest plugin's helpers.
ELSEWHERE = {"outputs_in": "trimode.testing.plugin"}
# Files whose text may name modules or `python -m <package>`.
CODE_SUFFIXES = {".py", ".ipynb", ".sh", ".toml", ".yml", ".yaml", ".cfg", ".ini"}
CODE_NAMES = {"Makefile", "Dockerfile", "justfile", "Procfile"}


def git(*args: str) -> subprocess.CompletedProcess:
    """Run git in the project, failing loudly."""
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True)


def users_version(path: str) -> bytes | None:
    """The user's file as git's index holds it (copier removed it from the working tree,
    or merged into it): stage 0, or the user's side of a conflict; None when neither."""
    for name in (f":{path}", f":2:{path}"):
        shown = subprocess.run(["git", "show", name], capture_output=True, check=False)
        if shown.returncode == 0:
            return shown.stdout
    return None


def render(template: str, ref: str, answers: dict, folder: Path) -> Path:
    """The project as the template at ref generates it from the recorded answers."""
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    copier.run_copy(
        template,
        str(folder),
        data=data,
        vcs_ref=ref,
        defaults=True,
        overwrite=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
    )
    return folder


def files_of(folder: Path) -> set[str]:
    """The files of a render, as posix paths relative to it."""
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(folder).parts
    }


def module_name(path: str) -> str | None:
    """The dotted module a Python file of the project is (src/ is a source root)."""
    parts = Path(path).with_suffix("").parts
    if parts and parts[0] == "src":
        parts = parts[1:]
    if not parts or Path(path).suffix != ".py":
        return None
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(path: str) -> str | None:
    """The package a project file's relative imports start from."""
    parts = Path(path).parts[:-1]
    if parts and parts[0] == "src":
        parts = parts[1:]
    return ".".join(parts) or None


def public_names(template: Path) -> frozenset[str]:
    """The runtime's public names: `__all__` of src/trimode/__init__.py in the template."""
    tree = ast.parse((template / "src" / "trimode" / "__init__.py").read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return frozenset(ast.literal_eval(node.value))
    raise SystemExit(f"{SAY} the template's src/trimode/__init__.py has no __all__")


def project_style(package: str) -> Style:
    """How ruff sorts and wraps imports here: first-party modules are under the project
    root and src/ (ruff's default `src`) or named in [tool.ruff.lint.isort]
    known-first-party, lines as long as [tool.ruff] says."""
    try:
        settings = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        settings = {}
    ruff = settings.get("tool", {}).get("ruff", {})
    roots = tuple(Path(root) for root in ruff.get("src", [".", "src"]))
    known = ruff.get("lint", {}).get("isort", {}).get("known-first-party", [])
    return Style(roots, int(ruff.get("line-length", 88)), package, tuple(known))


@dataclass
class Update:
    """The project being migrated, the two renders, and what was done."""

    package: str
    old: Path
    new: Path
    public: frozenset[str]
    style: Style
    user_modules: dict[str, str] = field(default_factory=dict)  # old module -> new module
    defined: dict[str, set[str]] = field(default_factory=dict)  # new module -> its names
    said: list[str] = field(default_factory=list)
    composed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.old_files, self.new_files = files_of(self.old), files_of(self.new)
        gone = self.old_files - self.new_files
        self.gone = {name for name in map(module_name, gone) if name}
        for new, candidates in USER_FILES.items():
            for candidate in candidates:
                if f"src/{self.package}/{candidate}" in self.old_files:
                    old_module = module_name(f"src/{self.package}/{candidate}")
                    self.user_modules[old_module] = f"{self.package}.{new}"
                    break

    def remap(self, binding: Binding) -> Binding | Unresolved | None:
        """Where an (absolute) import of the old layout points now; None: unchanged."""
        module, member = binding.module, binding.member
        if member is None:  # import a.b.c: references go through the text rewrite
            if module in self.user_modules:
                return replace(binding, module=self.user_modules[module])
            if module in self.gone:
                return Unresolved(self.gone_hint(module))
            return None
        whole = f"{module}.{member}"
        if module in self.user_modules:
            home = self.user_modules[module]
            if member in self.defined.get(home, set()):
                return Binding(home, member, binding.alias)
            if member in self.public:
                return Binding("trimode", member, binding.alias)
            return Unresolved(HINTS.get(member, f"{home} no longer has {member}"))
        if whole in self.user_modules:  # from <package>.yours import models
            parent, name = self.user_modules[whole].rsplit(".", 1)
            return Binding(parent, name, binding.alias or (member if member != name else None))
        if module in self.gone or whole in self.gone:
            if member in self.public:
                return Binding("trimode", member, binding.alias)
            if member in ELSEWHERE:
                return Binding(ELSEWHERE[member], member, binding.alias)
            if whole in self.gone:
                return Unresolved(self.gone_hint(whole))
            return Unresolved(HINTS.get(member, f"{member} is {PRIVATE}"))
        return None

    def gone_hint(self, module: str) -> str:
        """What to say about an import of a module 5.0.0 removed."""
        return (
            f"{module} is gone: the machinery is trimode's ({PRIVATE}), your code is "
            f"{self.package}.models, .features and .expectations"
        )

    def policy(self, old_package: str) -> Policy:
        """How to compose a user file that lived in old_package (its imports remapped and
        written as seen from the package's top, where 5.0.0 keeps the file)."""

        def moved(binding: Binding) -> Binding | Unresolved | None:
            whole = absolute(binding, old_package)
            if whole is None:
                return None
            plain = replace(binding, module=whole, level=0)
            found = self.remap(plain)
            if isinstance(found, Unresolved):
                return found
            return relative_to(found or plain, self.package, binding)

        return Policy(self.public, RUNTIME_TYPES, moved, self.style)

    def move_user_files(self) -> None:
        """Compose the user's three files in their 5.0.0 homes."""
        for new, candidates in USER_FILES.items():
            target = f"src/{self.package}/{new}.py"
            old = next(
                (
                    f"src/{self.package}/{candidate}"
                    for candidate in candidates
                    if f"src/{self.package}/{candidate}" in self.old_files
                ),
                None,
            )
            mine = users_version(old) if old else None
            if old is None or mine is None or not (self.new / target).is_file():
                continue  # not the template's before, or deleted by the user: left alone
            base = (self.old / old).read_text(encoding="utf-8")
            theirs = (self.new / target).read_text(encoding="utf-8")
            policy = self.policy(package_of(old) or self.package)
            try:
                if mine == base.encode("utf-8"):  # not changed: 5.0.0's file as it is
                    result = Composed(theirs)
                else:
                    result = compose(mine.decode("utf-8"), base, theirs, policy)
            except (SyntaxError, UnicodeDecodeError) as error:  # not Python any more
                aside = keep_aside(old, mine, replaced=old != target)
                self.said.append(
                    f"{ACT} {old} could not be read as Python ({error.__class__.__name__}): "
                    f"{target} is as copier left it; yours is kept as {aside}: move your edits over"
                )
                continue
            Path(target).write_text(result.text, encoding="utf-8")
            git("add", "--", target)
            if old != target:
                git("rm", "--quiet", "--cached", "--force", "--ignore-unmatch", "--", old)
                Path(old).unlink(missing_ok=True)
            self.composed.add(target)
            self.defined[f"{self.package}.{new}"] = top_level_names(result.text)
            self.report_composed(old, target, mine, base, result)

    def report_composed(
        self, old: str, target: str, mine: bytes, base: str, result: Composed
    ) -> None:
        """Say what became of one user file; keep it aside when an edit did not carry."""
        moved = f"{old} -> {target}" if old != target else target
        if mine.decode("utf-8") == base:
            self.said.append(f"{SAY} {moved}: you had not changed it; 5.0.0's file")
            return
        self.said.append(f"{SAY} {moved}: your edits kept, imports from trimode's public API")
        for name in result.kept_edited:
            self.said.append(f"{SAY} {target} keeps your edited {name} instead of trimode's")
        for name in result.kept_whole:
            self.said.append(
                f"{SAY} {target}: {name} is yours as you wrote it (5.0.0 changed it too; "
                "its version is in the template's file)"
            )
        if result.dropped_edits:
            aside = keep_aside(old, mine, replaced=old != target)
            hints = "; ".join(
                f"{name}: {HINTS.get(name, 'the runtime does this now')}"
                for name in result.dropped_edits
            )
            self.said.append(
                f"{ACT} {old}: your edits of {', '.join(result.dropped_edits)} are not in "
                f"{target}, since trimode does that now ({hints}); your old file is kept as "
                f"{aside}: move what you still need into {target}, then delete {aside}"
            )
        for name, hint in result.unresolved.items():
            self.said.append(f"{ACT} {target} uses {name}, which is undefined now: {hint}")

    def remove_machinery(self) -> int:
        """Take the old version's other files out of the index; keep edited ones aside."""
        removed = 0
        user_paths = {
            f"src/{self.package}/{candidate}"
            for candidates in USER_FILES.values()
            for candidate in candidates
        }
        for path in sorted(self.old_files - self.new_files - user_paths - {ANSWERS}):
            mine = users_version(path)
            if mine is None:
                continue  # the user had deleted it
            if mine == (self.old / path).read_bytes():
                git("rm", "--quiet", "--force", "--ignore-unmatch", "--", path)
                Path(path).unlink(missing_ok=True)
                removed += 1
                continue
            aside = keep_aside(path, mine)
            self.said.append(
                f"{ACT} you changed {path}, which 5.0.0 moved into the trimode runtime: kept "
                f"as {aside}, which nothing imports or runs; carry what you need into your "
                f"own code (src/{self.package}/, tests/), then delete {aside}"
            )
        return removed

    def rewrite_references(self) -> int:
        """Point the project's other files at the new homes; name what has none."""
        listed = git("ls-files", "--cached", "--others", "--exclude-standard", "-z").stdout
        changed = 0
        for path in sorted(set(filter(None, listed.split("\0")))):
            name = Path(path)
            if path == ANSWERS or path.endswith(SUFFIX) or not name.is_file():
                continue
            if name.suffix not in CODE_SUFFIXES and name.name not in CODE_NAMES:
                continue
            try:
                text = name.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            updated = text
            if name.suffix == ".py" and path not in self.composed:
                updated = self.rewrite_python(path, updated, package_of(path))
            elif name.suffix == ".ipynb":
                updated = self.rewrite_notebook(path, updated)
            updated = self.rewrite_text(updated)
            self.name_leftovers(path, updated)
            if updated != text:
                name.write_text(updated, encoding="utf-8")
                git("add", "--", path)
                changed += 1
        return changed

    def rewrite_python(self, path: str, text: str, package: str | None, where: str = "") -> str:
        """A Python text with its imports rewritten; what stays is named."""
        result = rewrite_imports(text, package, self.remap, self.style)
        for line, statement, hint in result.unresolved:
            self.said.append(f"{ACT} {path}{where}:{line}: {statement}: {hint}")
        return text if result.text is None else result.text

    def rewrite_notebook(self, path: str, text: str) -> str:
        """A notebook with the imports of its code cells rewritten."""
        try:
            notebook = json.loads(text)
        except json.JSONDecodeError:
            return text
        changed = False
        for number, cell in enumerate(notebook.get("cells", []), start=1):
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            joined = "".join(source) if isinstance(source, list) else source
            updated = self.rewrite_python(path, joined, None, f" (cell {number})")
            if updated != joined:
                cell["source"] = updated.splitlines(keepends=True)
                changed = True
        if not changed:
            return text
        return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"

    def rewrite_text(self, text: str) -> str:
        """Dotted names of the user's moved modules, and `python -m <package>`. Import
        lines are the import rewrite's: one it left as it was stays so."""
        command = re.compile(rf"(\bpython3?\s+-m\s+){re.escape(self.package)}(?![\w.])")
        moves = [
            (re.compile(rf"(?<![\w.]){re.escape(old)}(?!\w)"), new)
            for old, new in self.user_modules.items()
            if old != new
        ]
        lines = text.split("\n")
        for index, line in enumerate(lines):
            if is_import_line(line):
                continue
            for pattern, new in moves:
                line = pattern.sub(new, line)
            lines[index] = command.sub(r"\1trimode", line)
        return "\n".join(lines)

    def name_leftovers(self, path: str, text: str) -> None:
        """Name each line that still mentions a module 5.0.0 removed."""
        prefix = f"{self.package}."
        rooms = {name.split(".")[1] for name in self.gone if name.startswith(prefix)}
        if not rooms:
            return
        pattern = re.compile(
            rf"(?<![\w.]){re.escape(prefix)}({'|'.join(map(re.escape, sorted(rooms)))})(?!\w)"
        )
        for number, line in enumerate(text.splitlines(), start=1):
            if pattern.search(line) and not is_import_line(line):
                self.said.append(
                    f"{ACT} {path}:{number} names {pattern.search(line).group(0)}, which "
                    f"5.0.0 moved into the trimode runtime: {line.strip()[:120]}"
                )


def is_import_line(line: str) -> bool:
    """Whether a line (of Python, or of a notebook's JSON) starts an import statement."""
    return line.strip().lstrip('"').startswith(("from ", "import "))


def top_level_names(text: str) -> set[str]:
    """The names a module defines itself (not the ones it imports)."""
    names = set()
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


def keep_aside(path: str, content: bytes, replaced: bool = True) -> str:
    """Write the user's old file beside its old place, staged; unless the path holds
    its new version (`replaced` False), take the old path out of the index."""
    aside = f"{path}{SUFFIX}"
    Path(aside).parent.mkdir(parents=True, exist_ok=True)
    Path(aside).write_bytes(content)
    if replaced:
        git("rm", "--quiet", "--cached", "--force", "--ignore-unmatch", "--", path)
        Path(path).unlink(missing_ok=True)
    git("add", "--", aside)
    return aside


def main() -> None:
    """Move the user's files, drop the machinery, rewrite references; say what happened."""
    template, old_ref, new_ref = sys.argv[1:4]
    answers = yaml.safe_load(Path(ANSWERS).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        update = Update(
            answers["package_name"],
            render(template, old_ref, answers, Path(folder) / "old"),
            render(template, new_ref, answers, Path(folder) / "new"),
            public_names(Path(template)),
            project_style(answers["package_name"]),
        )
        update.move_user_files()
        removed = update.remove_machinery()
        rewritten = update.rewrite_references()
    for line in update.said:
        print(line, file=sys.stderr)
    print(
        f"{SAY} {removed} machinery file(s) you never changed removed (trimode has them "
        f"now); references to moved modules rewritten in {rewritten} file(s)",
        file=sys.stderr,
    )
    print(
        f"{SAY} next: `uv sync` (installs the runtime), `uv run pytest`, then commit; what "
        "is left to do by hand is in the template's CHANGELOG (5.0.0, Updating from 4.x)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
