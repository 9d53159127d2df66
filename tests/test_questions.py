"""cookiecutter.json is derived from copier.yml, and both engines work out the same answers."""

import json
import keyword
import re
import sys
import tomllib
import unicodedata
from importlib.metadata import packages_distributions
from pathlib import Path

import copier
import pytest
import yaml
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from questions import cookiecutter_json
from rendering import QUESTIONS, ROOT

COOKIECUTTER = json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
COPIER = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
# Computed values copier passes to the template in the cookiecutter namespace, as
# cookiecutter's private variables of the same names: the runtime's version and source.
PIN_VALUES = ["trimode_version", "runtime_source"]


def test_cookiecutter_json_is_derived_from_copier_yml():
    # The same questions in the same order, defaults, choices and help texts, and the
    # reference lists cookiecutter shares.
    committed = (ROOT / "cookiecutter.json").read_text(encoding="utf-8")
    assert committed == cookiecutter_json(), (
        "cookiecutter.json is not what copier.yml gives; to derive it, run:"
        " uv run python tests/questions.py > cookiecutter.json"
    )


def reference_slug(project_name: str) -> str:
    """The slug rule written in Python, to check the Jinja both engines run."""
    ascii_of = {
        variant: ascii
        for ascii, variants in COOKIECUTTER["_ascii_letters"].items()
        for variant in variants
    }
    spelled = "".join(ascii_of.get(char, char) for char in project_name.lower())
    unaccented = "".join(char for char in spelled if not "\u0300" <= char <= "\u036f")
    slug = re.sub("[^a-z0-9]+", "-", unaccented).strip("-")[:64].rstrip("-")
    return slug or "unnamed-project"


@pytest.mark.parametrize(
    ("project_name", "slug", "package"),
    [
        ("ML Project", "ml-project", "ml_project"),
        ("Churn_Model v2", "churn-model-v2", "churn_model_v2"),
        ("  Fraud Detection 2025 ", "fraud-detection-2025", "fraud_detection_2025"),
        ("xgb", "xgb", "xgb"),
        # The names: accents, punctuation, symbols, a dash, spaces around.
        ("Café Prévisions", "cafe-previsions", "cafe_previsions"),
        ("Churn (v2)!", "churn-v2", "churn_v2"),
        ("ML & Data 2026", "ml-data-2026", "ml_data_2026"),
        ("  Über—Modell  ", "uber-modell", "uber_modell"),
        ("Straße Œuvre Æsir Þing Łódź", "strasse-oeuvre-aesir-thing-lodz", None),
        ("Zoë's Churn’s Model", "zoes-churns-model", "zoes_churns_model"),  # noqa: RUF001
        ("Ca\u0301fe\u0301 de\u0301compose\u0301", "cafe-decompose", None),  # NFD accents
        ("İstanbul Şehir Tiếng Việt Română", "istanbul-sehir-tieng-viet-romana", None),
        ("__--..Mixed__--..", "mixed", "mixed"),
        # A package name cannot start with a digit: the derived one gets pkg_ in front.
        ("2026 Forecast", "2026-forecast", "pkg_2026_forecast"),
        # Nothing usable left: the fallback.
        ("🚀📈", "unnamed-project", "unnamed_project"),
        ("数据科学", "unnamed-project", "unnamed_project"),
        ("!!!", "unnamed-project", "unnamed_project"),
        # Cut at 64 characters, never ending in a hyphen.
        ("word " * 20, ("word-" * 13)[:64].rstrip("-"), None),
        ("9" * 64, "9" * 64, "pkg_" + "9" * 60),
    ],
)
def test_derived_defaults_agree(project_name, slug, package, template_repo, tmp_path):
    cookiecutter_context = generate_context(
        str(template_repo / "cookiecutter.json"), extra_context={"project_name": project_name}
    )
    from_cookiecutter = prompt_for_config(cookiecutter_context, no_input=True)
    from_copier = copier.run_copy(
        str(template_repo),
        str(tmp_path / "unused"),
        data={"project_name": project_name},
        defaults=True,
        unsafe=True,
        quiet=True,
        pretend=True,
    ).answers.combined
    package = package or slug.replace("-", "_")
    assert reference_slug(project_name) == slug
    for engine in (from_cookiecutter, from_copier):
        assert (engine["project_slug"], engine["package_name"]) == (slug, package)
    assert {name: from_copier[name] for name in QUESTIONS} == {
        name: from_cookiecutter[name] for name in QUESTIONS
    }
    assert not (tmp_path / "unused").exists()


@pytest.mark.parametrize("name", ["project_slug", "package_name"])
def test_derived_names_use_plain_jinja(name):
    # copier's extra filters such as regex_replace are not in cookiecutter's: the one
    # template, in two namespaces, must give the same names.
    for extra_filter in ("regex", "slugify", "to_", "unidecode"):
        assert extra_filter not in COPIER[name]["default"], extra_filter


