"""`trimode eject` on a temporary project: what it copies, how it rewrites pyproject.toml,
what it refuses, and its dry run. (tests/test_eject.py ejects a generated project and
runs it.)"""

from __future__ import annotations

import errno
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from trimode.cli.main import main
from trimode.core.errors import ProjectError
from trimode.core.layout import VERSION
from trimode.workflows import eject as ejecting

# A project as the template makes one, with more of what a user adds: a dependency of its
# own, another extra, another source, a dependency group naming the runtime.
PYPROJECT = f"""\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "trimode[excel,mlflow]",
    "tabulate>=0.9",
]

[project.optional-dependencies]
http = ["trimode[http]"]
plots = ["seaborn>=0.13"]

[project.scripts]
demo = "trimode.cli.main:main"

[tool.uv.sources]
trimode = {{ git = "https://example.org/trimode.git", tag = "v{VERSION}" }}
helper = {{ path = "../helper" }}

[dependency-groups]
dev = ["pytest>=8", "trimode[dask]", {{ include-group = "lint" }}]
lint = ["ruff>=0.9"]

[build-system]
requires = ["hatchling>=1.26"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["src/demo"]

[tool.trimode]
# Where trimode finds the project's code: this comment stays.
models = "demo.models"
features = "demo.features"
expectations = "demo.expectations"
"""


def git(folder: Path, *arguments: str) -> str:
    """Run git in folder with a fixed identity; return what it printed."""
    identity = ["-c", "user.name=trimode tests", "-c", "user.email=tests@example.invalid"]
    command = ["git", *identity, "-c", "commit.gpgsign=false", *arguments]
    return subprocess.run(command, cwd=folder, check=True, capture_output=True, text=True).stdout


def make_project(folder: Path, pyproject: str = PYPROJECT, in_git: bool = True) -> Path:
    """A project (pyproject.toml and its own package), committed when in_git."""
    (folder / "src" / "demo").mkdir(parents=True)
    (folder / "src" / "demo" / "__init__.py").write_text('"""The project."""\n')
    (folder / "pyproject.toml").write_text(pyproject)
    if in_git:
        git(folder, "init", "--quiet", "--initial-branch=main")
        commit(folder)
    return folder


def commit(folder: Path) -> None:
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "--no-verify", "--message", "a commit")


def uncommitted(folder: Path) -> str:
    return git(folder, "status", "--porcelain", "--untracked-files=all")


def runtime_requirements(extra: str = "") -> list[str]:
    """The runtime's requirements as its metadata lists them: those of every install, or
    an extra's (its marker dropped)."""
    found = []
    for text in metadata.requires("trimode") or []:
        spec, _, marker = text.partition(";")
        if marker.strip().replace("'", '"') == (f'extra == "{extra}"' if extra else ""):
            found.append(str(Requirement(spec)))
    return found


def eject_command(folder: Path, monkeypatch, capsys, *options: str) -> tuple[int, str, str]:
    """Run `trimode eject` in folder: its exit status, standard output and error."""
    monkeypatch.chdir(folder)
    status = main(["eject", *options])
    printed = capsys.readouterr()
    return status, printed.out, printed.err


def test_the_copied_files_are_the_runtime_package_and_its_data():
    copied = {path.as_posix() for path in ejecting.runtime_files()}
    assert {"reporting/page.js", "reporting/page.css", "py.typed", "cli/main.py"} <= copied
    assert not [path for path in copied if "__pycache__" in path or path.endswith(".pyc")]
    # What git holds of the package is what the wheel holds (hatchling follows .gitignore).
    root = ejecting.PACKAGE.parents[1]
    if (root / ".git").exists():
        listed = git(root, "ls-files", "--cached", "--others", "--exclude-standard", "src/trimode")
        assert copied == {
            Path(name).relative_to("src/trimode").as_posix() for name in listed.split()
        }


