"""Render the template with copier and cookiecutter, and compare what they make.

The tests import these helpers; conftest.py wraps them in fixtures.
"""

import ast
import difflib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import copier
import yaml
from cookiecutter.generate import generate_context
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import prompt_for_config

ROOT = Path(__file__).resolve().parents[1]
# Never part of the template, whatever git says about them.
NOT_TEMPLATE = {".venv", ".git", ".nox", "build", "__pycache__", ".pytest_cache", ".ruff_cache"}
# The template's (and the runtime's) version, and the tag the template repository fixture
# carries: copier renders the latest PEP 440 tag, and a generated project's uv gets the
# runtime from the template repository at that tag (its [tool.uv.sources] pin).
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
TEMPLATE_TAG = f"v{VERSION}"
ANSWERS_FILE = ".copier-answers.yml"
# The questions, in the order cookiecutter.json asks them (test_questions.py checks copier.yml).
QUESTIONS = [
    name
    for name in json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
    if not name.startswith("_")
]
# Files every generated project has ({package} is the package name).
EXPECTED_FILES = [
    "pyproject.toml",
    "README.md",
    ".gitignore",
    ".env.example",
    "noxfile.py",
    # The container recipe: the image that serves the production model (docs/production.md).
    "Dockerfile",
    ".dockerignore",
    "configs/base.toml",
    "configs/test.toml",
    "configs/human.toml",
    "configs/production.toml",
    "src/{package}/__init__.py",
    "src/{package}/models.py",
    "src/{package}/features.py",
    "src/{package}/expectations.py",
    "src/{package}/metrics.py",
    "tests/test_pipeline.py",
    "tests/test_features.py",
    "notebooks/1-inspect-data.ipynb",
    "notebooks/2-compare-models.ipynb",
    "notebooks/3-inspect-results.ipynb",
]
EXPECTED_DIRS = ["tests", ".git"]
# The user's own code and tests: all a project holds of them (the machinery, its tests and
# the command line are the runtime's; no src/{package}/__main__.py, no tests/machinery).
PACKAGE_FILES = ["__init__.py", "expectations.py", "features.py", "metrics.py", "models.py"]
TEST_FILES = ["test_features.py", "test_pipeline.py"]
# Variables that point uv or Python at an environment other than a project's own .venv
# (nox sets the first three for the commands of its sessions, the tests included).
FOREIGN_ENVIRONMENT = (
    "VIRTUAL_ENV",
    "UV_PROJECT_ENVIRONMENT",
    "UV_PYTHON",
    "CONDA_PREFIX",
    "PYTHONPATH",
    "PYTHONHOME",
)


@dataclass(frozen=True)
class Case:
    """One set of answers, given to both engines."""

    id: str
    given: dict[str, str | bool] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)

    @property
    def answers(self) -> dict[str, str | bool]:
        """Every answer the project is made with, as cookiecutter works them out."""
        answers = expected_answers(self.given)
        assert self.derived.items() <= answers.items(), "derived names changed"
        return answers


