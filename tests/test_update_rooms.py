"""Updating a project across 4.0.0, which moved the package's modules into rooms.

One local git repository of the template holds two tagged versions: 1.2.0, the flat
package of before (built here from the working tree by moving every module back to its
1.x-3.x path and pointing its imports back, with the migration's own table), and 4.0.0,
the working tree. The update crosses 3.0.0's migration too, as a 1.x project's does. A
project generated at 1.2.0 gets a user's edits in files that move
(a model added to the registry, a preprocessing step changed, a config value changed,
a module and a test of their own importing moved modules), is committed, and is
updated with `copier update --trust`. Every edit must reach the file's new home, no old
path may remain, and the updated project must build and pass its own fast tests.
"""

import importlib.util
import re
import shutil
from pathlib import Path

import pytest
from project_shell import Project
from rendering import make_template_repo, release
from test_update import REGISTRY_ENTRY, commit_all, conflicted, generate, update

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("update")]

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_FOLDER = Path("{{cookiecutter.project_slug}}") / "src" / "{{cookiecutter.package_name}}"
PACKAGE = "ml_project"
JINJA_PACKAGE = "{{ cookiecutter.package_name }}"

spec = importlib.util.spec_from_file_location("rooms", ROOT / "migrations" / "v4_0_0_rooms.py")
rooms = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rooms)

# The user's edits in files that move, and in files of their own.
SCALER_BEFORE = '("scale", StandardScaler())])'
SCALER_AFTER = '("scale", StandardScaler(with_mean=False))])'
OWN_MODULE = '''"""Features our team added."""

from .preprocessing import infer_schema


def schema_of(frame):
    """The feature schema of a frame."""
    return infer_schema(frame, "churned")
'''
OWN_TEST = f"""from {PACKAGE}.preprocessing import FeatureSchema
from {PACKAGE}.models import MODELS


def test_our_model_is_registered():
    assert "small_boosting" in MODELS["classification"]
    assert FeatureSchema is not None
"""


def flat_layout(text: str, room: str | None) -> str:
    """Point a 4.x file's imports back at the 3.x flat package (the migration's inverse).

    `room` is the room of the module the text belongs to (None outside the package)."""
    back = {(new_room, new): old for old, (new_room, new) in rooms.MOVES.items()}
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


def make_flat_version(repo: Path) -> None:
    """Turn the template in repo into its 3.x flat layout, in place."""
    package = repo / PACKAGE_FOLDER
    for old, (room, new) in rooms.MOVES.items():
        (package / room / f"{new}.py").rename(package / f"{old}.py")
    for room in rooms.ROOMS:
        shutil.rmtree(package / room)
    for path in (repo / "{{cookiecutter.project_slug}}").rglob("*"):
        if path.suffix not in {".py", ".ipynb", ".toml"}:
            continue
        inside = path.parent == package
        text = path.read_text(encoding="utf-8")
        room = rooms.MOVES[path.stem][0] if inside and path.stem in rooms.MOVES else None
        path.write_text(flat_layout(text, room), encoding="utf-8")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template repository at 1.2.0 (flat) and 4.0.0 (rooms)."""
    repo = make_template_repo(tmp_path_factory.mktemp("rooms") / "trimode", tag=None)
    current = tmp_path_factory.mktemp("rooms-current")
    shutil.copytree(repo / "{{cookiecutter.project_slug}}", current / "tree", symlinks=True)
    make_flat_version(repo)
    release(repo, "1.2.0", "the flat package")
    shutil.rmtree(repo / "{{cookiecutter.project_slug}}")
    shutil.copytree(current / "tree", repo / "{{cookiecutter.project_slug}}", symlinks=True)
    release(repo, "4.0.0", "rooms by purpose")
    return repo


def make_user_edits(project: Project) -> None:
    """What a 1.x user did, in files that 4.0.0 moves and in files of their own."""
    project.replace(
        f"src/{PACKAGE}/models.py",
        '    "classification": {\n',
        '    "classification": {\n' + REGISTRY_ENTRY,
    )
    project.replace(f"src/{PACKAGE}/preprocessing.py", SCALER_BEFORE, SCALER_AFTER)
    project.replace("configs/human.toml", "max_rows = 50_000", "max_rows = 40_000")
    project.write(f"src/{PACKAGE}/churn_features.py", OWN_MODULE)
    project.write("tests/test_ours.py", OWN_TEST)
    commit_all(project, "Our work")


def test_a_1x_project_updates_into_rooms_keeping_every_edit(template, tmp_path):
    project = generate("copier", template, tmp_path, version="1.2.0")
    assert (project.folder / f"src/{PACKAGE}/preprocessing.py").exists()  # flat, as at 1.x
    make_user_edits(project)

    updated = update("copier", project, "4.0.0")
    assert updated.returncode == 0, updated.stderr
    said = updated.stderr
    assert f"src/{PACKAGE}/models.py -> src/{PACKAGE}/yours/models.py: your edits merged" in said
    assert f"src/{PACKAGE}/preprocessing.py -> src/{PACKAGE}/yours/features.py" in said
    assert "migration 4.0.0: modules moved into rooms" in said
    assert conflicted(project) == []

    source = project.folder / "src" / PACKAGE
    left_behind = [old for old in rooms.MOVES if (source / f"{old}.py").exists()]
    assert left_behind == []
    registry = project.read(f"src/{PACKAGE}/yours/models.py")
    assert REGISTRY_ENTRY in registry and "from .features import" in registry
    features = project.read(f"src/{PACKAGE}/yours/features.py")
    assert SCALER_AFTER in features and SCALER_BEFORE not in features
    assert "max_rows = 40_000" in project.read("configs/human.toml")
    assert "from .yours.features import infer_schema" in project.read(
        f"src/{PACKAGE}/churn_features.py"
    )
    own_test = project.read("tests/test_ours.py")
    assert f"from {PACKAGE}.yours.features import FeatureSchema" in own_test
    assert f"from {PACKAGE}.yours.models import MODELS" in own_test
    markers = project.run("git", "grep", "-n", "-e", "<<<<<<<", "-e", ">>>>>>>", check=False)
    assert markers.stdout == ""

    project.run("uv", "sync", "--quiet")
    tests = project.run(
        "uv",
        "run",
        "--quiet",
        "pytest",
        "-q",
        "-m",
        "not slow",
        "-p",
        "no:cacheprovider",
        check=False,
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    ours = project.run("uv", "run", "--quiet", "pytest", "-q", "tests/test_ours.py", check=False)
    assert ours.returncode == 0 and "1 passed" in ours.stdout, ours.stdout[-3000:]
    imported = project.run(
        "uv",
        "run",
        "--quiet",
        "python",
        "-c",
        f"from {PACKAGE}.churn_features import schema_of; print('ok')",
    )
    assert imported.stdout.strip() == "ok"
