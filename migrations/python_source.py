"""Python source, edited the way the 5.0.0 migration needs: by top-level definition and
by import statement, leaving every other line as it was written.

- `split_module` cuts a module into its docstring, its import bindings and its other
  top-level statements ("chunks", each with the comments above it), keyed by the names
  they define;
- `compose` builds a module from three versions of it (the user's, the old template's
  and the new template's) definition by definition, and resolves the names the result
  uses but no longer defines;
- `rewrite_imports` points the imports of a module (or a notebook cell) at new homes;
- `render_imports` writes import statements as ruff's isort and formatter write them
  (sections, order by type, wrapping at the line length), so the result passes the
  project's hooks.

Only the standard library and git are used: copier runs the migration with its own
Python, which has neither the project's packages nor ruff.
"""

from __future__ import annotations

import ast
import builtins
import re
import subprocess
import symtable
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

# Names a module has without binding them.
ALWAYS_BOUND = set(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__"}
SECTIONS = ("future", "stdlib", "third-party", "first-party", "local")


@dataclass(frozen=True)
class Binding:
    """One name an import statement binds: `import module [as alias]` (member None) or
    `from <level dots>module import member [as alias]`."""

    module: str
    member: str | None = None
    alias: str | None = None
    level: int = 0

    @property
    def name(self) -> str:
        """The name the statement binds in the module."""
        if self.alias:
            return self.alias
        return self.member if self.member is not None else self.module.split(".")[0]


@dataclass(frozen=True)
class Chunk:
    """A top-level statement with the comment lines above it."""

    key: object  # the name(s) it defines, or ("statement", its text)
    text: str  # its lines, without the final newline
    gap: int  # blank lines above it (and its comments) where it was written
    is_definition: bool  # a function or a class: two blank lines around it
    names: tuple[str, ...] = ()  # the names it binds


@dataclass
class Module:
    """A module cut into its parts (see split_module)."""

    docstring: Chunk | None
    imports: list[Binding]
    chunks: list[Chunk]
    tail: str = ""  # comment lines after the last statement

    def by_key(self) -> dict[object, Chunk]:
        """The chunks by key."""
        return {chunk.key: chunk for chunk in self.chunks}


def bindings_of(node: ast.Import | ast.ImportFrom) -> list[Binding]:
    """The names an import statement binds."""
    if isinstance(node, ast.Import):
        return [Binding(alias.name, None, alias.asname) for alias in node.names]
    return [
        Binding(node.module or "", alias.name, alias.asname, node.level) for alias in node.names
    ]


def bound_names(node: ast.stmt) -> tuple[str, ...]:
    """The names a top-level statement (not an import) binds."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return (node.name,)
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    names = []
    for target in targets:
        for part in ast.walk(target):
            if isinstance(part, ast.Name) and isinstance(part.ctx, ast.Store):
                names.append(part.id)
    return tuple(names)


def chunk_key(node: ast.stmt, text: str) -> object:
    """What identifies a statement across versions of its module: the names a definition
    or a plain assignment binds; the text of anything else."""
    if isinstance(node, ast.Assign):
        simple = all(isinstance(target, ast.Name) for target in node.targets)
    elif isinstance(node, ast.AnnAssign):
        simple = isinstance(node.target, ast.Name)
    else:
        simple = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    if simple:
        return bound_names(node) if len(bound_names(node)) > 1 else bound_names(node)[0]
    return ("statement", " ".join(text.split()))


def split_module(source: str) -> Module:
    """Cut a module into its docstring, import bindings and other top-level statements."""
    tree = ast.parse(source)
    lines = source.splitlines()
    module = Module(None, [], [])
    previous_end = 0  # the last line (1-based) of the previous statement
    seen: dict[object, int] = {}
    for index, node in enumerate(tree.body):
        start = min([node.lineno, *(item.lineno for item in getattr(node, "decorator_list", []))])
        end = node.end_lineno or node.lineno
        above = lines[previous_end : start - 1]
        previous_end = end
        if isinstance(node, ast.Import | ast.ImportFrom):
            module.imports.extend(bindings_of(node))
            continue
        # The comment lines right above a statement are its own; blank lines above them
        # are the gap.
        gap = 0
        comments: list[str] = []
        for line in above:
            if line.strip() or comments:
                comments.append(line)
            else:
                gap += 1
        body = "\n".join([*comments, *lines[start - 1 : end]])
        is_docstring = (
            index == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        if is_docstring:
            module.docstring = Chunk("__doc__", body, gap, False)
            continue
        key = chunk_key(node, body)
        if key in seen:  # a name bound twice: keep both, in order
            seen[key] += 1
            key = (key, seen[key])
        else:
            seen[key] = 0
        definition = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        module.chunks.append(Chunk(key, body, gap, definition, bound_names(node)))
    module.tail = "\n".join(line for line in lines[previous_end:]).strip("\n")
    return module


def free_names(source: str) -> set[str]:
    """The global names a module's code reads (at its top or in its functions and
    classes) but the module never binds."""
    top = symtable.symtable(source, "<module>", "exec")
    bound = {
        symbol.get_name()
        for symbol in top.get_symbols()
        if symbol.is_assigned() or symbol.is_imported()
    }
    found: set[str] = set()

    def walk(table: symtable.SymbolTable) -> None:
        for symbol in table.get_symbols():
            if not symbol.is_referenced() or symbol.is_assigned() or symbol.is_imported():
                continue
            if table is top or symbol.is_global():
                found.add(symbol.get_name())
        for child in table.get_children():
            walk(child)

    walk(top)
    return found - bound - ALWAYS_BOUND


def merge3(mine: str, base: str, theirs: str) -> str | None:
    """Three-way merge of texts with git: the result, or None where both sides changed
    the same or adjacent lines."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, text in (("mine", mine), ("base", base), ("theirs", theirs)):
            path = Path(folder) / name
            path.write_text(text + "\n", encoding="utf-8")
            paths.append(str(path))
        merged = subprocess.run(
            ["git", "merge-file", "-p", *paths], capture_output=True, text=True, check=False
        )
    return merged.stdout.rstrip("\n") if merged.returncode == 0 else None