# Every task, python_version and license value and both values of every yes/no question
# appear at least once (a test checks it); names and texts stress quoting: apostrophes,
# colons, double quotes, non-ASCII. The fast tests render them with no uv on PATH
# (see Renders in conftest.py), so install_hooks=true sets up nothing but git there.
MATRIX = [
    Case("defaults", derived={"project_slug": "ml-project", "package_name": "ml_project"}),
    Case(
        "regression-py312-bsd-derived-names-no-hooks-no-ci",
        given={
            "project_name": "Churn_Model v2",
            "task": "regression",
            "python_version": "3.12",
            "license": "BSD-3-Clause",
            "install_hooks": False,
            "github_actions": False,
            "mlflow": False,
        },
        derived={"project_slug": "churn-model-v2", "package_name": "churn_model_v2"},
    ),
    Case(
        "classification-py313-apache-quoting",
        given={
            "project_name": "Zoë's Churn: Model",
            "project_slug": "zoes-churn",
            "package_name": "zoes_churn",
            "description": "Predicts churn: who'll leave, and why (für Zoë).",
            "author_name": "Zoë O'Brien",
            "author_email": "zoe.obrien@example.org",
            "python_version": "3.13",
            "license": "Apache-2.0",
            "github_actions": False,
        },
    ),
    Case(
        "regression-no-license-double-quotes",
        given={
            "project_name": "Fraud Detection 2025",
            "description": 'Flags "odd" payments: it\'s fast.',
            "author_name": "Ana Müller-Łukasik",
            "author_email": "ana+ml@example.co.uk",
            "task": "regression",
            "license": "none",
            "install_hooks": False,
        },
        derived={"project_slug": "fraud-detection-2025", "package_name": "fraud_detection_2025"},
    ),
    # Printable Unicode in every free-text answer, TOML's and YAML's special characters,
    # and names whose slug and package name are transliterated.
    Case(
        "unicode-answers-accented-name",
        given={
            "project_name": "Café Prévisions (v2)!",
            "description": "Forecasts 🚀: “smart”, 'single', \"double\", back\\slash, 数据 <b>&",
            "author_name": "Zoë Ångström-Øster O'Brien \\ 山田",
            "task": "regression",
            "install_hooks": False,
        },
        derived={"project_slug": "cafe-previsions-v2", "package_name": "cafe_previsions_v2"},
    ),
    Case(
        "emoji-description-name-starting-with-a-digit",
        given={
            "project_name": "  2026 Forecast & ML — Über/Straße  ",
            "description": "🚀📈🎯",
            "author_name": "Łukasz Żółć",
            "author_email": "lukasz@example.pl",
            "github_actions": False,
        },
        derived={
            "project_slug": "2026-forecast-ml-uber-strasse",
            "package_name": "pkg_2026_forecast_ml_uber_strasse",
        },
    ),
    Case(
        "name-of-emoji-only-description-ending-in-a-backslash",
        given={
            "project_name": "🚀 数据 🚀",
            "description": "Ends in a backslash \\",
            "author_name": '"Quoted" Author',
            "install_hooks": False,
        },
        derived={"project_slug": "unnamed-project", "package_name": "unnamed_project"},
    ),
]


def expected_answers(given: dict[str, str | bool]) -> dict[str, str | bool]:
    """Work out every answer from the given ones, with cookiecutter's rendering of defaults."""
    context = generate_context(str(ROOT / "cookiecutter.json"), extra_context=given)
    answers = prompt_for_config(context, no_input=True)
    return {name: answers[name] for name in QUESTIONS}


def tool(name: str) -> Path:
    """Return the path of a command installed next to the running Python (copier, ...)."""
    return Path(sys.executable).parent / name


def find_uv() -> str | None:
    """Return uv's path: on PATH, or the one the `uv` Python package ships (None: neither)."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    return find_uv_bin()


def git(*args: str, cwd: Path) -> str:
    """Run git quietly in cwd with a fixed identity; return its standard output."""
    command = [
        "git",
        "-c",
        "user.name=trimode tests",
        "-c",
        "user.email=tests@example.invalid",
        "-c",
        "commit.gpgsign=false",
        "-c",
        "tag.gpgsign=false",
        *args,
    ]
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout


def path_without_uv(folder: Path) -> str:
    """Return a PATH on which every command but uv is found: a value for the PATH variable.

    A folder of PATH that holds uv is replaced by a folder under `folder` of links to
    everything else it holds (git's own scripts need the usual commands).
    """
    entries = []
    for index, entry in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        source = Path(entry)
        if not entry or not (source / "uv").exists():
            entries.append(entry)
            continue
        copy = folder / str(index)
        copy.mkdir(parents=True, exist_ok=True)
        for item in source.iterdir():
            if item.name != "uv" and not (copy / item.name).exists():
                (copy / item.name).symlink_to(item)
        entries.append(str(copy))
    return os.pathsep.join(entries)


def template_files(root: Path = ROOT) -> list[Path]:
    """List the template's files: tracked, untracked-but-not-ignored, present on disk."""
    if (root / ".git").exists():
        listed = git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=root)
        paths = [Path(name) for name in listed.split("\0") if name]
    else:
        paths = [
            (Path(folder) / name).relative_to(root)
            for folder, dirs, names in os.walk(root)
            for name in names
        ]
    return sorted(
        path
        for path in paths
        if not NOT_TEMPLATE.intersection(path.parts) and (root / path).is_file()
    )


