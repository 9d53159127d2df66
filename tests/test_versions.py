"""One version for the template and the runtime, written the same everywhere, one tag v<version>.

The places (rendering.VERSION_FILES): pyproject.toml (the runtime's distribution),
trimode.core.layout.VERSION (what the runtime says it is), CHANGELOG.md's top entry, the
version copier.yml and cookiecutter.json pin generated projects to; and the tag, which the
release workflow checks.
"""

import re
import shutil

import pytest
from packaging.version import Version
from rendering import ROOT, TEMPLATE_TAG, VERSION, VERSION_FILES, set_version, versions_in
from workflows import tag_check_problem

import trimode


def test_every_place_says_the_same_version():
    found = versions_in()
    assert set(found.values()) == {VERSION}, found
    assert trimode.__version__ == VERSION


def test_the_version_is_pep_440_and_the_tag_is_v_and_the_version():
    assert str(Version(VERSION)) == VERSION
    assert f"v{VERSION}" == TEMPLATE_TAG
    # The release workflow publishes from that tag, and from no other.
    assert tag_check_problem(TEMPLATE_TAG, ROOT) == ""
    assert VERSION in tag_check_problem(VERSION, ROOT)


def test_changelog_versions_go_down_from_the_top():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = [Version(found) for found in re.findall(r"^## (\S+)$", text, re.MULTILINE)]
    assert headings == sorted(headings, reverse=True)
    assert len(headings) == len(set(headings))


@pytest.mark.parametrize("forgotten", VERSION_FILES)
def test_a_release_forgetting_one_place_is_seen(forgotten, tmp_path):
    for name in VERSION_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    set_version(tmp_path, "5.9.0")
    assert set(versions_in(tmp_path).values()) == {"5.9.0"}
    shutil.copy2(ROOT / forgotten, tmp_path / forgotten)
    found = versions_in(tmp_path)
    assert {name for name, version in found.items() if version != "5.9.0"} == {forgotten}