# ---- import statements, as ruff writes them ----


@dataclass(frozen=True)
class Style:
    """What decides how imports are sorted and wrapped, as ruff decides it: the folders
    first-party modules are found in (ruff's `src`, by default the project root and
    src/), the package of the module being written (its own imports are first-party
    too), and the line length."""

    roots: tuple[Path, ...] = ()
    line_length: int = 88
    package: str | None = None
    # [tool.ruff.lint.isort] known-first-party: modules ruff counts as first-party anyway.
    known_first_party: tuple[str, ...] = ()

    def is_first_party(self, module: str) -> bool:
        """Whether ruff sees the module as first-party: the package's own, or a folder or
        file at its dotted path under one of the roots (the whole path, as ruff checks)."""
        top = module.split(".")[0]
        if self.package and top == self.package.split(".")[0]:
            return True
        if top in self.known_first_party:
            return True
        for root in self.roots:
            path = root.joinpath(*module.split("."))
            if path.is_dir() or path.with_suffix(".py").is_file():
                return True
        return False


def section(binding: Binding, style: Style) -> str:
    """The isort section of an import."""
    if binding.level:
        return "local"
    top = binding.module.split(".")[0]
    if top == "__future__":
        return "future"
    if top in sys.stdlib_module_names:
        return "stdlib"
    return "first-party" if style.is_first_party(binding.module) else "third-party"


def member_key(binding: Binding) -> tuple:
    """ruff's order of the names of a `from` import: constants, classes, then the rest."""
    name = binding.member or ""
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return (kind, name.lower(), name, binding.alias or "")


def render_from(module: str, level: int, bindings: list[Binding], style: Style, indent: str) -> str:
    """One `from` statement, wrapped as ruff wraps it when it is too long."""
    names = [
        f"{item.member} as {item.alias}" if item.alias else str(item.member)
        for item in sorted(bindings, key=member_key)
    ]
    head = f"{indent}from {'.' * level}{module} import "
    line = head + ", ".join(names)
    if len(line) <= style.line_length:
        return line
    inner = "".join(f"{indent}    {name},\n" for name in names)
    return f"{head}(\n{inner}{indent})"


