"""Updating a 4.1.0 project to 5.0.0, whose machinery moved into the trimode runtime.

One local git repository of the template holds 4.1.0 (from the archive committed under
tests/data/, see releases.py) and the working tree, tagged v<version>. A project generated
at 4.1.0, by copier or by cookiecutter (whose post-generation step writes copier's
answers file: the documented update path for both), gets a user's edits: a model added
to the registry (yours/models.py), a changed preprocessing step (yours/features.py), a
new expectation (yours/expectations.py), a config value, a notebook cell importing a
machinery module, a module and a test of their own importing moved modules, scripts
naming the package, and two machinery files they changed. It is committed and updated
with `copier update --trust --defaults`, as the README says. Then:

- every edit is in its 5.0.0 home, importing the runtime's public API;
- the project holds exactly a fresh 5.0.0 render's files, the user's own files, and
  the two changed machinery files, kept aside and each named in one line;
- what has no new home is named with what to use instead;
- the project builds (`uv sync`, the runtime from the repository's v5.0.0 tag over
  file://), passes its own tests (the user's among them; the whole suite once, for the
  copier project) and commits through its hooks (test mode, ruff, mypy, ...).
"""

import json
import time
from pathlib import Path

import pytest
from project_shell import Project
from releases import make_repo_from_4_1
from rendering import ANSWERS_FILE, TEMPLATE_TAG, render_with_copier
from test_update import ANSWERS, REGISTRY_ENTRY, commit_all, conflicted, generate, run_tool

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("update-runtime")]

PACKAGE = "ml_project"
SOURCE = f"src/{PACKAGE}"
SAY = "migration 5.0.0:"
SUFFIX = ".before-5.0"

# The user's edits in the files 5.0.0 moves (REGISTRY_ENTRY: the model they added).
IMPUTER_BEFORE = 'SimpleImputer(strategy="median")), ("scale"'
IMPUTER_AFTER = 'SimpleImputer(strategy="mean")), ("scale"'
EXPECTATION_NAME = "a year more of tenure never raises the churn probability by over 0.05"
EXPECTATION = f"""        Directional(
            "{EXPECTATION_NAME}",
            feature="tenure_months",
            change=+12,
            direction="down",
            tolerance=0.05,
            allowed_share=0.1,
        ),
"""
CELL_SOURCE = [
    f"from {PACKAGE}.reporting.inspection import data_summary\n",
    "\n",
    "data_summary(frame, target).columns",
]
# Modules and tests of their own, importing moved modules.
OWN_MODULE = '''"""Helpers our team added."""

from .yours.features import FeatureSchema, build_preprocessor
from .yours.models import MODELS


def registered(task: str) -> list[str]:
    """The models of a task."""
    return list(MODELS[task])


def numeric_preprocessor(columns: list[str]):
    """The shared preprocessing of numeric columns."""
    return build_preprocessor(FeatureSchema(numeric=tuple(columns), categorical=()))
'''
OWN_TEST = f"""from {PACKAGE}.churn_helpers import numeric_preprocessor, registered
from {PACKAGE}.yours.models import MODELS


def test_our_model_is_registered():
    assert "small_boosting" in registered("classification")
    assert MODELS["classification"]["small_boosting"].search_space


def test_numbers_are_imputed_with_the_mean():
    numeric = numeric_preprocessor(["tenure_months"]).transformers[0][1]
    assert numeric.named_steps["impute"].strategy == "mean"
"""
# A script importing what the runtime does not offer, and one running the package.
OWN_SCRIPT = f'''"""Print the feature schema of a table."""

import sys

import pandas as pd

from {PACKAGE}.yours.features import infer_schema

print(infer_schema(pd.read_csv(sys.argv[1]), "churned"))
'''
OWN_SHELL = f"#!/bin/sh\nuv run python -m {PACKAGE} train --mode human\n"
OWN_FILES = {
    f"{SOURCE}/churn_helpers.py": OWN_MODULE,
    "tests/test_ours.py": OWN_TEST,
    "scripts/schema.py": OWN_SCRIPT,
    "scripts/train.sh": OWN_SHELL,
}
# Machinery files the user changed: kept aside and named.
CHANGED_MACHINERY = {
    f"{SOURCE}/modelling/compare.py": ("\n\ndef ", "\n\n# Our note: folds are stratified.\ndef "),
    "tests/your_pipeline/test_leakage.py": (
        "\n\ndef test_no_single",
        "\n\ndef test_our_leak_check_runs(feature_scores):\n    assert feature_scores\n"
        "\n\ndef test_no_single",
    ),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template repository: 4.1.0, then the working tree tagged v<version>."""
    return make_repo_from_4_1(tmp_path_factory.mktemp("runtime-update") / "trimode")


def edit(project: Project, relative: str, old: str, new: str) -> None:
    """Replace text a 4.1.0 file holds (once)."""
    project.replace(relative, old, new)


def add_notebook_cell(project: Project) -> None:
    """A code cell at the end of notebook 1, as the project's nbstripout hook leaves it
    (cell ids renumbered, no outputs)."""
    path = project.folder / "notebooks" / "1-inspect-data.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    notebook["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "id": str(len(notebook["cells"])),
            "metadata": {},
            "outputs": [],
            "source": CELL_SOURCE,
        }
    )
    text = json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")


def make_user_edits(project: Project) -> dict[str, bytes]:
    """What a 4.1 user did; return the changed machinery files' contents."""
    edit(
        project,
        f"{SOURCE}/yours/models.py",
        '    "classification": {\n',
        '    "classification": {\n' + REGISTRY_ENTRY,
    )
    edit(project, f"{SOURCE}/yours/features.py", IMPUTER_BEFORE, IMPUTER_AFTER)
    edit(
        project,
        f"{SOURCE}/yours/expectations.py",
        '    "classification": [\n',
        '    "classification": [\n' + EXPECTATION,
    )
    edit(project, "configs/human.toml", "max_rows = 50_000", "max_rows = 40_000")
    add_notebook_cell(project)
    for relative, text in OWN_FILES.items():
        project.write(relative, text)
    changed = {}
    for relative, (old, new) in CHANGED_MACHINERY.items():
        edit(project, relative, old, new)
        changed[relative] = (project.folder / relative).read_bytes()
    commit_all(project, "Our work")
    return changed


def files_of(folder: Path) -> set[str]:
    """The files of a project outside .git."""
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(folder).parts
    }


