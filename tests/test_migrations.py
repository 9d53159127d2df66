"""The migrations' parts, without copier.

- 3.0.0, run as copier runs it: inside a project (a git repository), on its configs/,
  staging what it changed;
- 5.0.0's helpers (migrations/python_source.py): the user's files of 4.1.0 composed into
  5.0.0's, imports rewritten, written as ruff writes them (checked with ruff).

The 1.0.0 migration is tested through a real `copier update` in test_update.py, the
5.0.0 one in test_update_runtime.py (from 4.1.0) and test_update_rooms.py (from 1.2.0).
"""

import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml
from releases import ARCHIVE_4_1
from rendering import tool

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "migrations" / "v3_0_0_guards.py"
sys.path.insert(0, str(ROOT / "migrations"))  # where the 5.0.0 migration's helpers are
import python_source  # noqa: E402
import v5_0_0_runtime as runtime_migration  # noqa: E402
from python_source import Binding, Policy, Style, Unresolved  # noqa: E402


def project_with(tmp_path: Path, configs: dict[str, str]) -> Path:
    """A git repository holding configs/<name>.toml with the given texts."""
    (tmp_path / "configs").mkdir()
    for name, text in configs.items():
        (tmp_path / "configs" / f"{name}.toml").write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True)
    return tmp_path


def migrate(project: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=project, capture_output=True, text=True, check=True
    )
    return result.stderr


def staged(project: Path) -> list[str]:
    names = subprocess.run(
        ["git", "diff", "--cached", "--name-only"], cwd=project, capture_output=True, text=True
    )
    return names.stdout.split()


def test_copier_runs_it_before_merging_3_0_0():
    migrations = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))["_migrations"]
    (entry,) = [item for item in migrations if item["version"] == "3.0.0"]
    assert entry["command"][-1].endswith("migrations/v3_0_0_guards.py")
    assert "before" in entry["when"]


def test_settings_made_on_purpose_get_the_key_that_keeps_them(tmp_path):
    project = project_with(
        tmp_path,
        {
            "base": '[outputs]\n# ours\nroot = "outputs"\n',
            "production": '[outputs]\nroot = "/srv/models/churn"\n',
            "test": "[evaluation]\nmin_lift_over_baseline = 0.0\n",
            "human": 'evaluation.thresholds = { roc_auc = 0.5 }\noutputs.root = "../shared"\n',
            "staging": (
                '[evaluation]\nthresholds = { primary = 0.4 }\n[outputs]\nroot = "data/out"\n'
            ),
        },
    )
    said = migrate(project)
    configs = {
        path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
        for path in (project / "configs").glob("*.toml")
    }
    assert "allow_outside_project" not in configs["base"]["outputs"]
    assert configs["production"]["outputs"]["allow_outside_project"] is True
    assert configs["test"]["evaluation"]["allow_no_lift"] is True
    assert configs["human"]["evaluation"]["allow_no_lift"] is True
    assert configs["human"]["outputs"]["allow_outside_project"] is True
    # "primary" is the primary metric: roc_auc by default, whose constant model scores 0.5.
    assert configs["staging"]["evaluation"]["allow_no_lift"] is True
    assert "outputs.root = 'data/out' lies in the project's own data/ folder" in said
    assert "3.0.0 migration" in (project / "configs" / "production.toml").read_text("utf-8")
    assert sorted(staged(project)) == [
        "configs/human.toml",
        "configs/production.toml",
        "configs/staging.toml",
        "configs/test.toml",
    ]
    assert said.startswith("migration 3.0.0: kept outputs.root and the quality guard as set in")


def test_a_project_within_the_guards_is_left_alone(tmp_path):
    text = '[outputs]\nroot = "outputs/test"\n[evaluation]\nmin_lift_over_baseline = 0.05\n'
    project = project_with(tmp_path, {"base": text})
    assert "in no config file" in migrate(project)
    assert (project / "configs" / "base.toml").read_text(encoding="utf-8") == text
    assert staged(project) == []


# ---- 5.0.0: the machinery leaves for the runtime (the whole update: test_update_runtime.py)

OLD_PACKAGE = "{{cookiecutter.project_slug}}/src/{{cookiecutter.package_name}}"
STYLE = Style((), 100, "ml_project", ("trimode",))
# The generated project's ruff settings, for checking what the migration writes.
RUFF = """[tool.ruff]
line-length = 100

[tool.ruff.lint]
select = ["E", "F", "W", "B", "C4", "I", "NPY", "PD", "PGH", "PIE", "PT", "RET", "RUF", "SIM", "UP"]

[tool.ruff.lint.isort]
known-first-party = ["trimode"]
"""
# The runtime's public names, as the migration reads them from the template.
PUBLIC = runtime_migration.public_names(ROOT)