def render_imports(bindings: Iterable[Binding], style: Style, indent: str = "") -> str:
    """Import statements for the bindings: sections apart, `import x` before `from x`,
    modules and names in ruff's order; an `as` name gets a statement of its own."""
    by_section: dict[str, list[Binding]] = {name: [] for name in SECTIONS}
    for binding in dict.fromkeys(bindings):
        by_section[section(binding, style)].append(binding)
    blocks = []
    for name in SECTIONS:
        items = by_section[name]
        if not items:
            continue
        straight = sorted(
            (item for item in items if item.member is None),
            key=lambda item: (item.module.lower(), item.module, item.alias or ""),
        )
        lines = [
            f"{indent}import {item.module}" + (f" as {item.alias}" if item.alias else "")
            for item in straight
        ]
        groups: dict[tuple, list[Binding]] = {}
        for item in items:
            if item.member is None:
                continue
            # combine-as-imports is off: `from x import a as b` stands alone.
            key = (item.level, item.module, item.member if item.alias else "")
            groups.setdefault(key, []).append(item)
        order = sorted(
            groups, key=lambda key: (-key[0], key[1].lower(), key[1], key[2] != "", key[2])
        )
        lines += [render_from(key[1], key[0], groups[key], style, indent) for key in order]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def join_module(docstring: Chunk | None, imports: str, chunks: list[Chunk], tail: str = "") -> str:
    """The text of a module from its parts, spaced as ruff formats it."""
    parts: list[str] = []
    previous: Chunk | None = None
    if docstring is not None:
        parts.append(docstring.text)
    if imports:
        if parts:
            parts.append("\n\n")
        parts.append(imports)
    for chunk in chunks:
        if parts:
            if chunk.is_definition or (previous is not None and previous.is_definition):
                blank = 2
            elif previous is None:
                blank = 1  # after the imports or the docstring
            else:
                blank = min(chunk.gap, 2)
            parts.append("\n" * (blank + 1))
        parts.append(chunk.text)
        previous = chunk
    if tail:
        parts.append("\n\n" + tail)
    return "".join(parts).rstrip("\n") + "\n"


# ---- composing a module from three versions of it ----


@dataclass
class Policy:
    """What the migration knows about the names of one module.

    public: the runtime's public names (`from trimode import ...`);
    runtime_types: public names the runtime itself makes instances of, so that an edited
      copy in the user's module cannot take effect;
    remap: where an import of the user's version points now: a binding, Unresolved, or
      None to leave it as it was;
    style: how to write the imports.
    """

    public: frozenset[str]
    runtime_types: frozenset[str] = frozenset()
    remap: Callable[[Binding], Binding | Unresolved | None] = lambda binding: None
    style: Style = field(default_factory=Style)


@dataclass(frozen=True)
class Unresolved:
    """An import with no new home, and what to use instead."""

    hint: str


@dataclass
class Composed:
    """A module composed from three versions, and what the user should hear about it."""

    text: str
    kept_edited: list[str] = field(default_factory=list)  # edited helpers kept: name, user
    kept_whole: list[str] = field(default_factory=list)  # yours as written; ours changed too
    dropped_edits: list[str] = field(default_factory=list)  # edited, no longer used
    unresolved: dict[str, str] = field(default_factory=dict)  # name -> hint


def compose(mine: str, base: str, theirs: str, policy: Policy) -> Composed:
    """The new template's module (theirs) with the user's edits (mine over base), by
    top-level definition.

    - a definition both have: theirs where the user left it as it was, the user's where
      the template left it, else the two merged (git merge-file), else the user's;
    - a definition the user added: kept, after the one it followed;
    - a definition only the old version had (the machinery that moved into the runtime):
      dropped, unless the result still uses it. Then an unchanged public name is imported
      from the runtime; an unchanged private one, or one the user edited, is kept. An
      edited one that nothing uses any more is reported, never silently kept or lost;
    - imports: what the result uses, from theirs, then the user's (remapped), then the
      runtime's public names.
    """
    old, user, new = split_module(base), split_module(mine), split_module(theirs)
    result = Composed("")
    out = merge_definitions(old, user, new, result)
    chosen = resolve_names(old, user, new, out, policy, result)
    old_chunks, user_chunks = old.by_key(), user.by_key()
    kept = {chunk.key for chunk, _ in out}
    result.dropped_edits = [
        str(key)
        for key, chunk in old_chunks.items()
        if key in user_chunks and user_chunks[key].text != chunk.text and key not in kept
    ]
    # Definitions written as the user wrote them keep what their annotations relied on.
    if any(origin == "mine" and chunk.is_definition for chunk, origin in out):
        chosen.update((item.name, item) for item in user.imports if item.module == "__future__")
    docstring = new.docstring
    if user.docstring and old.docstring and user.docstring.text != old.docstring.text:
        docstring = user.docstring
    tail = user.tail if user.tail != old.tail else new.tail
    imports = render_imports(chosen.values(), policy.style)
    result.text = join_module(docstring, imports, [chunk for chunk, _ in out], tail)
    return result


