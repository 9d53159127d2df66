"""Derive cookiecutter.json from copier.yml: copier.yml is where the questions are kept.

    uv run python tests/questions.py > cookiecutter.json

tests/test_questions.py checks that the committed cookiecutter.json is what this prints.
Derived: the questions in copier's order, their defaults and choices, the help texts
(`__prompts__`), and the reference lists cookiecutter needs as private variables.
Not derived (cookiecutter-only): the validation, which cookiecutter does in
hooks/pre_gen_project.py, and the defaults in COOKIECUTTER_SPELLING.
"""

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# copier's reference lists (`when: false`) that cookiecutter reads too, as `_name`. The
# slug's default reads the letters: cookiecutter renders in order, so they come first.
# The reserved and special names are for hooks/pre_gen_project.py, after the questions;
# the runtime's version and source for the project's pin (pyproject.toml's
# [tool.uv.sources]).
PRIVATE_BEFORE = ["ascii_letters"]
PRIVATE_AFTER = [
    "reserved_package_names",
    "special_module_names",
    "trimode_version",
    "runtime_source",
]
# Defaults whose Jinja one engine lacks: copier's (copier.yml) -> cookiecutter's. The year
# is copier's strftime filter (jinja2-ansible-filters) and cookiecutter's now tag
# (jinja2-time); neither engine has the other's.
COOKIECUTTER_SPELLING = {"copyright_year": ("{{ '%Y' | strftime }}", "{% now 'utc', '%Y' %}")}


def copier_questions(copier: dict) -> dict[str, dict]:
    """The questions copier asks: not settings (a leading underscore), not computed values."""
    return {
        name: spec
        for name, spec in copier.items()
        if not name.startswith("_") and spec.get("when", True) is not False
    }


def in_cookiecutter_namespace(template: str, names: dict[str, str]) -> str:
    """Write a copier default's Jinja with cookiecutter's names (`cookiecutter.<name>`).

    Every bare use of a name in `names` is replaced (attributes such as `ns.slug` are not);
    tests/test_questions.py renders the results with both engines.
    """
    pattern = r"(?<![\w.])(" + "|".join(map(re.escape, names)) + r")\b"
    return re.sub(pattern, lambda found: names[found.group(1)], template)


def cookiecutter_default(name: str, spec: dict, names: dict[str, str]) -> object:
    """The value cookiecutter.json gives a question: its default, or its choices."""
    default = spec.get("default")
    kind = "bool" if isinstance(default, bool) else "str"
    if spec.get("type") != kind or default in (None, "") or not spec.get("help"):
        raise ValueError(f"copier.yml: {name} needs a help text, a default and `type: {kind}`")
    if "choices" in spec:
        # cookiecutter's default is the first choice.
        if spec["choices"][0] != default:
            raise ValueError(f"copier.yml: {name}'s default must be its first choice")
        return spec["choices"]
    if name in COOKIECUTTER_SPELLING:
        copier_spelling, cookiecutter_spelling = COOKIECUTTER_SPELLING[name]
        if default != copier_spelling:
            raise ValueError(f"copier.yml: {name}'s default changed: update tests/questions.py")
        return cookiecutter_spelling
    if isinstance(default, str) and ("{{" in default or "{%" in default):
        return in_cookiecutter_namespace(default, names)
    return default


def cookiecutter_json(copier_yml: Path = ROOT / "copier.yml") -> str:
    """The text of the cookiecutter.json that copier.yml's questions give."""
    copier = yaml.safe_load(copier_yml.read_text(encoding="utf-8"))
    questions = copier_questions(copier)
    names = {name: f"cookiecutter.{name}" for name in questions}
    names |= {name: f"cookiecutter._{name}" for name in PRIVATE_BEFORE + PRIVATE_AFTER}
    context = {f"_{name}": copier[name]["default"] for name in PRIVATE_BEFORE}
    context |= {name: cookiecutter_default(name, spec, names) for name, spec in questions.items()}
    context |= {f"_{name}": copier[name]["default"] for name in PRIVATE_AFTER}
    context["__prompts__"] = {name: spec["help"] for name, spec in questions.items()}
    return json.dumps(context, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    # Bytes: the file is UTF-8 whatever the terminal's encoding.
    sys.stdout.buffer.write(cookiecutter_json().encode("utf-8"))