def old_user_file(name: str) -> str:
    """A user file of 4.1.0 (yours/<name>.py), from the archive."""
    with tarfile.open(ARCHIVE_4_1) as archive:
        member = archive.extractfile(f"{OLD_PACKAGE}/yours/{name}.py")
        return member.read().decode("utf-8")


def new_user_file(name: str) -> str:
    """The same file at 5.0.0 (the working tree)."""
    return (ROOT / OLD_PACKAGE / f"{name}.py").read_text(encoding="utf-8")


def from_yours(binding: Binding) -> Binding | Unresolved | None:
    """A remap as the migration makes it for yours/<file>.py: sibling modules stay
    siblings, machinery names come from trimode or have no home."""
    if not binding.level:
        return None
    if binding.module == "features" and binding.member == "build_preprocessor":
        return Binding("features", "build_preprocessor", level=1)
    if binding.member in PUBLIC:
        return Binding("trimode", binding.member, binding.alias)
    return Unresolved(f"{binding.member} has no public home")


def changed(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def project_tree(folder: Path) -> Style:
    """A project's package, src/ml_project with models.py, and how ruff sorts there."""
    (folder / "src" / "ml_project").mkdir(parents=True)
    for name in ("__init__", "models"):
        (folder / "src" / "ml_project" / f"{name}.py").write_text("", encoding="utf-8")
    return Style((folder, folder / "src"), 100, None, ("trimode",))


def ruff_problems(tmp_path: Path, files: dict[str, str]) -> str:
    """What ruff's lint and formatter say about the files, with the project's settings."""
    (tmp_path / "pyproject.toml").write_text(RUFF, encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    names = list(files)
    lint = subprocess.run(
        [tool("ruff"), "check", *names], cwd=tmp_path, capture_output=True, text=True
    )
    form = subprocess.run(
        [tool("ruff"), "format", "--check", "--diff", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    return "" if lint.returncode == form.returncode == 0 else lint.stdout + form.stdout


def compose(name: str, mine: str) -> python_source.Composed:
    policy = Policy(PUBLIC, frozenset({"FeatureSchema", "ModelSpec"}), from_yours, STYLE)
    return python_source.compose(mine, old_user_file(name), new_user_file(name), policy)


def test_copier_runs_it_after_merging_5_0_0_and_the_rooms_migration_no_more():
    migrations = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))["_migrations"]
    assert [item["version"] for item in migrations] == ["1.0.0", "3.0.0", "5.0.0"]
    entry = migrations[-1]
    assert entry["command"][1].endswith("migrations/v5_0_0_runtime.py")
    assert entry["command"][2:] == [
        "{{ _copier_conf.src_path }}",
        "{{ _version_from }}",
        "{{ _version_to }}",
    ]
    assert "after" in entry["when"]


def test_the_users_edits_reach_the_5_0_files_ruff_clean(tmp_path):
    entry = (
        '        "small_forest": ModelSpec(make=lambda seed, n_jobs: RandomForestClassifier()),\n'
    )
    models = compose(
        "models",
        changed(old_user_file("models"), '"classification": {\n', '"classification": {\n' + entry),
    )
    assert entry in models.text
    assert "from trimode import ModelSpec" in models.text
    assert "def build_model" not in models.text and "class ModelSpec" not in models.text
    # A step the user changed, next to lines 5.0.0 changed too: their function, whole,
    # with the constant it reads.
    mean = 'SimpleImputer(strategy="mean")), ("scale"'
    features = compose(
        "features",
        changed(old_user_file("features"), 'SimpleImputer(strategy="median")), ("scale"', mean),
    )
    assert mean in features.text and features.kept_whole == ["build_preprocessor"]
    assert 'TEXT_PREFIX = "text:"' in features.text
    assert "from trimode import DateParts, FeatureSchema, as_documents, as_text" in features.text
    assert "def infer_schema" not in features.text and "def add_features" in features.text
    expectations = compose("expectations", old_user_file("expectations") + "\nOURS = 1\n")
    assert expectations.text.endswith("\nOURS = 1\n")
    assert expectations.text.startswith(new_user_file("expectations").split("\n\n\n")[0])
    files = {
        "models.py": models.text,
        "features.py": features.text,
        "expectations.py": expectations.text,
    }
    assert ruff_problems(tmp_path, files) == ""
    for composed in (models, features, expectations):
        assert composed.dropped_edits == [] and composed.unresolved == {}


@pytest.mark.parametrize("name", ["models", "features", "expectations"])
def test_a_file_the_user_never_changed_becomes_the_new_one(name):
    assert compose(name, old_user_file(name)).text == new_user_file(name)


def test_edited_machinery_in_a_user_file_is_kept_when_used_and_named_when_not(tmp_path):
    old = old_user_file("features")
    mine = changed(old, '"weekday", "days_since_1970")', '"weekday", "days_since_1970", "hour")')
    mine = changed(
        mine,
        "stamps.dt.day_of_week,\n",
        "stamps.dt.day_of_week,\n                stamps.dt.hour,\n",
    )
    mine = changed(
        mine,
        "    return FeatureSchema(\n        numeric=numeric,",
        "    return FeatureSchema(\n        numeric=tuple(sorted(numeric)),",
    )
    mine += '\n\ndef ours(frame):\n    """Ours."""\n    return infer_schema(frame, "y")\n'
    composed = compose("features", mine)
    # DateParts: used by build_preprocessor, so the user's edited class stays; their
    # infer_schema too, which their function uses.
    assert composed.kept_edited == [
        "DateParts (used by build_preprocessor)",
        "infer_schema (used by ours)",
    ]
    assert '"days_since_1970", "hour")' in composed.text
    assert (
        "from trimode import FeatureSchema, as_documents, as_text, to_timestamps" in composed.text
    )
    # infer_schema: their function uses it, so it stays too, with its private import named.
    assert "def infer_schema" in composed.text
    assert composed.unresolved == {"is_date_column": "is_date_column has no public home"}
    # schema_of, unchanged and unused: gone.
    assert "def schema_of" not in composed.text
    unused = compose(
        "features",
        changed(
            old,
            "    return FeatureSchema(\n        numeric=numeric,",
            "    return FeatureSchema(\n        numeric=tuple(sorted(numeric)),",
        ),
    )
    assert unused.dropped_edits == ["infer_schema"] and "def infer_schema" not in unused.text
    assert ruff_problems(tmp_path, {"features.py": unused.text}) == ""


def remap_moved(binding: Binding) -> Binding | Unresolved | None:
    """The 4.x layout's modules, as the migration maps them for a project ml_project."""
    if binding.module == "ml_project.yours.models":
        return Binding("ml_project.models", binding.member, binding.alias)
    if binding.module.startswith("ml_project.reporting"):
        return Binding("trimode", binding.member, binding.alias)
    if binding.module.startswith("ml_project.yours"):
        return Unresolved("no home")
    return None


def test_imports_of_moved_modules_are_rewritten_sorted_or_named(tmp_path):
    source = (
        '"""Ours."""\n\nimport json\n\nimport pandas as pd\n\n'
        "from .reporting.inspection import worst_slices\n"
        "from .yours.features import infer_schema\n"
        "from .yours.models import MODELS\n\n\n"
        "def f():\n    from ml_project.yours.models import MODELS as REGISTRY\n\n"
        "    return json, pd, worst_slices, infer_schema, MODELS, REGISTRY\n"
    )
    style = project_tree(tmp_path)
    result = python_source.rewrite_imports(source, "ml_project", remap_moved, style)
    assert result.text == (
        '"""Ours."""\n\nimport json\n\nimport pandas as pd\n\nfrom trimode import worst_slices\n\n'
        "from .models import MODELS\n"
        "from .yours.features import infer_schema\n\n\n"
        "def f():\n    from ml_project.models import MODELS as REGISTRY\n\n"
        "    return json, pd, worst_slices, infer_schema, MODELS, REGISTRY\n"
    )
    assert result.unresolved == [(8, "from .yours.features import infer_schema", "no home")]
    assert ruff_problems(tmp_path, {"src/ml_project/ours.py": result.text}) == ""
    # A notebook cell with a magic: the magic stays; nothing to do is None.
    cell = "%matplotlib inline\nfrom ml_project.reporting.plots import roc\n\nroc"
    rewritten = python_source.rewrite_imports(cell, None, remap_moved, style).text
    assert rewritten == "%matplotlib inline\nfrom trimode import roc\n\nroc"
    assert python_source.rewrite_imports("import os\n", None, remap_moved, style).text is None


def test_imports_are_written_as_ruff_sorts_and_wraps_them(tmp_path):
    bindings = [
        Binding("trimode", "as_text"),
        Binding("trimode", "DateParts"),
        Binding("trimode", "MODES"),
        Binding("sklearn.pipeline", "Pipeline"),
        Binding("numpy", alias="np"),
        Binding("__future__", "annotations"),
        Binding("dataclasses", "dataclass"),
        Binding("os"),
        Binding("ml_project.models", "MODELS"),
        Binding("ml_project.models", "ModelSpec", alias="Spec"),
        Binding("features", "build_preprocessor", level=1),
        Binding("conftest", "CONFIG_DIR", level=2),
        *(Binding("sklearn.preprocessing", f"Transformer{n:02d}") for n in range(8)),
    ]
    text = python_source.render_imports(bindings, project_tree(tmp_path))
    assert "from sklearn.preprocessing import (\n    Transformer00,\n" in text
    assert "from trimode import MODES, DateParts, as_text" in text
    uses = "".join(f"    {item.name},\n" for item in bindings if item.module != "__future__")
    module = f"{text}\n\nUSED = [\n{uses}]\n"
    assert ruff_problems(tmp_path, {"tests/test_mod.py": module}) == ""


def commit(folder: Path, files: dict[str, str]) -> None:
    """Write the files into a git repository in folder and commit them."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "--quiet"], cwd=folder, check=True)
    subprocess.run(["git", "add", "--all"], cwd=folder, check=True)
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", *identity, "commit", "-qm", "4.1"], cwd=folder, check=True)


def test_after_copier_merged_the_migration_moves_removes_keeps_aside_and_names(
    tmp_path, monkeypatch
):
    """The migration's steps on a project as copier leaves it (old-only files gone from
    the working tree, still in the index), with hand-made renders of both versions."""
    old_models, new_models = old_user_file("models"), new_user_file("models")
    compare = '"""Comparing models."""\n\nFOLDS = 5\n'
    old = {
        "src/ml_project/__init__.py": "",
        "src/ml_project/yours/__init__.py": '"""Yours."""\n',
        "src/ml_project/yours/models.py": old_models,
        "src/ml_project/modelling/compare.py": compare,
        "src/ml_project/modelling/splitting.py": '"""Splitting."""\n',
    }
    new = {"src/ml_project/__init__.py": "", "src/ml_project/models.py": new_models}
    for name, files in (("old", old), ("new", new)):
        for path, text in files.items():
            (tmp_path / name / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name / path).write_text(text, encoding="utf-8")
    entry = (
        '        "small_forest": ModelSpec(make=lambda seed, n_jobs: RandomForestClassifier()),\n'
    )
    project = tmp_path / "project"
    user = {
        **old,
        "src/ml_project/yours/models.py": changed(
            old_models, '"classification": {\n', '"classification": {\n' + entry
        ),
        "src/ml_project/modelling/compare.py": compare.replace("5", "10"),
        "tests/test_ours.py": (
            "from ml_project.modelling.splitting import split_rows\n"
            "from ml_project.yours.models import MODELS, model_names\n\n"
            "USED = [MODELS, model_names, split_rows]\n"
        ),
        "scripts/run.sh": "python -m ml_project train --mode test\n",
        # As copier merged it before the migration: the project's ruff settings.
        "pyproject.toml": RUFF,
    }
    commit(project, user)
    for path in set(old) - set(new):  # what copier does before the migration runs
        (project / path).unlink()
    (project / "src/ml_project/models.py").write_text(new_models, encoding="utf-8")
    monkeypatch.chdir(project)

    update = runtime_migration.Update(
        "ml_project",
        tmp_path / "old",
        tmp_path / "new",
        PUBLIC,
        runtime_migration.project_style("ml_project"),
    )
    update.move_user_files()
    assert update.remove_machinery() == 2  # yours/__init__.py, modelling/splitting.py
    assert update.rewrite_references() == 2

    assert entry in (project / "src/ml_project/models.py").read_text(encoding="utf-8")
    aside = "src/ml_project/modelling/compare.py.before-5.0"
    assert (project / aside).read_text(encoding="utf-8") == compare.replace("5", "10")
    # ruff sees the import left as it was as third-party: its module is gone.
    own_test = (project / "tests/test_ours.py").read_text(encoding="utf-8")
    assert own_test == (
        "from ml_project.yours.models import model_names\n\n"
        "from ml_project.models import MODELS\n"
        "from trimode import split_rows\n\n"
        "USED = [MODELS, model_names, split_rows]\n"
    )
    assert ruff_problems(project, {"tests/test_ours.py": own_test}) == ""
    assert (project / "scripts/run.sh").read_text(
        "utf-8"
    ) == "python -m trimode train --mode test\n"
    listed = subprocess.run(
        ["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(listed) == [
        "pyproject.toml",
        "scripts/run.sh",
        "src/ml_project/__init__.py",
        aside,
        "src/ml_project/models.py",
        "tests/test_ours.py",
    ]
    said = "\n".join(update.said)
    assert (
        "migration 5.0.0: src/ml_project/yours/models.py -> src/ml_project/models.py: "
        "your edits kept" in said
    )
    assert (
        "migration 5.0.0: ACTION NEEDED: you changed src/ml_project/modelling/compare.py, "
        f"which 5.0.0 moved into the trimode runtime: kept as {aside}" in said
    )
    assert (
        "migration 5.0.0: ACTION NEEDED: tests/test_ours.py:2: from ml_project.yours.models "
        "import MODELS, model_names: the names are list(MODELS[task]) of your models.py"
    ) in said