def test_eject_copies_the_runtime_and_rewrites_the_dependency(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path / "demo")
    status, out, err = eject_command(project, monkeypatch, capsys)
    assert (status, err) == (0, "")
    assert "one way" in out and "uv sync" in out
    assert len(out.splitlines()) <= 12
    for relative in ejecting.runtime_files():
        copy = project / "src" / "trimode" / relative
        assert copy.read_bytes() == (ejecting.PACKAGE / relative).read_bytes(), relative
    text = (project / "pyproject.toml").read_text()
    assert "# Where trimode finds the project's code: this comment stays." in text
    content = tomllib.loads(text)
    # The runtime's requirements (its own, then its extras') where it was; the rest stays.
    base, excel, mlflow = (runtime_requirements(extra) for extra in ("", "excel", "mlflow"))
    assert base and excel and mlflow
    assert content["project"]["dependencies"] == [*base, *excel, *mlflow, "tabulate>=0.9"]
    assert content["project"]["optional-dependencies"] == {
        "http": runtime_requirements("http"),
        "plots": ["seaborn>=0.13"],
    }
    assert content["dependency-groups"] == {
        "dev": ["pytest>=8", *runtime_requirements("dask"), {"include-group": "lint"}],
        "lint": ["ruff>=0.9"],
    }
    assert content["tool"]["uv"]["sources"] == {"helper": {"path": "../helper"}}
    assert content["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "src/demo",
        "src/trimode",
    ]
    # The runtime's command and pytest plugin are the project's now, as its own script is.
    entry_points = metadata.distribution("trimode").entry_points
    runtime = {(entry.group, entry.name): entry.value for entry in entry_points}
    assert content["project"]["scripts"] == {
        "demo": "trimode.cli.main:main",
        "trimode": runtime[("console_scripts", "trimode")],
    }
    assert content["project"]["entry-points"] == {
        "pytest11": {"trimode": runtime[("pytest11", "trimode")]}
    }


def test_dry_run_lists_every_file_and_change_and_writes_nothing(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path / "demo")
    before = (project / "pyproject.toml").read_bytes()
    status, out, _ = eject_command(project, monkeypatch, capsys, "--dry-run")
    assert status == 0
    assert "nothing written" in out and "one way" in out
    for relative in ejecting.runtime_files():
        assert f"  src/trimode/{relative.as_posix()}\n" in out
    for change in ("[tool.uv.sources] trimode", "trimode[excel,mlflow]", "src/trimode added"):
        assert change in out
    assert (project / "pyproject.toml").read_bytes() == before
    assert not (project / "src" / "trimode").exists()
    assert uncommitted(project) == ""


def refused(folder: Path, monkeypatch, capsys, expected: str) -> None:
    """Check eject refuses in one line saying `expected`, and changes nothing."""
    before = snapshot(folder)
    for options in (["--dry-run"], []):
        status, out, err = eject_command(folder, monkeypatch, capsys, *options)
        assert status == 2 and out == ""
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert expected in err
    assert snapshot(folder) == before


def snapshot(folder: Path) -> dict[Path, bytes | None]:
    """Every file and folder under folder (git's aside), with the bytes of each file."""
    return {
        path: path.read_bytes() if path.is_file() else None
        for path in folder.rglob("*")
        if ".git" not in path.relative_to(folder).parts
    }


def test_a_second_eject_is_refused(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path / "demo")
    assert eject_command(project, monkeypatch, capsys)[0] == 0
    commit(project)
    refused(project, monkeypatch, capsys, "ejected already")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda project: (project / "notes.txt").write_text("new\n"), "uncommitted changes"),
        (
            lambda project: (project / "src" / "demo" / "__init__.py").write_text("x = 1\n"),
            "uncommitted changes (src/demo/__init__.py)",
        ),
    ],
    ids=["untracked-file", "changed-file"],
)
def test_uncommitted_changes_are_refused(tmp_path, monkeypatch, capsys, change, expected):
    project = make_project(tmp_path / "demo")
    change(project)
    refused(project, monkeypatch, capsys, expected)


