"""Updating a 1.x project (the flat package) straight to the newest version.

One local git repository of the template holds two tagged versions: 1.2.0, the flat
package of 1.x-3.x (built here from the 4.1.0 archive, see releases.py, by moving every
module back to its 1.x path and pointing its imports back, with the table of 4.x's own
rooms migration), and the working tree, tagged v<version>. The update crosses 3.0.0's
migration (configs) and 5.0.0's (the machinery leaves for the runtime; the user's files
move to src/<package>/). 4.0.0's rooms migration is no longer in the chain: an update to
5.0.0 or later runs 5.0.0's copier.yml, where the 5.0.0 migration starts from either
layout, flat or rooms (4.x templates still run their own copy of the rooms migration).

A project generated at 1.2.0 gets a user's edits in files that move (a model added to
the registry, a preprocessing step changed), a config value, and a module and a test of
their own importing moved modules; it is committed and updated with
`copier update --trust`. Every edit must reach the file's new home, no flat module may
remain, and the updated project must build and pass its own fast tests.
"""

import importlib.util
import re
import shutil
from pathlib import Path

import pytest
from project_shell import Project
from releases import make_repo_from_4_1
from rendering import TEMPLATE_TAG
from test_update import REGISTRY_ENTRY, commit_all, conflicted, generate, update

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("update-rooms")]

TEMPLATE_FOLDER = "{{cookiecutter.project_slug}}"
PACKAGE_FOLDER = Path(TEMPLATE_FOLDER) / "src" / "{{cookiecutter.package_name}}"
PACKAGE = "ml_project"
JINJA_PACKAGE = "{{ cookiecutter.package_name }}"

# The user's edits in files that move, and in files of their own.
IMPUTER_BEFORE = 'SimpleImputer(strategy="median")), ("scale"'
IMPUTER_AFTER = 'SimpleImputer(strategy="mean")), ("scale"'
OWN_MODULE = '''"""Features our team added."""

from .preprocessing import FeatureSchema, build_preprocessor


def numeric_preprocessor(columns):
    """The shared preprocessing of numeric columns."""
    return build_preprocessor(FeatureSchema(numeric=tuple(columns), categorical=()))
'''
OWN_TEST = f"""from {PACKAGE}.models import MODELS
from {PACKAGE}.preprocessing import FeatureSchema


def test_our_model_is_registered():
    assert "small_boosting" in MODELS["classification"]
    assert FeatureSchema(numeric=("a",), categorical=()).columns == ["a"]
"""


def rooms_migration(tree: Path):
    """4.x's rooms migration (its table of moves), from the 4.1.0 tree."""
    spec = importlib.util.spec_from_file_location("rooms", tree / "migrations" / "v4_0_0_rooms.py")
    rooms = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rooms)
    return rooms


def flat_layout(text: str, room: str | None, moves: dict) -> str:
    """Point a 4.x file's imports back at the 1.x-3.x flat package (the rooms
    migration's inverse). `room` is the room of the module the text belongs to (None
    outside the package)."""
    back = {(new_room, new): old for old, (new_room, new) in moves.items()}
    for (new_room, new), old in back.items():
        text = text.replace(f"{JINJA_PACKAGE}.{new_room}.{new}", f"{JINJA_PACKAGE}.{old}")
        text = re.sub(
            rf"from {re.escape(JINJA_PACKAGE)}\.{new_room} import {new}\b",
            f"from {JINJA_PACKAGE} import {old}",
            text,
        )
        text = text.replace(f"from ..{new_room}.{new} import", f"from .{old} import")
        text = text.replace(f"from .{new_room}.{new} import", f"from .{old} import")
        if room == new_room:
            text = re.sub(rf"from \.{new} import", f"from .{old} import", text)
    return text