def make_template_repo(
    destination: Path, source: Path = ROOT, tag: str | None = TEMPLATE_TAG
) -> Path:
    """Copy the template's working tree into a new git repository, committed and tagged
    (with no tag: left uncommitted, for the caller to change and `release`)."""
    destination.mkdir(parents=True)
    for path in template_files(source):
        target = destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / path, target)
    git("init", "--quiet", "--initial-branch=main", cwd=destination)
    if tag is not None:
        release(destination, tag, "template snapshot")
    return destination


def release(repo: Path, version: str, message: str) -> None:
    """Commit everything in the template repository and tag it as a version."""
    git("add", "--all", cwd=repo)
    git("commit", "--quiet", "--no-verify", "--allow-empty", "-m", message, cwd=repo)
    git("tag", version, cwd=repo)


# The files a template repository writes its version in (the runtime's too); a release
# changes them together (tests/test_versions.py checks they agree).
VERSION_FILES = [
    "pyproject.toml",
    "src/trimode/core/layout.py",
    "CHANGELOG.md",
    "copier.yml",
    "cookiecutter.json",
]


def versions_in(root: Path = ROOT) -> dict[str, str]:
    """The version each of VERSION_FILES says, read as its own reader reads it: the
    [project] version, the runtime's VERSION, the top entry of the changelog, the version
    copier.yml and cookiecutter.json pin generated projects to. {file: version}"""
    text = {name: (root / name).read_text(encoding="utf-8") for name in VERSION_FILES}
    layout = ast.parse(text["src/trimode/core/layout.py"])
    [layout_version] = [
        node.value.value
        for node in layout.body
        if isinstance(node, ast.Assign) and [target.id for target in node.targets] == ["VERSION"]
    ]
    changelog = re.search(r"^## (\S+)", text["CHANGELOG.md"], re.MULTILINE)
    return {
        "pyproject.toml": tomllib.loads(text["pyproject.toml"])["project"]["version"],
        "src/trimode/core/layout.py": layout_version,
        "CHANGELOG.md": changelog.group(1) if changelog else "",
        "copier.yml": yaml.safe_load(text["copier.yml"])["trimode_version"]["default"],
        "cookiecutter.json": json.loads(text["cookiecutter.json"])["_trimode_version"],
    }


def set_version(root: Path, version: str) -> None:
    """Release a template repository's working tree as `version` (then tag it v<version>
    with `release`): every place versions_in reads, and a CHANGELOG entry on top."""
    old = versions_in(root)["pyproject.toml"]
    edits = {
        "pyproject.toml": (f'version = "{old}"', f'version = "{version}"'),
        "src/trimode/core/layout.py": (f'VERSION = "{old}"', f'VERSION = "{version}"'),
        "copier.yml": (
            f'trimode_version:\n  type: str\n  when: false\n  default: "{old}"',
            f'trimode_version:\n  type: str\n  when: false\n  default: "{version}"',
        ),
        "cookiecutter.json": (f'"_trimode_version": "{old}"', f'"_trimode_version": "{version}"'),
        "CHANGELOG.md": (f"\n## {old}\n", f"\n## {version}\n\nA release.\n\n## {old}\n"),
    }
    for name, (before, after) in edits.items():
        path = root / name
        text = path.read_text(encoding="utf-8")
        assert text.count(before) == 1, f"{name}: where its version is written changed"
        path.write_text(text.replace(before, after), encoding="utf-8")


def runtime_pin(project: Path) -> dict:
    """Where a generated project's uv gets the runtime: [tool.uv.sources] trimode."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["tool"]["uv"]["sources"]["trimode"]


def render_with_copier(template: Path | str, destination: Path, answers: dict) -> Path:
    """Generate a project with copier's Python API; return the project folder."""
    copier.run_copy(
        str(template), str(destination), data=answers, defaults=True, unsafe=True, quiet=True
    )
    return destination


