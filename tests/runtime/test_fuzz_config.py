"""Fuzzed configs: whatever a config file or `--set` holds, a run ends as it should.

Hypothesis writes one mistake at a time into a test project's configs/test.toml (or
gives it with --set): any key of the config model or an unknown one, set to any TOML
value (huge and negative integers, NaN and infinities, text, lists, nested tables,
dates), or the whole file in another encoding, nested deeper than TOML readers go,
replaced by a folder, or cut short. Then `train --mode test` runs through the command
line, in this process, and:

- exits 0 (the value works), 2 (bad input) or 3 (the quality gate);
- prints no traceback, and on failure only `error:` lines, each naming the key or the
  file at fault, none a failure no check foresaw (`error: step ... failed: SomeError`);
- leaves every file it did not write (the configs, pyproject.toml, the user's notes) as
  it was, and writes nothing when it fails (outside its outputs and its sample).
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from trimode.cli.main import main
from trimode.config.model import SECTIONS

from .conftest import assert_user_files_kept, make_configs, user_files

pytestmark = pytest.mark.filterwarnings("ignore")
# Every key of the config model, as "section.key", and the top-level ones.
KNOWN_KEYS = sorted(
    [f"{section}.{key}" for section, model in SECTIONS.items() for key in model.model_fields]
    + ["task"]
)
ALLOWED_EXITS = {0, 2, 3}

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2, 3, 2**31, 2**32, 2**53 + 1, 2**63 - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=24),
    st.sampled_from(["", " ", "synthetic", "churned", "hist_gradient_boosting", "x_num"]),
    st.dates(min_value=date(1, 1, 1)),
    st.datetimes(min_value=datetime(1, 1, 1)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(names, inner, max_size=3)),
    max_leaves=6,
)
keys = st.one_of(
    st.sampled_from(KNOWN_KEYS),
    st.builds(lambda section, key: f"{section}.{key}", st.sampled_from(list(SECTIONS)), names),
    names,
)
# Values of the type a known key holds (what a user most often writes: the right type,
# the wrong size), by the type of its default.
OF_TYPE = {
    bool: st.booleans(),
    int: st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70),
        st.integers(min_value=-3, max_value=100_000),
        st.sampled_from([2**31, 2**32, 2**53 + 1, 2**63 - 1, 10**12]),
    ),
    float: st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-2, 2)),
    str: st.one_of(st.text(max_size=24), st.sampled_from(["", "synthetic", "churned", ".."])),
    list: st.lists(st.text(max_size=10), max_size=3),
    dict: st.dictionaries(names, values, max_size=2),
}


@st.composite
def typed_settings(draw) -> tuple[str, object]:
    """A known key and a value of its type."""
    dotted = draw(st.sampled_from([key for key in KNOWN_KEYS if "." in key]))
    section, key = dotted.split(".")
    default = SECTIONS[section].model_fields[key].default
    kind = type(default) if type(default) in OF_TYPE else str
    return dotted, draw(OF_TYPE[kind])


settings_drawn = st.one_of(st.tuples(keys, values), typed_settings())


def set_in(document: tomlkit.TOMLDocument, dotted: str, value: object) -> None:
    """Set a dotted key of a TOML document, making its tables as needed."""
    *tables, last = dotted.split(".")
    table = document
    for name in tables:
        if not isinstance(table.get(name), dict):
            table[name] = tomlkit.table()
        table = table[name]
    table[last] = value


def keyed(path: Path, dotted: str, value: object) -> list[str]:
    """Write the key into the mode's file; no extra arguments."""
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    set_in(document, dotted, value)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return []


def as_override(path: Path, dotted: str, value: object) -> list[str]:
    """Give the key with --set, as TOML text."""
    text = tomlkit.dumps({"value": value}).partition("=")[2].strip()
    return ["--set", f"{dotted}={text}"]


# Whole-file mistakes: each takes the mode's file, returns the extra arguments.
def utf16(path: Path) -> list[str]:
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    return []


def latin1(path: Path) -> list[str]:
    path.write_bytes("[train]\nseed = 3 # réglé\n".encode("latin-1"))
    return []


def too_deep(path: Path) -> list[str]:
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    return []


def a_folder(path: Path) -> list[str]:
    path.unlink()
    path.mkdir()
    return []


def cut_short(path: Path) -> list[str]:
    path.write_text("[data]\nmax_rows = ", encoding="utf-8")
    return []


def nul_byte(path: Path) -> list[str]:
    path.write_bytes(b"[train]\nseed = 3\x00\n")
    return []


FILE_MISTAKES = [utf16, latin1, too_deep, a_folder, cut_short, nul_byte]


def names_its_culprit(line: str, key: str | None) -> bool:
    """Whether an error line names the file or (a part of) the key at fault."""
    if "test.toml" in line or "base.toml" in line or "--set" in line:
        return True
    return key is not None and any(part in line for part in key.split("."))


def run_and_check(tmp_path: Path, capsys, mistake, key: str | None) -> int:
    """Make a project, apply the mistake, run train in test mode, check the outcome;
    return the exit status."""
    # A new folder each time: MLflow keeps its store's engine per URI for the process.
    root = Path(tempfile.mkdtemp(dir=tmp_path)) / "project"
    # A time budget, so that a value that makes the run slow ends it rather than the suite.
    base = {"data": {"synthetic_rows": 400}, "compute": {"n_jobs": 1, "time_budget_s": 120}}
    configs = make_configs(root, base=base)
    (root / "notes.txt").write_text("the user's own notes\n", encoding="utf-8")
    extra = mistake(configs / "test.toml")
    before = user_files(root)
    capsys.readouterr()
    code = main(["train", "--mode", "test", "--config-dir", str(configs), *extra])
    _, err = capsys.readouterr()
    assert code in ALLOWED_EXITS, (code, err)
    assert "Traceback" not in err, err
    if code != 0:
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert errors, err
        for line in errors:
            assert names_its_culprit(line, key), (key, line)
            assert "run with --verbose" not in line, f"a failure no check foresaw: {line}"
    assert_user_files_kept(root, before, failed=code != 0)
    return code


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(setting=settings_drawn, how=st.sampled_from([keyed, as_override]))
def test_any_key_with_any_value_ends_in_one_named_line_or_a_run(tmp_path, capsys, setting, how):
    key, value = setting
    code = run_and_check(tmp_path, capsys, lambda path: how(path, key, value), key)
    event(f"exit {code}")


@pytest.mark.parametrize("mistake", FILE_MISTAKES, ids=lambda mistake: mistake.__name__)
def test_a_broken_config_file_is_one_line_naming_it(mistake, tmp_path, capsys):
    run_and_check(tmp_path, capsys, mistake, None)