def make_flat_version(tree: Path) -> None:
    """Turn the 4.1.0 template in tree into the 1.x-3.x flat layout, in place."""
    rooms = rooms_migration(tree)
    package = tree / PACKAGE_FOLDER
    for old, (room, new) in rooms.MOVES.items():
        (package / room / f"{new}.py").rename(package / f"{old}.py")
    for room in rooms.ROOMS:
        shutil.rmtree(package / room)
    for path in (tree / TEMPLATE_FOLDER).rglob("*"):
        if path.suffix not in {".py", ".ipynb", ".toml"}:
            continue
        inside = path.parent == package
        text = path.read_text(encoding="utf-8")
        room = rooms.MOVES[path.stem][0] if inside and path.stem in rooms.MOVES else None
        path.write_text(flat_layout(text, room, rooms.MOVES), encoding="utf-8")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template repository at 1.2.0 (flat, from 4.1.0) and v<version> (the working tree)."""
    folder = tmp_path_factory.mktemp("rooms") / "trimode"
    return make_repo_from_4_1(folder, version="1.2.0", change=make_flat_version)


def make_user_edits(project: Project) -> None:
    """What a 1.x user did, in files that move and in files of their own."""
    project.replace(
        f"src/{PACKAGE}/models.py",
        '    "classification": {\n',
        '    "classification": {\n' + REGISTRY_ENTRY,
    )
    project.replace(f"src/{PACKAGE}/preprocessing.py", IMPUTER_BEFORE, IMPUTER_AFTER)
    project.replace("configs/human.toml", "max_rows = 50_000", "max_rows = 40_000")
    project.write(f"src/{PACKAGE}/churn_features.py", OWN_MODULE)
    project.write("tests/test_ours.py", OWN_TEST)
    commit_all(project, "Our work")


def test_a_1x_project_updates_to_the_runtime_keeping_every_edit(template, tmp_path):
    project = generate("copier", template, tmp_path, version="1.2.0")
    source = project.folder / "src" / PACKAGE
    assert (source / "preprocessing.py").exists()  # flat, as at 1.x
    make_user_edits(project)

    updated = update("copier", project, TEMPLATE_TAG)
    assert updated.returncode == 0, updated.stderr
    said = updated.stderr
    assert "migration 3.0.0: kept outputs.root and the quality guard" in said
    assert f"migration 5.0.0: src/{PACKAGE}/models.py: your edits kept" in said
    assert (
        f"migration 5.0.0: src/{PACKAGE}/preprocessing.py -> src/{PACKAGE}/features.py: "
        "your edits kept"
    ) in said
    assert "migration 4.0.0" not in said
    assert conflicted(project) == []
    assert project.run("git", "ls-files", "--deleted").stdout == ""

    flat = [path.name for path in source.iterdir() if path.suffix == ".py"]
    assert sorted(flat) == [
        "__init__.py",
        "churn_features.py",
        "expectations.py",
        "features.py",
        "metrics.py",
        "models.py",
    ]
    assert sorted(path.name for path in source.iterdir() if path.is_dir()) in ([], ["__pycache__"])
    registry = project.read(f"src/{PACKAGE}/models.py")
    assert REGISTRY_ENTRY in registry and "from trimode import ModelSpec" in registry
    features = project.read(f"src/{PACKAGE}/features.py")
    assert IMPUTER_AFTER in features and IMPUTER_BEFORE not in features
    assert "max_rows = 40_000" in project.read("configs/human.toml")
    assert (
        "from trimode import FeatureSchema\n\nfrom .features import build_preprocessor\n"
        in project.read(f"src/{PACKAGE}/churn_features.py")
    )
    own_test = project.read("tests/test_ours.py")
    assert f"from {PACKAGE}.models import MODELS" in own_test
    assert "from trimode import FeatureSchema" in own_test
    markers = project.run("git", "grep", "-n", "-e", "<<<<<<<", "-e", ">>>>>>>", check=False)
    assert markers.stdout == ""

    project.run("uv", "sync", "--quiet")
    fast = ["uv", "run", "--quiet", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider"]
    tests = project.run(*fast, check=False)
    assert tests.returncode == 0, tests.stdout[-3000:]
    ours = project.run(*fast[:-4], "tests/test_ours.py", check=False)
    assert ours.returncode == 0 and "1 passed" in ours.stdout, ours.stdout[-3000:]
    imported = project.run(
        "uv",
        "run",
        "--quiet",
        "python",
        "-c",
        f"from {PACKAGE}.churn_features import numeric_preprocessor as p; "
        "print(p(['a']).transformers[0][1].named_steps['impute'].strategy)",
    )
    assert imported.stdout.strip() == "mean"