def merge_definitions(
    old: Module, user: Module, new: Module, result: Composed
) -> list[tuple[Chunk, str]]:
    """The new version's definitions with the user's edits, then the user's own ones:
    (chunk, where it came from: "theirs", "mine" or "merged"), in order."""
    old_chunks, user_chunks = old.by_key(), user.by_key()
    out: list[tuple[Chunk, str]] = []
    for chunk in new.chunks:
        ours, before = user_chunks.get(chunk.key), old_chunks.get(chunk.key)
        if ours is None:
            if before is None:  # new in this version; else the user deleted it
                out.append((chunk, "theirs"))
        elif before is None and ours.text != chunk.text:  # both added it: the user's wins
            out.append((ours, "mine"))
            result.kept_whole.append(str(chunk.key))
        elif before is None or ours.text == before.text:
            out.append((chunk, "theirs"))
        elif chunk.text == before.text:
            out.append((ours, "mine"))
        else:
            merged = merge3(ours.text, before.text, chunk.text)
            if merged is not None:
                out.append((replace(chunk, text=merged), "merged"))
            else:
                out.append((ours, "mine"))
                result.kept_whole.append(str(chunk.key))
    new_keys = {chunk.key for chunk in new.chunks}
    for index, chunk in enumerate(user.chunks):
        if chunk.key not in new_keys and chunk.key not in old_chunks:
            insert_after(out, user.chunks[:index], (chunk, "mine"))
    return out


def resolve_names(
    old: Module,
    user: Module,
    new: Module,
    out: list[tuple[Chunk, str]],
    policy: Policy,
    result: Composed,
) -> dict[str, Binding]:
    """Make every name the composed definitions use defined: bring back an old
    definition (see compose), or import it; return the imports, by name. What nothing
    provides goes to result.unresolved."""
    old_chunks, user_chunks = old.by_key(), user.by_key()
    new_keys = {chunk.key for chunk in new.chunks}
    # The old version's definitions the new one dropped, by the names they bind.
    pending = {
        name: chunk
        for chunk in user.chunks
        if chunk.key in old_chunks and chunk.key not in new_keys
        for name in chunk.names
    }
    edited = {key for key, chunk in old_chunks.items() if key in user_chunks}
    edited = {key for key in edited if user_chunks[key].text != old_chunks[key].text}
    theirs_imports = {binding.name: binding for binding in new.imports}
    mine_imports = {binding.name: binding for binding in user.imports}
    chosen: dict[str, Binding] = {}
    tried: set[str] = set()
    while True:
        body = "\n\n".join(chunk.text for chunk, _ in out)
        missing = sorted(free_names(body) - set(chosen) - set(result.unresolved))
        if not missing:
            return chosen
        for name in set(missing) & tried:  # what an earlier round could not provide
            result.unresolved[name] = "nothing defines it any more"
        tried.update(missing)
        for name in missing:
            if name in result.unresolved:
                continue
            definition = pending.get(name)
            changed = definition is not None and definition.key in edited
            if definition is not None and (
                (changed and name not in policy.runtime_types)
                or (not changed and name not in policy.public)
            ):
                earlier = user.chunks[: user.chunks.index(definition)]
                insert_after(out, earlier, (definition, "mine"))
                if changed:
                    users = [str(chunk.key) for chunk, _ in out if name in free_names(chunk.text)]
                    result.kept_edited.append(f"{name} (used by {', '.join(users)})")
                continue
            found = theirs_imports.get(name) or remapped(mine_imports.get(name), policy)
            if isinstance(found, Unresolved):
                result.unresolved[name] = found.hint
            elif found is not None:
                chosen[name] = found
            elif name in policy.public:
                chosen[name] = Binding("trimode", name)
            else:
                result.unresolved[name] = "nothing defines it any more"


def remapped(binding: Binding | None, policy: Policy) -> Binding | Unresolved | None:
    """The user's import binding as it reads now: remapped, or as it was."""
    if binding is None:
        return None
    moved = policy.remap(binding)
    return binding if moved is None else moved


def insert_after(out: list[tuple[Chunk, str]], before: list[Chunk], item: tuple[Chunk, str]):
    """Insert item after the last of `before` (chunks in the user's order) that out has;
    at the start when out has none of them."""
    texts = [chunk.text for chunk, _ in out]
    for chunk in reversed(before):
        if chunk.text in texts:
            out.insert(texts.index(chunk.text) + 1, item)
            return
        keys = [present.key for present, _ in out]
        if chunk.key in keys:
            out.insert(keys.index(chunk.key) + 1, item)
            return
    out.insert(0, item)