def test_a_project_outside_git_is_refused(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path / "demo", in_git=False)
    refused(project, monkeypatch, capsys, "not in a git repository")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            f'trimode = {{ git = "https://example.org/trimode.git", tag = "v{VERSION}" }}\n',
            "",
            "no [tool.uv.sources] trimode pin",
        ),
        (
            f'tag = "v{VERSION}"',
            'tag = "v4.1.0"',
            f"pins trimode at v4.1.0, but this is trimode {VERSION}",
        ),
        ('"trimode[excel,mlflow]"', '"trimode[excel,gpu]"', "extra 'gpu'"),
        ('"trimode[excel,mlflow]",\n', "", "has no trimode requirement"),
        ('packages = ["src/demo"]', "", "no [tool.hatch.build.targets.wheel] packages"),
        (
            'demo = "trimode.cli.main:main"',
            'demo = "trimode.cli.main:main"\ntrimode = "demo.cli:main"',
            "[project.scripts] trimode = 'demo.cli:main', but eject would make it",
        ),
    ],
    ids=["no-pin", "other-version", "unknown-extra", "no-requirement", "no-packages", "script"],
)
def test_a_project_eject_cannot_rewrite_is_refused(
    tmp_path, monkeypatch, capsys, old, new, expected
):
    assert old in PYPROJECT
    project = make_project(tmp_path / "demo", PYPROJECT.replace(old, new))
    refused(project, monkeypatch, capsys, expected)


def test_an_existing_file_is_never_overwritten(tmp_path, monkeypatch, capsys):
    project = tmp_path / "demo"
    (project / "src" / "trimode").mkdir(parents=True)
    (project / "src" / "trimode" / "__init__.py").write_text('"""Mine."""\n')
    make_project(project)
    refused(project, monkeypatch, capsys, "src/trimode exists: eject never overwrites a file")


def test_a_failed_eject_leaves_nothing_half_written(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path / "demo")
    before = (project / "pyproject.toml").read_bytes()
    copy = ejecting._copy

    def copy_until_page_css(source: Path, temporary: Path) -> None:
        if source.name == "page.css":  # as a full disk says it
            raise OSError(errno.ENOSPC, "No space left on device", str(temporary))
        copy(source, temporary)

    monkeypatch.setattr(ejecting, "_copy", copy_until_page_css)
    status, _, err = eject_command(project, monkeypatch, capsys)
    assert status == 2 and err.count("\n") == 1, err
    assert err.startswith("error: step 'eject' failed: ") and "page.css" in err, err
    assert err.rstrip().endswith("No space left on device"), err
    assert (project / "pyproject.toml").read_bytes() == before
    assert not (project / "src" / "trimode").exists()
    assert uncommitted(project) == ""


def test_the_runtimes_requirements_are_read_by_extra(tmp_path):
    info = tmp_path / "trimode-9.0.dist-info"
    info.mkdir()
    lines = [
        "Metadata-Version: 2.4",
        "Name: trimode",
        "Version: 9.0",
        "Provides-Extra: fast",
        "Requires-Dist: numpy>=2",
        "Requires-Dist: tomli>=2; python_version < '3.11'",
        "Requires-Dist: numba[cuda]>=0.60; extra == 'fast'",
    ]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    found = ejecting.runtime_requirements(metadata.PathDistribution(info))
    assert found == {
        "": ["numpy>=2", 'tomli>=2; python_version < "3.11"'],
        "fast": ["numba[cuda]>=0.60"],
    }
    (info / "METADATA").write_text(
        "\n".join([*lines, "Requires-Dist: cupy; sys_platform == 'linux' and extra == 'fast'"])
    )
    with pytest.raises(ProjectError, match="cannot tell which extra"):
        ejecting.runtime_requirements(metadata.PathDistribution(info))
