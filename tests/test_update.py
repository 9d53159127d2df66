"""Updating generated projects to a newer template version, keeping the user's work.

One local git repository of the template (a temporary folder, never the network)
holds four tagged versions, all with the 5.0 layout (the update from 4.x is
test_update_runtime.py's):

- 0.2.0: the template before 1.0.0 renamed the config key `data.cache_dir`;
- 1.0.0: the working tree;
- 1.1.0: a new pre-commit hook (check-yaml), a changed default, a new file, and changes to two
  files the user deleted or owns (a notebook, data/README.md);
- 1.2.0: a change to the line of configs/human.toml the user also changed; it is
  also tagged v5.0.0, the tag a generated project's uv gets the runtime from.

Projects are generated at 1.0.0 by copier, by cookiecutter and by cruft, committed,
edited as a user would (a model added to the registry, a config value changed, a
README paragraph added, a notebook deleted, a module added, data/README.md rewritten),
committed again, and updated: with `copier update` (copier and cookiecutter projects)
and with `cruft update` (the cruft project). Every user edit must survive and every
template change arrive. The copier project then gets its environment and must pass
its own tests and every pre-commit hook; its update to 1.2.0 conflicts, leaves
inline markers, and a commit of the file is refused by the pre-commit guard. The
1.0.0 migration runs when an update crosses 1.0.0 and not otherwise, and a project
with uncommitted changes is refused by both tools with nothing changed.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from project_shell import Project, not_activated_environment, set_git_identity
from rendering import ANSWERS_FILE, TEMPLATE_TAG, git, make_template_repo, release, tool

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("update")]

TEMPLATE_FOLDER = "{{cookiecutter.project_slug}}"
PACKAGE = "ml_project"
ANSWERS = {"install_hooks": False, "github_actions": False}
MIGRATION_LINE = "migration 1.0.0: renamed data.cache_dir to data.sample_dir"

# The user's edits.
REGISTRY_ENTRY = """\
        "small_boosting": ModelSpec(
            make=lambda seed, n_jobs: HistGradientBoostingClassifier(
                max_iter=50, random_state=seed
            ),
            search_space={"learning_rate": [0.05, 0.1]},
        ),
"""
README_PARAGRAPH = "\n## Our notes\n\nThe churn labels come from the billing system.\n"
USER_MODULE = '''"""Features our team added."""


def tenure_years(months: float) -> float:
    """Tenure in years."""
    return months / 12
'''
USER_DATA_README = "# Our data\n\nExported nightly from the warehouse.\n"
DELETED_NOTEBOOK = "notebooks/2-compare-models.ipynb"

# The template's changes in 1.1.0.
NEW_HOOK = """
      - id: check-yaml
        name: check YAML syntax
        entry: uv run --quiet check-yaml
        language: system
        types: [yaml]
"""
NEW_FILE = "docs/glossary.md"


def edit(path: Path, old: str, new: str) -> None:
    """Replace text a file is known to hold, failing clearly if it does not."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path} no longer holds {old!r}: update this test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template repository with its four versions (see the module docstring)."""
    repo = make_template_repo(tmp_path_factory.mktemp("update") / "trimode", tag=None)
    folder = repo / TEMPLATE_FOLDER
    base = folder / "configs" / "base.toml"
    current = base.read_text(encoding="utf-8")
    # 0.2.0 is 1.0.0 with the key's old name.
    base.write_text(current.replace("sample_dir", "cache_dir"), encoding="utf-8")
    release(repo, "0.2.0", "before the rename")
    base.write_text(current, encoding="utf-8")
    release(repo, "1.0.0", "data.cache_dir is data.sample_dir")

    edit(
        folder / ".pre-commit-config.yaml", "\n      # Test mode", NEW_HOOK + "\n      # Test mode"
    )
    edit(base, "top_n = 10", "top_n = 15")
    (folder / NEW_FILE).write_text(
        "# {{ cookiecutter.project_name }}: glossary\n", encoding="utf-8"
    )
    edit(folder / DELETED_NOTEBOOK, '"# Compare models\\n"', '"# Compare the models\\n"')
    edit(folder / "data" / "README.md", "# data/", "# data/ (local copies)")
    release(repo, "1.1.0", "a hook, a default, a file")

    edit(folder / "configs" / "human.toml", "max_rows = 50_000", "max_rows = 60_000")
    release(repo, "1.2.0", "a bigger human sample")
    git("tag", TEMPLATE_TAG, cwd=repo)  # where the projects' uv finds the runtime
    return repo


