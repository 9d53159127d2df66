"""Projects whose own code differs from the template's: a copy of its models.py,
features.py and expectations.py as a package in the project's src/ folder, edited.

A project not installed is found in its src/ folder (core/project.py), as a generated
project run before `uv sync` would be: the copy needs no entry on sys.path of its own.
Under another name than `starter`, it can be imported beside it in the tests' process;
under the same name, only in a process of its own (a subprocess).
"""

from __future__ import annotations

from pathlib import Path

from trimode.config.model import Config
from trimode.workflows.session import load_config

from .conftest import STARTER_FILES, TASK, make_configs, write_pyproject

FILES = ("models.py", "features.py", "expectations.py")


def write_package(
    root: Path, package: str, edits: dict[str, list[tuple[str, str]]] | None = None
) -> Path:
    """Write root/src/<package>/: the template's files, with each (old, new) replacement of
    `edits[file name]` applied (each old text must be there exactly once, so that a change
    of the template cannot silently stop an edit from applying). Return its folder."""
    folder = root / "src" / package
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(
        f'"""{package}: the template\'s project files, edited."""\n'
    )
    for name in FILES:
        text = (STARTER_FILES / name).read_text(encoding="utf-8")
        for old, new in (edits or {}).get(name, []):
            assert text.count(old) == 1, f"{name}: {old!r} is not there once"
            text = text.replace(old, new)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def package_config(
    root: Path,
    package: str,
    edits: dict[str, list[tuple[str, str]]] | None = None,
    mode: str = "test",
    task: str = TASK,
    base: dict | None = None,
    **settings,
) -> Config:
    """One mode of a project at root whose code is the package `package` (the template's
    files, edited: see write_package), its configs as make_configs writes them."""
    write_package(root, package, edits)
    configs = make_configs(root, task, base, **{mode: settings})
    # make_configs names `starter`: this project names its own package, before anything
    # reads its pyproject.toml (a project is read once per process).
    write_pyproject(root, package=package)
    return load_config(mode, configs)
