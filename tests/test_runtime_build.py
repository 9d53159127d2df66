"""`uv build` makes the runtime's sdist and wheel, as the release workflow does: the runtime,
its assets and entry points, and nothing of the template or the tests.
"""

import configparser
import subprocess
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path, PurePosixPath

import pytest
from rendering import ROOT, VERSION, find_uv, template_files

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# The runtime's files in the repository, relative to src/ (trimode/...).
RUNTIME = sorted(
    PurePosixPath(path.relative_to("src").as_posix())
    for path in template_files()
    if path.parts[:2] == ("src", "trimode")
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder `uv build` wrote the sdist and the wheel into (the wheel from the sdist)."""
    uv = find_uv()
    if uv is None:
        pytest.fail("uv is needed: python3 -m pip install uv")
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [uv, "build", "--out-dir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def wheel_names(built: Path) -> list[str]:
    """The names of the files in the wheel."""
    with zipfile.ZipFile(built / f"trimode-{VERSION}-py3-none-any.whl") as wheel:
        return wheel.namelist()


def read_from_wheel(built: Path, name: str) -> str:
    """One file of the wheel's, as text."""
    with zipfile.ZipFile(built / f"trimode-{VERSION}-py3-none-any.whl") as wheel:
        return wheel.read(name).decode("utf-8")


def test_the_build_is_one_sdist_and_one_wheel_of_the_version(built):
    assert sorted(path.name for path in built.iterdir() if not path.name.startswith(".")) == [
        f"trimode-{VERSION}-py3-none-any.whl",
        f"trimode-{VERSION}.tar.gz",
    ]


def test_the_wheel_holds_every_file_of_the_runtime_and_nothing_else(built):
    names = wheel_names(built)
    assert {PurePosixPath(name) for name in names if name.startswith("trimode/")} == set(RUNTIME)
    # The report page's assets and the marker that the runtime is typed are files too.
    for asset in ("trimode/reporting/page.js", "trimode/reporting/page.css", "trimode/py.typed"):
        assert asset in names, asset
    # Nothing of the template, its hooks and migrations, the tests or the benchmarks.
    info = f"trimode-{VERSION}.dist-info/"
    others = [name for name in names if not name.startswith(("trimode/", info))]
    assert others == []


def test_the_wheel_gives_the_command_and_the_pytest_plugin(built):
    entry_points = configparser.ConfigParser()
    entry_points.read_string(
        read_from_wheel(built, f"trimode-{VERSION}.dist-info/entry_points.txt")
    )
    assert dict(entry_points["console_scripts"]) == {"trimode": "trimode.cli.main:main"}
    assert dict(entry_points["pytest11"]) == {"trimode": "trimode.testing.plugin"}
    assert dict(entry_points["console_scripts"]) == PYPROJECT["project"]["scripts"]
    assert dict(entry_points["pytest11"]) == PYPROJECT["project"]["entry-points"]["pytest11"]


def test_the_wheel_metadata_has_the_version_and_the_extras(built):
    metadata = Parser().parsestr(read_from_wheel(built, f"trimode-{VERSION}.dist-info/METADATA"))
    assert (metadata["Name"], metadata["Version"]) == ("trimode", VERSION)
    extras = set(metadata.get_all("Provides-Extra"))
    assert extras == set(PYPROJECT["project"]["optional-dependencies"])
    assert {"mlflow", "dask", "excel", "postgres", "http"} <= extras


def test_the_sdist_holds_the_runtime_and_what_builds_it_only(built):
    with tarfile.open(built / f"trimode-{VERSION}.tar.gz") as sdist:
        names = [PurePosixPath(name) for name in sdist.getnames()]
    top = PurePosixPath(f"trimode-{VERSION}")
    files = {name.relative_to(top) for name in names if name != top}
    runtime = {name for name in files if name.parts[:2] == ("src", "trimode")}
    assert {name.relative_to("src") for name in runtime} >= set(RUNTIME)
    assert files - runtime == {
        PurePosixPath(name)
        for name in (
            "pyproject.toml",
            "README.md",
            "CHANGELOG.md",
            "LICENSE",
            "PKG-INFO",
            ".gitignore",
        )
    }