def make_project(folder: Path, env: dict[str, str]) -> Project:
    """The project in folder, driven from a user's shell (env), with a git identity."""
    project = Project(folder, env)
    set_git_identity(project)
    return project


def commit_all(project: Project, message: str) -> None:
    """Commit every change without running hooks (the projects here have none installed)."""
    project.run("git", "add", "--all")
    project.run("git", "commit", "--quiet", "--no-verify", "--message", message)


def make_user_edits(project: Project) -> None:
    """What a user does in a fresh project, then commits."""
    project.replace(
        f"src/{PACKAGE}/models.py",
        '    "classification": {\n',
        '    "classification": {\n' + REGISTRY_ENTRY,
    )
    project.replace("configs/human.toml", "max_rows = 50_000", "max_rows = 40_000")
    project.write("README.md", project.read("README.md") + README_PARAGRAPH)
    project.run("git", "rm", "--quiet", DELETED_NOTEBOOK)
    project.write(f"src/{PACKAGE}/churn_helpers.py", USER_MODULE)
    project.write("data/README.md", USER_DATA_README)
    commit_all(project, "Our work")


def assert_user_work_survived(project: Project) -> None:
    assert REGISTRY_ENTRY in project.read(f"src/{PACKAGE}/models.py")
    assert "max_rows = 40_000" in project.read("configs/human.toml")
    assert project.read("README.md").endswith(README_PARAGRAPH)
    assert not (project.folder / DELETED_NOTEBOOK).exists()
    assert project.read(f"src/{PACKAGE}/churn_helpers.py") == USER_MODULE
    # data/README.md is the user's once generated: the template's change is not applied.
    assert project.read("data/README.md") == USER_DATA_README


def assert_template_changes_arrived(project: Project, version: str) -> None:
    hooks = yaml.safe_load(project.read(".pre-commit-config.yaml"))["repos"][0]["hooks"]
    assert "check-yaml" in [hook["id"] for hook in hooks]
    assert "top_n = 15" in project.read("configs/base.toml")
    assert project.read(NEW_FILE) == "# ML Project: glossary\n"
    answers = yaml.safe_load(project.read(ANSWERS_FILE))
    assert answers["_commit"] == version
    assert (answers["task"], answers["install_hooks"]) == ("classification", False)


