"""Config errors in words: what a key must hold, one line per problem, naming the file.

Pydantic's own error text never reaches the user: each of its errors becomes a line such
as `configs/test.toml: key 'data.max_rows' must be 0 (all rows) or more, got -5`, and a
ConfigError holds every problem of a check, ordered by file, then by the key's place in
the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple, get_args

from pydantic.fields import FieldInfo

from trimode.config.model import SECTIONS, Expect, Settings
from trimode.core.errors import ConfigError

# Keys a template version renamed: old key -> (new key, template version). An old key
# gets an error saying what to do instead of a bare "unknown key".
RENAMED_KEYS = {"data.cache_dir": ("data.sample_dir", "1.0.0")}
# What a value should have been, by pydantic's error type for a key's own value.
TYPE_WORDS = {
    "int_type": "be an integer",
    "float_type": "be a number",
    "finite_number": "be a finite number (not nan or inf)",
    "bool_type": "be true or false",
    "string_type": "be a string",
    "string_too_short": "be a non-empty string",
    "string_pattern_mismatch": "be a non-empty string, without NUL characters",
}
# Pydantic's range errors, by the bound they name in their context.
BOUND_WORDS = {"ge": "be at least", "gt": "be above", "le": "be at most", "lt": "be below"}
# The config files read, in order, each with its content: base, the mode's, --set.
Files = list[tuple[Path | str, dict[str, Any]]]


class Problem(NamedTuple):
    """One error: the file at fault, the key, and the line that says it."""

    file: Path | str
    key: str
    line: str


def _field(loc: tuple[str, ...]) -> FieldInfo | None:
    """The field a key names: ("task",) or ("data", "max_rows")."""
    if len(loc) == 1:
        return Settings.model_fields.get(loc[0])
    return SECTIONS[loc[0]].model_fields.get(loc[1])


def _expected(loc: tuple[str, ...], error: Any) -> str:
    """What the key must hold, in words, for one of pydantic's errors about it."""
    kind, field = error["type"], _field(loc)
    metadata = field.metadata if field is not None else []
    expect = next((item.words for item in metadata if isinstance(item, Expect)), None)
    # The field's own words cover all but a value of the wrong type (an item of a list
    # or table is the field's affair: it names the whole).
    if expect is not None and (len(error["loc"]) > len(loc) or kind not in TYPE_WORDS):
        return expect
    if kind in TYPE_WORDS:
        return TYPE_WORDS[kind]
    if kind == "literal_error" and field is not None:
        # An empty option (none) said in words: a bare "" would read as nothing.
        options = [str(option) or "'' (none)" for option in get_args(field.annotation)]
        return "be one of " + ", ".join(sorted(options, key=lambda option: option == "'' (none)"))
    if kind == "model_type":
        return f"be a [{loc[0]}] table"
    bound = next((name for name in BOUND_WORDS if name in error.get("ctx", {})), None)
    if bound is not None:
        return f"{BOUND_WORDS[bound]} {error['ctx'][bound]}"
    message = str(error["msg"])
    return f"be valid ({message[:1].lower()}{message[1:]})"


def problems_of(path: Path | str, content: dict[str, Any], errors: list[Any]) -> list[Problem]:
    """pydantic's errors (ValidationError.errors()) as one line each, naming the file
    and the key; two items of one list wrong make one line about the list."""
    problems = []
    for item in errors:
        loc = tuple(map(str, item["loc"]))
        loc = loc[:2] if loc[0] in SECTIONS else loc[:1]
        key = ".".join(loc)
        problems.append(Problem(path, key, f"{path}: {_wrong(loc, item, content)}"))
    return list(dict.fromkeys(problems))


def _wrong(loc: tuple[str, ...], error: Any, content: dict[str, Any]) -> str:
    """What is wrong with the key, for one of pydantic's errors about it."""
    key = ".".join(loc)
    if error["type"] == "missing":
        return f"missing key '{key}'"
    if key in RENAMED_KEYS:
        renamed, version = RENAMED_KEYS[key]
        return (
            f"key '{key}' was renamed '{renamed}' in template version {version}: rename it "
            "(`copier update` does it for you)"
        )
    if error["type"] == "extra_forbidden":
        model = Settings if len(loc) == 1 else SECTIONS[loc[0]]
        return f"unknown key '{key}' (expected one of: {', '.join(sorted(model.model_fields))})"
    value = content[loc[0]] if len(loc) == 1 else content[loc[0]][loc[1]]
    return f"key '{key}' must {_expected(loc, error)}, got {value!r}"


def refuse(problems: list[Problem], files: Files) -> None:
    """Raise one ConfigError of every problem, if any."""
    if problems:
        raise config_error(problems, files)


def config_error(problems: list[Problem], files: Files) -> ConfigError:
    """One ConfigError of the problems, one line each: by file, then where in the file the
    key is (a key no file sets last)."""

    def place(problem: Problem) -> tuple[int, int, int]:
        for index, (path, content) in enumerate(files):
            if path == problem.file:
                section, _, name = problem.key.partition(".")
                keys = list(content)
                if section not in content:
                    return (index, len(keys), 0)
                inner = content[section]
                names = list(inner) if isinstance(inner, dict) else []
                return (index, keys.index(section), names.index(name) if name in names else 0)
        return (len(files), 0, 0)

    return ConfigError("\n".join(problem.line for problem in sorted(problems, key=place)))