# ---- rewriting the imports of a module in place ----

MASKED = re.compile(r"^(\s*)([%!].*)$")


@dataclass
class Rewritten:
    """A module's text with its imports rewritten (None: nothing changed), and the
    imports left as they were because nothing replaces them: (line, statement, hint)."""

    text: str | None
    unresolved: list[tuple[int, str, str]] = field(default_factory=list)


def absolute(binding: Binding, package: str | None) -> str | None:
    """The absolute module a `from` import reads from (None: a relative import outside
    a package, or above its top)."""
    if not binding.level:
        return binding.module
    if package is None:
        return None
    parts = package.split(".")
    if binding.level > len(parts):
        return None
    base = parts[: len(parts) - (binding.level - 1)]
    return ".".join([*base, binding.module] if binding.module else base)


def rewrite_imports(
    source: str,
    package: str | None,
    remap: Callable[[Binding], Binding | Unresolved | None],
    style: Style,
) -> Rewritten:
    """The source with every import the remap moves pointed at its new home.

    `package` is the package the module belongs to (for relative imports); the remap
    sees absolute bindings. Lines that start with % or ! (notebook magics) are left
    alone. The leading block of imports is written again, sorted, when one of its
    statements changed; other import statements are replaced where they stand.
    """
    lines = source.split("\n")
    masked = "\n".join(MASKED.sub(r"\1#\2", line) for line in lines)
    try:
        tree = ast.parse(masked)
    except SyntaxError:
        return Rewritten(None)
    edits: dict[ast.stmt, list[Binding]] = {}
    unresolved: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        new: list[Binding] = []
        statement = " ".join(" ".join(lines[node.lineno - 1 : node.end_lineno]).split())
        for binding in bindings_of(node):
            whole = absolute(binding, package)
            moved = remap(replace(binding, module=whole, level=0)) if whole else None
            if isinstance(moved, Unresolved):
                unresolved.append((node.lineno, statement, moved.hint))
                new.append(binding)
            elif moved is None:
                new.append(binding)
            else:
                new.append(relative_to(moved, package, binding))
        if new != bindings_of(node):
            edits[node] = new
    if not edits:
        return Rewritten(None, unresolved)
    # (first line, last line, bindings, indent), replaced from the bottom up.
    style = replace(style, package=package)
    block = leading_import_block(tree, lines)
    whole_block = any(node in block for node in edits)
    spans = [
        (node.lineno, node.end_lineno, new, " " * node.col_offset)
        for node, new in edits.items()
        if not (whole_block and node in block)
    ]
    if whole_block:
        bindings = [item for node in block for item in edits.get(node) or bindings_of(node)]
        spans.append((block[0].lineno, block[-1].end_lineno, bindings, ""))
    for first, last, bindings, indent in sorted(spans, key=lambda span: -span[0]):
        lines[first - 1 : last] = render_imports(bindings, style, indent).split("\n")
    return Rewritten("\n".join(lines), unresolved)


def relative_to(moved: Binding, package: str | None, original: Binding) -> Binding:
    """The moved binding, written as the original was: relative when it was and the new
    module lies in the same top-level package; the bound name kept."""
    alias = original.alias
    if alias is None and moved.name != original.name:
        alias = original.name
    moved = replace(moved, alias=alias)
    if not original.level or package is None or moved.member is None:
        return moved
    here = package.split(".")
    target = moved.module.split(".")
    if target[0] != here[0]:
        return moved
    common = 0
    while common < min(len(here), len(target)) and here[common] == target[common]:
        common += 1
    level = len(here) - common + 1
    return replace(moved, module=".".join(target[common:]), level=level)


def leading_import_block(tree: ast.Module, lines: list[str]) -> list[ast.stmt]:
    """The imports at the top of a module (after its docstring), when only blank lines
    stand between them and no line carries a comment: what can be written again whole."""
    body = list(tree.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    block = []
    for node in body:
        if not isinstance(node, ast.Import | ast.ImportFrom):
            break
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            if block:
                break
            continue
        block.append(node)
    if not block:
        return []
    first, last = block[0].lineno, block[-1].end_lineno or block[-1].lineno
    inside = {n for node in block for n in range(node.lineno, (node.end_lineno or 0) + 1)}
    for number in range(first, last + 1):
        text = lines[number - 1]
        if "#" in text or (number not in inside and text.strip()):
            return []
    return block