def test_ascii_letters_spell_what_unicode_decomposes():
    # Letters Unicode does not decompose into an ASCII letter and accents.
    own_spelling = set("ßæœøđðħıłŀŧþĸŋŉǽǿ")
    seen = []
    for ascii, variants in COOKIECUTTER["_ascii_letters"].items():
        assert ascii == "" or (ascii.isascii() and ascii.isalpha() and ascii.islower())
        for variant in variants:
            seen.append(variant)
            if ascii == "" or variant in own_spelling:
                continue
            decomposed = unicodedata.normalize("NFKD", variant)
            unaccented = "".join(char for char in decomposed if not unicodedata.combining(char))
            assert unaccented == ascii, (variant, ascii)
    assert len(seen) == len(set(seen)), "a letter is in two groups"
    # Every lower-case letter of Latin-1 and Latin Extended-A is there.
    latin = (chr(code) for code in range(0xC0, 0x180))
    missing = {char for char in latin if char.isalpha() and char.islower()} - set(seen)
    assert missing == set()


def test_validators_share_their_rules_and_limits_with_the_cookiecutter_hook():
    hook = (ROOT / "hooks" / "pre_gen_project.py").read_text(encoding="utf-8")
    pattern = re.search(r'CONTROL_CHARACTERS = re.compile\(r"(.*)"\)', hook).group(1)
    assert pattern == COPIER["control_characters"]["default"]
    assert "MAX_NAME = 100\n" in hook and "MAX_IDENTIFIER = 64\n" in hook
    assert "project_name | length > 100" in COPIER["project_name"]["validator"]
    for name in ("project_slug", "package_name"):
        assert f"{name} | length > 64" in COPIER[name]["validator"], name
    # The help texts say the limits and the pkg_ prefix.
    assert "at most 100 characters" in COPIER["project_name"]["help"]
    assert "at most 64 characters" in COPIER["project_slug"]["help"]
    assert "at most 64 characters" in COPIER["package_name"]["help"]
    assert "pkg_" in COPIER["package_name"]["help"]


def test_copier_provides_the_cookiecutter_namespace_with_every_answer(template_repo, tmp_path):
    given = {"project_name": 'Zoë\'s "Model": v2', "project_slug": "zoe", "task": "regression"}
    answers = copier.run_copy(
        str(template_repo),
        str(tmp_path / "unused"),
        data=given,
        defaults=True,
        unsafe=True,
        quiet=True,
        pretend=True,
    ).answers.combined
    namespace = answers["cookiecutter"]
    # The answers, then the computed values the project's pin reads (cookiecutter.json has
    # them as private variables, in the same order).
    private = [f"_{name}" for name in PIN_VALUES]
    assert list(namespace) == QUESTIONS + private
    assert [name for name in COOKIECUTTER if name in private] == private
    assert namespace == {name: answers[name] for name in QUESTIONS} | {
        f"_{name}": answers[name] for name in PIN_VALUES
    }
    assert namespace["project_name"] == given["project_name"]
    assert namespace["_trimode_version"] == COPIER["trimode_version"]["default"]
    assert namespace["_runtime_source"] == ""


def test_stdlib_module_names_are_current():
    listed = set(COPIER["stdlib_module_names"]["default"])
    public = {name for name in sys.stdlib_module_names if not name.startswith("_")}
    assert public - listed == set(), "add these to copier.yml's stdlib_module_names"


def test_reserved_package_names_hold_the_runtime_and_every_import_name_it_installs():
    """A project depends on trimode (and, by its extras, on theirs): a package named like
    one of them would shadow it, so the validators refuse every such name."""
    metadata = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = metadata["dependencies"]
    lines += [line for extra in metadata["optional-dependencies"].values() for line in extra]
    installed = {canonicalize_name(Requirement(line).name) for line in lines}
    import_names: dict[str, set[str]] = {name: set() for name in installed}
    for module, distributions in packages_distributions().items():
        for distribution in map(canonicalize_name, distributions):
            if distribution in import_names and not module.startswith("_"):
                import_names[distribution].add(module)
    assert {name for name, modules in import_names.items() if not modules} == set()
    reserved = set(COPIER["reserved_package_names"]["default"])
    needed = {name.lower() for name in {"trimode"}.union(*import_names.values())}
    assert needed - reserved == set(), "add these to copier.yml's reserved_package_names"


def test_python_keywords_are_current():
    assert COPIER["python_keywords"]["default"] == keyword.kwlist


def test_reference_lists_are_never_asked_nor_recorded():
    for name in (
        "python_keywords",
        "stdlib_module_names",
        "reserved_package_names",
        "special_module_names",
        "ascii_letters",
        "control_characters",
        "cookiecutter",
        *PIN_VALUES,
    ):
        assert COPIER[name]["when"] is False, name


def test_template_folder_is_the_one_cookiecutter_needs():
    assert COPIER["_subdirectory"] == "{% raw %}{{cookiecutter.project_slug}}{% endraw %}"
    assert COPIER["_templates_suffix"] == ""
    assert Path(ROOT / "{{cookiecutter.project_slug}}").is_dir()