def assert_the_updated_project_works(project: Project) -> None:
    """Its environment builds, its own tests pass, the update commits through every hook
    (the new one included), and every hook passes on every file."""
    project.run("uv", "sync", "--quiet")
    tests = project.run(
        "uv", "run", "--quiet", "pytest", "-q", "-p", "no:cacheprovider", check=False
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    project.run("uv", "run", "--quiet", "pre-commit", "install")
    project.run("git", "add", "--all")
    committed = project.commit("Update the template")
    assert committed.returncode == 0, committed.output
    every = project.pre_commit("run", "--all-files")
    assert every.returncode == 0, every.output
    assert every.status("check-yaml") == "Passed", every.output


def conflicted(project: Project) -> list[str]:
    """Paths git reports as unmerged (both sides changed them)."""
    status = project.run("git", "status", "--porcelain").stdout.splitlines()
    return [line[3:] for line in status if line[:2] in {"UU", "AA", "DU", "UD"}]


def run_tool(name: str, *arguments: str, cwd: Path, env: dict[str, str]):
    """Run copier, cookiecutter or cruft from the test environment's bin folder."""
    return subprocess.run(
        [str(tool(name)), *arguments], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def generate(engine: str, template: Path, tmp_path: Path, version: str = "1.0.0") -> Project:
    """Generate the default project at a template version with copier, cookiecutter or
    cruft, as their users would, and commit it."""
    env = not_activated_environment(tmp_path)
    if engine == "copier":
        arguments = [f"--data={key}={str(value).lower()}" for key, value in ANSWERS.items()]
        command = ["copy", "--trust", "--defaults", "--vcs-ref", version, *arguments]
        made = run_tool("copier", *command, str(template), "ml-project", cwd=tmp_path, env=env)
    elif engine == "cookiecutter":
        # cookiecutter renders a local folder as it is: a version goes through a git URL.
        answers = [f"{key}={'yes' if value else 'no'}" for key, value in ANSWERS.items()]
        command = ["--no-input", "--checkout", version, f"git+file://{template}", *answers]
        made = run_tool("cookiecutter", *command, cwd=tmp_path, env=env)
    else:
        context = ["--extra-context", json.dumps(ANSWERS)]
        command = ["create", "--no-input", "--checkout", version, *context, str(template)]
        made = run_tool("cruft", *command, cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stdout + made.stderr
    # The post-generation step ran (with install_hooks=false it says how to install them).
    assert "pre-commit hooks later" in made.stdout + made.stderr
    project = make_project(tmp_path / "ml-project", env)
    commit_all(project, "Fresh project")
    return project


def update(engine: str, project: Project, version: str) -> subprocess.CompletedProcess:
    """The update command the README gives users of that engine, to one version."""
    if engine == "cruft":
        command = ["cruft", "update", "--skip-apply-ask", "--checkout", version]
    else:  # copier and cookiecutter projects both update with copier
        command = ["copier", "update", "--trust", "--defaults", "--vcs-ref", version]
    return run_tool(*command, cwd=project.folder, env=project.env)


def snapshot(project: Project) -> dict[str, bytes]:
    """Every file of the project outside .git, for before-and-after comparisons."""
    return {
        path.relative_to(project.folder).as_posix(): path.read_bytes()
        for path in sorted(project.folder.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(project.folder).parts
    }


def test_copier_project_update_keeps_the_users_work(template, tmp_path):
    project = generate("copier", template, tmp_path)
    make_user_edits(project)

    updated = update("copier", project, "1.1.0")
    assert updated.returncode == 0, updated.stderr
    assert MIGRATION_LINE not in updated.stderr  # 1.0.0 -> 1.1.0 does not cross 1.0.0
    # The post-generation task ran on copy (it prints this with install_hooks=false), not now.
    assert "pre-commit hooks later" not in updated.stdout + updated.stderr
    assert conflicted(project) == []
    assert_user_work_survived(project)
    assert_template_changes_arrived(project, "1.1.0")

    assert_the_updated_project_works(project)

    # 1.2.0 changes the line the user changed: inline markers, and the guard refuses them.
    updated = update("copier", project, "1.2.0")
    assert updated.returncode == 0, updated.stderr
    assert conflicted(project) == ["configs/human.toml"]
    human = project.read("configs/human.toml")
    assert "<<<<<<< before updating" in human and ">>>>>>> after updating" in human
    assert "max_rows = 40_000" in human and "max_rows = 60_000" in human
    refused = project.add_and_commit("configs/human.toml", message="Update the template to 1.2.0")
    assert "configs/human.toml" in refused.assert_refused_by("check-merge-conflict")


@pytest.mark.parametrize("engine", ["cookiecutter", "cruft"])
def test_other_engines_projects_update_keeping_the_users_work(engine, template, tmp_path):
    project = generate(engine, template, tmp_path)
    answers = yaml.safe_load(project.read(ANSWERS_FILE))
    # Written by the post-generation step: the project can update with copier too.
    assert answers["_commit"] == "1.0.0"
    if engine == "cookiecutter":
        assert answers["_src_path"] == f"git+file://{template}"
    else:
        recorded = json.loads(project.read(".cruft.json"))
        assert (recorded["template"], recorded["checkout"]) == (str(template), "1.0.0")
    make_user_edits(project)

    updated = update(engine, project, "1.1.0")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert conflicted(project) == []
    assert_user_work_survived(project)
    assert_template_changes_arrived(project, "1.1.0")
    if engine == "cruft":
        assert json.loads(project.read(".cruft.json"))["checkout"] == "1.1.0"
    assert_the_updated_project_works(project)


def test_cruft_renders_never_build_an_environment(template, tmp_path):
    """cruft renders the template again, twice, in temporary folders on every update: the
    post-generation step must not run `uv sync` there (nor on `cruft create`, which it
    cannot tell apart). With install_hooks=true and a uv that only logs its calls,
    neither command calls it."""
    calls = tmp_path / "uv-calls.log"
    fake = tmp_path / "fake-uv"
    fake.mkdir()
    (fake / "uv").write_text(f'#!/bin/sh\necho "$PWD $*" >> "{calls}"\n', encoding="utf-8")
    (fake / "uv").chmod(0o755)
    env = not_activated_environment(tmp_path)
    env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
    subprocess.run(["uv", "--version"], env=env, check=True)
    assert calls.read_text(encoding="utf-8").strip().endswith("--version")  # uv is the fake
    calls.unlink()

    context = json.dumps({**ANSWERS, "install_hooks": True})
    command = ["create", "--no-input", "--checkout", "1.0.0", "--extra-context", context]
    made = run_tool("cruft", *command, str(template), cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "uv sync && uv run pre-commit install" in made.stdout  # what to run instead
    project = make_project(tmp_path / "ml-project", env)
    commit_all(project, "Fresh project")
    updated = update("cruft", project, "1.1.0")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert not calls.exists(), calls.read_text(encoding="utf-8")


def test_the_migration_runs_only_across_its_version(template, tmp_path):
    project = generate("copier", template, tmp_path, version="0.2.0")
    assert 'cache_dir = "data"' in project.read("configs/base.toml")
    # The user set the old key in a mode file too.
    project.replace("configs/human.toml", "[data]\n", '[data]\ncache_dir = "samples"\n')
    commit_all(project, "Our samples folder")

    updated = update("copier", project, "1.0.0")
    assert updated.returncode == 0, updated.stderr
    assert f"{MIGRATION_LINE} in configs/base.toml, configs/human.toml" in updated.stderr
    assert conflicted(project) == []
    base, human = project.read("configs/base.toml"), project.read("configs/human.toml")
    assert 'sample_dir = "data"' in base and "cache_dir" not in base
    assert 'sample_dir = "samples"' in human and "cache_dir" not in human
    assert yaml.safe_load(project.read(ANSWERS_FILE))["_commit"] == "1.0.0"

    # Not crossing 1.0.0 again: 1.0.0 -> 1.1.0 does not run it.
    commit_all(project, "Update the template to 1.0.0")
    again = update("copier", project, "1.1.0")
    assert again.returncode == 0, again.stderr
    assert "migration 1.0.0" not in again.stderr
    assert 'sample_dir = "samples"' in project.read("configs/human.toml")


@pytest.mark.parametrize(
    ("engine", "refusal"),
    [
        ("copier", "Destination repository is dirty; cannot continue"),
        ("cruft", "Cruft cannot apply updates on an unclean git project"),
    ],
)
def test_a_dirty_project_is_refused_with_nothing_changed(engine, refusal, template, tmp_path):
    project = generate(engine, template, tmp_path)
    project.write("README.md", project.read("README.md") + "Not committed yet.\n")
    before, status = snapshot(project), project.run("git", "status", "--porcelain").stdout

    refused = update(engine, project, "1.1.0")
    assert refused.returncode != 0
    assert refusal in " ".join((refused.stdout + refused.stderr).split())
    assert snapshot(project) == before
    assert project.run("git", "status", "--porcelain").stdout == status
