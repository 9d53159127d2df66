"""A generated project gets the runtime at the version of the template that made it.

The pin is in one place, [tool.uv.sources] in the project's pyproject.toml: the template's
own repository at the tag v<version>, spelled as uv reads a git URL, or a local folder of
the runtime's source (the template's tests and demo). `copier update` moves it. Nothing
here installs anything: `uv sync` honouring the pin is the slow tests' business.
"""

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from cookiecutter.environment import StrictEnvironment
from packaging.requirements import Requirement
from packaging.version import Version
from rendering import (
    ANSWERS_FILE,
    MATRIX,
    ROOT,
    TEMPLATE_TAG,
    VERSION,
    environment_with,
    expected_answers,
    git,
    make_template_repo,
    release,
    render_with_command,
    runtime_pin,
    set_version,
    tool,
    versions_in,
)

ENGINES = ["copier", "cookiecutter"]
engines = pytest.mark.parametrize("engine", ENGINES)
PYPROJECT_TEMPLATE = ROOT / "{{cookiecutter.project_slug}}" / "pyproject.toml"
# The version the update test releases after the current one: the next patch.
NEXT = ".".join(map(str, [*Version(VERSION).release[:2], Version(VERSION).micro + 1]))
# copier commits in its own temporary repositories during an update: an identity for git.
GIT_IDENTITY = {
    f"GIT_{role}_{key}": value
    for role in ("AUTHOR", "COMMITTER")
    for key, value in (("NAME", "trimode tests"), ("EMAIL", "tests@example.invalid"))
}


def runtime_requirements(project: Path) -> list[Requirement]:
    """Every requirement on trimode in the project's metadata (dependencies and extras)."""
    metadata = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))["project"]
    lines = metadata["dependencies"] + [
        line for extra in metadata["optional-dependencies"].values() for line in extra
    ]
    return [found for found in map(Requirement, lines) if found.name == "trimode"]


@pytest.mark.parametrize("case", MATRIX[:2], ids=[case.id for case in MATRIX[:2]])
@engines
def test_a_template_given_as_a_path_pins_its_repository_at_the_version_tag(
    case, engine, renders, template_repo
):
    project = renders.get(case, engine)
    assert runtime_pin(project) == {"git": f"file://{template_repo}", "tag": TEMPLATE_TAG}
    # The one place: no version or URL in the requirements, the version nowhere else.
    requirements = runtime_requirements(project)
    assert len(requirements) == 5, requirements
    for requirement in requirements:
        assert (str(requirement.specifier), requirement.url) == ("", None), requirement
    pyproject = (project / "pyproject.toml").read_text("utf-8")
    assert len(re.findall(re.escape(VERSION), pyproject)) == 1


@engines
def test_a_runtime_source_folder_is_pinned_editable(engine, tmp_path, template_repo):
    folder = tmp_path / 'runtime "checkout"'
    # A hidden answer: copier's data, cookiecutter's private variable.
    name = "runtime_source" if engine == "copier" else "_runtime_source"
    answers = {"install_hooks": False, name: str(folder)}
    project, _ = render_with_command(
        engine, template_repo, tmp_path / "made", answers, environment_with({})
    )
    assert runtime_pin(project) == {"path": str(folder), "editable": True}
    # Not an answer the project keeps: `copier update` works it out again.
    assert "runtime_source" not in (project / ".copier-answers.yml").read_text("utf-8")