def said_lines(printed: str) -> list[str]:
    """The migration's lines."""
    return [line for line in printed.splitlines() if line.startswith(SAY)]


def one_line_about(lines: list[str], *parts: str) -> str:
    """The one migration line holding every part."""
    found = [line for line in lines if all(part in line for part in parts)]
    assert len(found) == 1, f"{parts} in:\n" + "\n".join(lines)
    return found[0]


@pytest.mark.parametrize("engine", ["copier", "cookiecutter"])
def test_a_4_1_project_updates_to_the_runtime_keeping_every_edit(
    engine, template, tmp_path, record_property
):
    project = generate(engine, template, tmp_path, version="4.1.0")
    assert (project.folder / SOURCE / "yours" / "models.py").is_file()  # 4.1's layout
    changed = make_user_edits(project)

    # The command the README gives: to the newest version.
    started = time.monotonic()
    updated = run_tool(
        "copier", "update", "--trust", "--defaults", cwd=project.folder, env=project.env
    )
    times = {"copier update": time.monotonic() - started}
    assert updated.returncode == 0, updated.stdout + updated.stderr
    lines = said_lines(updated.stderr)
    assert conflicted(project) == []
    markers = project.run("git", "grep", "-n", "-e", "<<<<<<<", "-e", ">>>>>>>", check=False)
    assert markers.stdout == ""
    assert project.run("git", "ls-files", "--deleted").stdout == ""  # nothing half-removed

    # Every edit in its new home, importing the runtime's public API.
    models = project.read(f"{SOURCE}/models.py")
    assert REGISTRY_ENTRY in models and "from trimode import ModelSpec" in models
    features = project.read(f"{SOURCE}/features.py")
    assert IMPUTER_AFTER in features and IMPUTER_BEFORE not in features
    assert "def infer_schema" not in features and "def schema_of" not in features
    expectations = project.read(f"{SOURCE}/expectations.py")
    assert EXPECTATION in expectations
    assert "from trimode import Directional, Examples, Expectation, Invariant" in expectations
    for name in ("models", "features", "expectations"):
        one_line_about(lines, f"{SOURCE}/yours/{name}.py -> {SOURCE}/{name}.py: your edits kept")
    assert "max_rows = 40_000" in project.read("configs/human.toml")
    notebook = json.loads(project.read("notebooks/1-inspect-data.ipynb"))
    assert notebook["cells"][-1]["source"] == [
        "from trimode import data_summary\n",
        *CELL_SOURCE[1:],
    ]
    assert "from trimode import" in "".join(notebook["cells"][2]["source"])  # 5.0.0's cell

    # The user's own files point at the new homes; what has none is named.
    helpers = project.read(f"{SOURCE}/churn_helpers.py")
    assert (
        "from trimode import FeatureSchema\n\n"
        "from .features import build_preprocessor\nfrom .models import MODELS\n"
    ) in helpers
    own_test = project.read("tests/test_ours.py")
    assert f"from {PACKAGE}.models import MODELS" in own_test
    assert (
        project.read("scripts/train.sh")
        == "#!/bin/sh\nuv run python -m trimode train --mode human\n"
    )
    assert project.read("scripts/schema.py") == OWN_SCRIPT  # left as it was, and named:
    one_line_about(
        lines,
        "ACTION NEEDED: scripts/schema.py:7:",
        f"from {PACKAGE}.yours.features import infer_schema",
        "trimode.feature_schema(config, frame)",
    )

    # The machinery is gone; the two files the user changed are kept aside and named.
    fresh = render_with_copier(template, tmp_path / "fresh", ANSWERS)
    asides = {f"{relative}{SUFFIX}" for relative in changed}
    assert files_of(project.folder) == (files_of(fresh) | set(OWN_FILES) | asides), (
        "the updated project's files differ from a fresh 5.0.0 render's plus the user's"
    )
    for relative, content in changed.items():
        assert (project.folder / f"{relative}{SUFFIX}").read_bytes() == content
        line = one_line_about(lines, f"ACTION NEEDED: you changed {relative},")
        assert f"kept as {relative}{SUFFIX}" in line and f"then delete {relative}{SUFFIX}" in line
    assert "machinery file(s) you never changed removed" in lines[-2]
    answers = project.read(ANSWERS_FILE)
    assert f"_commit: {TEMPLATE_TAG}" in answers
    pin = f'trimode = {{ git = "file://{template}", tag = "{TEMPLATE_TAG}" }}'
    assert pin in project.read("pyproject.toml")

    # The project builds, passes its own tests and commits through its hooks (whose
    # test-mode hook runs the fast tests, the user's among them). The whole suite, slow
    # tests too, runs once: the two engines' projects differ only in the answers file.
    started = time.monotonic()
    project.run("uv", "sync", "--quiet")
    times["uv sync"] = time.monotonic() - started
    if engine == "copier":
        started = time.monotonic()
        command = ["uv", "run", "--quiet", "pytest", "-v", "-p", "no:cacheprovider"]
        tests = project.run(*command, check=False)
        times["uv run pytest"] = time.monotonic() - started
        assert tests.returncode == 0, tests.stdout[-3000:]
        for passed in (
            "tests/test_ours.py::test_our_model_is_registered PASSED",
            "tests/test_ours.py::test_numbers_are_imputed_with_the_mean PASSED",
            f"test_expectation_holds[{EXPECTATION_NAME}] PASSED",
            "test_notebook_runs_in_test_mode[1-inspect-data] PASSED",
        ):
            assert passed in tests.stdout, tests.stdout[-3000:]
    project.run("uv", "run", "--quiet", "pre-commit", "install")
    project.run("git", "add", "--all")
    started = time.monotonic()
    committed = project.commit("Update the template to 5.0.0")
    times["commit (hooks)"] = time.monotonic() - started
    assert committed.returncode == 0, committed.output
    assert committed.status("test-mode") == "Passed", committed.output
    spent = ", ".join(f"{step} {seconds:.0f} s" for step, seconds in times.items())
    record_property("wall_time", f"{engine} project 4.1.0 -> {TEMPLATE_TAG}: {spent}")
