"""Template repositories holding an older release beside the working tree, for the update
tests (test_update_runtime.py, test_update_rooms.py).

The 4.1.0 template comes from an archive committed here, not from git history (a CI
clone may be shallow): tests/data/template-4.1.0.tar.xz is `git archive` of commit
d8c5e94 (4.1.0; its pyproject says 4.0.0, its CHANGELOG's top entry is 4.1.0), holding
what a render and an update need: the template folder, copier.yml, cookiecutter.json,
hooks/ and migrations/. Made with:

    git archive --format=tar d8c5e94 -- '{{cookiecutter.project_slug}}' copier.yml \
        cookiecutter.json hooks migrations | xz -9e > tests/data/template-4.1.0.tar.xz
"""

import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

from rendering import ROOT, TEMPLATE_TAG, git, release, template_files

ARCHIVE_4_1 = ROOT / "tests" / "data" / "template-4.1.0.tar.xz"


def unpack_4_1(destination: Path) -> Path:
    """Unpack the 4.1.0 template into destination (made if missing); return it."""
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(ARCHIVE_4_1) as archive:
        archive.extractall(destination, filter="data")
    return destination


def copy_working_tree(repo: Path) -> None:
    """Replace everything in repo but .git with the template's working tree."""
    for entry in repo.iterdir():
        if entry.name == ".git":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for path in template_files(ROOT):
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, target)


def make_repo_from_4_1(
    destination: Path, version: str = "4.1.0", change: Callable[[Path], None] | None = None
) -> Path:
    """A git repository of the template: the 4.1.0 release (changed in place by `change`,
    e.g. into an older layout) tagged `version`, then the working tree on top, tagged
    TEMPLATE_TAG (v<version>): what `copier update` finds as the newest version."""
    unpack_4_1(destination)
    if change is not None:
        change(destination)
    git("init", "--quiet", "--initial-branch=main", cwd=destination)
    release(destination, version, f"the template at {version}")
    copy_working_tree(destination)
    release(destination, TEMPLATE_TAG, "the working tree")
    return destination