@engines
def test_a_template_given_as_a_relative_path_pins_the_folder_it_names(
    engine, tmp_path, template_repo
):
    """uv cannot use a relative git source, nor `copier update` a relative _src_path from
    the project's folder: the post-generation step writes the folder absolute."""
    relative = template_repo.name
    if engine == "copier":
        command = [tool("copier"), "copy", "--trust", "--defaults", "--quiet"]
        command += ["--data", "install_hooks=false", relative, tmp_path / "made"]
    else:
        command = [tool("cookiecutter"), "--no-input", "--output-dir", tmp_path, relative]
        command += ["install_hooks=false"]
    # Started in the template's parent folder, from a shell (which sets PWD).
    result = subprocess.run(
        [str(part) for part in command],
        cwd=template_repo.parent,
        env=environment_with({"PWD": str(template_repo.parent)}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    project = tmp_path / "made" if engine == "copier" else tmp_path / "ml-project"
    assert runtime_pin(project) == {"git": f"file://{template_repo}", "tag": TEMPLATE_TAG}
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text("utf-8"))
    assert (answers["_src_path"], answers["_commit"]) == (str(template_repo), TEMPLATE_TAG)


def test_a_relative_template_path_that_cannot_be_found_again_is_said_in_one_line(
    tmp_path, template_repo
):
    command = [tool("copier"), "copy", "--trust", "--defaults", "--quiet"]
    command += ["--data", "install_hooks=false", template_repo.name, tmp_path / "made"]
    # A shell that says it is elsewhere: the step cannot tell where the path started.
    result = subprocess.run(
        [str(part) for part in command],
        cwd=template_repo.parent,
        env=environment_with({"PWD": str(tmp_path)}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    said = (result.stdout + result.stderr).splitlines()
    expected = (
        f"The template was given as a relative path ({template_repo.name}): in pyproject.toml's"
        " [tool.uv.sources], make trimode's git source an absolute path or a URL"
    )
    assert expected in said
    assert runtime_pin(tmp_path / "made")["git"] == template_repo.name


SOURCES = [
    ("gh:owner/trimode", "https://github.com/owner/trimode"),
    ("gl:group/trimode", "https://gitlab.com/group/trimode"),
    ("bb:team/trimode", "https://bitbucket.org/team/trimode"),
    ("https://github.com/owner/trimode.git", "https://github.com/owner/trimode.git"),
    ("git+https://example.org/ml/trimode.git", "https://example.org/ml/trimode.git"),
    ("git+ssh://git@example.org/ml/trimode.git", "ssh://git@example.org/ml/trimode.git"),
    ("git@github.com:owner/trimode.git", "ssh://git@github.com/owner/trimode.git"),
    ("git+file:///srv/templates/trimode", "file:///srv/templates/trimode"),
    ("/srv/templates/trimode", "file:///srv/templates/trimode"),
]


@pytest.mark.parametrize(("source", "url"), SOURCES, ids=[source for source, _ in SOURCES])
@engines
def test_the_template_source_is_spelled_as_a_git_url_uv_reads(engine, source, url):
    """Rendered with Jinja directly: the engines would clone the URL, and the tests stay
    offline. copier gives the source as the answers file's _src_path, cookiecutter as
    _template."""
    context = dict(expected_answers({}))
    context |= {"_trimode_version": VERSION, "_runtime_source": "", "_template": source}
    variables = {"cookiecutter": context}
    if engine == "copier":
        del context["_template"]
        variables["_copier_answers"] = {"_src_path": source, "_commit": TEMPLATE_TAG}
    environment = StrictEnvironment(context=variables, keep_trailing_newline=True)
    text = environment.from_string(PYPROJECT_TEMPLATE.read_text("utf-8")).render(variables)
    pin = tomllib.loads(text)["tool"]["uv"]["sources"]["trimode"]
    assert pin == {"git": url, "tag": TEMPLATE_TAG}


def commit_all(project: Path, message: str) -> None:
    """Commit every file of the project, as a user does before `copier update`."""
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", message, cwd=project)


def edit(path: Path, before: str, after: str) -> None:
    """Change one occurrence of a text in a file, as a user edits it."""
    text = path.read_text("utf-8")
    assert text.count(before) >= 1, (path, before)
    path.write_text(text.replace(before, after, 1), encoding="utf-8")


@engines
def test_copier_update_moves_the_pin_and_keeps_what_the_user_changed(engine, tmp_path):
    template = make_template_repo(tmp_path / "trimode")
    made, _ = render_with_command(
        engine, template, tmp_path / "made", {"install_hooks": False}, environment_with({})
    )
    assert runtime_pin(made)["tag"] == TEMPLATE_TAG
    # The user's changes: a dependency beside the runtime, a model's setting, a config key.
    runtime = '"trimode[excel,mlflow]",\n'
    edit(made / "pyproject.toml", runtime, f'{runtime}    "polars>=1",\n')
    edit(made / "src" / "ml_project" / "models.py", "n_estimators=200", "n_estimators=500")
    edit(made / "configs" / "base.toml", "seed = 42", "seed = 7")
    commit_all(made, "my changes")
    # The template's next release: its version (the runtime's too), and nothing else.
    set_version(template, NEXT)
    assert set(versions_in(template).values()) == {NEXT}
    release(template, f"v{NEXT}", "the next release")

    result = subprocess.run(
        [str(tool("copier")), "update", "--trust", "--defaults", "--quiet"],
        cwd=made,
        env=environment_with(GIT_IDENTITY),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert runtime_pin(made) == {"git": f"file://{template}", "tag": f"v{NEXT}"}
    # Only the pin and the recorded version changed; every change of the user's is kept.
    changed = git("status", "--porcelain", cwd=made).splitlines()
    assert sorted(changed) == [" M .copier-answers.yml", " M pyproject.toml"]
    diff = git("diff", "--unified=0", "--", "pyproject.toml", cwd=made).splitlines()
    assert [line for line in diff if line.startswith(("+", "-"))][2:] == [
        f'-trimode = {{ git = "file://{template}", tag = "{TEMPLATE_TAG}" }}',
        f'+trimode = {{ git = "file://{template}", tag = "v{NEXT}" }}',
    ]
    assert '"polars>=1",' in (made / "pyproject.toml").read_text("utf-8")
    assert f"_commit: v{NEXT}\n" in (made / ".copier-answers.yml").read_text("utf-8")