def render_with_cookiecutter(template: Path | str, output_dir: Path, answers: dict) -> Path:
    """Generate a project with cookiecutter's Python API; return the project folder."""
    project = cookiecutter(
        str(template), no_input=True, extra_context=answers, output_dir=str(output_dir)
    )
    return Path(project)


def environment_with(changes: dict[str, str | None]) -> dict[str, str]:
    """Return this process's environment with the changes made (None removes a variable)."""
    environment = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def render_with_command(
    engine: str, template: Path | str, folder: Path, answers: dict, env: dict[str, str]
) -> tuple[Path, str]:
    """Generate a project with the engine's command line, run with the environment env.

    The way to change the environment of the post-generation step: cookiecutter's hook and
    copier's task inherit the command's. The project lands where the Python API helpers put
    it (copier: folder/project; cookiecutter: its slug under folder). Return the project
    folder and what the command printed; a failing command fails the test.
    """
    # Both command lines read yes/no answers spelled true/false.
    pairs = [
        f"{name}={str(value).lower() if isinstance(value, bool) else value}"
        for name, value in answers.items()
    ]
    folder.mkdir(parents=True, exist_ok=True)
    if engine == "copier":
        project = folder / "project"
        data = [part for pair in pairs for part in ("--data", pair)]
        command = [tool("copier"), "copy", "--trust", "--defaults", "--quiet", *data]
        command += [template, project]
    else:
        command = [tool("cookiecutter"), "--no-input", "--output-dir", folder, template, *pairs]
    before = set(folder.iterdir())
    result = subprocess.run(
        [str(part) for part in command], env=env, capture_output=True, text=True, check=False
    )
    printed = result.stdout + result.stderr
    assert result.returncode == 0, f"{engine} failed:\n{printed}"
    if engine == "cookiecutter":
        [project] = set(folder.iterdir()) - before
    return project, printed


def generated_entries(project: Path) -> dict[str, tuple]:
    """Describe a generated tree (path: kind, bytes, executable), without git and answers."""
    entries = {}
    for folder, dirs, names in os.walk(project):
        dirs[:] = sorted(name for name in dirs if name != ".git")
        here = Path(folder)
        for name in dirs:
            entries[(here / name).relative_to(project).as_posix()] = ("dir",)
        for name in names:
            path = here / name
            relative = path.relative_to(project).as_posix()
            if relative == ANSWERS_FILE:
                continue
            executable = bool(path.stat().st_mode & stat.S_IXUSR)
            entries[relative] = ("file", path.read_bytes(), executable)
    return entries


def describe_differences(left: dict[str, tuple], right: dict[str, tuple]) -> str:
    """Explain how two generated trees differ (empty when they are identical)."""
    lines = []
    for path in sorted(left.keys() - right.keys()):
        lines.append(f"only from copier: {path}")
    for path in sorted(right.keys() - left.keys()):
        lines.append(f"only from cookiecutter: {path}")
    for path in sorted(left.keys() & right.keys()):
        if left[path] == right[path]:
            continue
        lines.append(f"differs: {path}")
        if left[path][0] == right[path][0] == "file" and left[path][1] != right[path][1]:
            diff = difflib.unified_diff(
                left[path][1].decode(errors="replace").splitlines(),
                right[path][1].decode(errors="replace").splitlines(),
                "copier",
                "cookiecutter",
                lineterm="",
            )
            lines.extend(list(diff)[:40])
        elif left[path][0] == "file":
            lines.append("  executable bit differs")
    return "\n".join(lines)


def leftover_template_syntax(project: Path) -> list[str]:
    """List generated names and lines that still hold template syntax or the engine's name.

    GitHub workflow expressions (`${{ ... }}`) are allowed inside `.github/`.
    """
    found = []
    for relative, entry in generated_entries(project).items():
        if "{{" in relative or "{%" in relative or "cookiecutter" in relative.lower():
            found.append(f"{relative}: in the file name")
        if entry[0] != "file":
            continue
        try:
            text = entry[1].decode()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            checked = line.replace("${{", "") if relative.startswith(".github/") else line
            if "{{" in checked or "{%" in checked or "cookiecutter" in checked.lower():
                found.append(f"{relative}:{number}: {line.strip()}")
    return found
