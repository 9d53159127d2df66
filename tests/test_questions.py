"""cookiecutter.json and copier.yml ask the same questions with the same defaults and help."""

import json
import keyword
import sys
from pathlib import Path

import copier
import pytest
import yaml
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config
from rendering import QUESTIONS, ROOT

COOKIECUTTER = json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
COPIER = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))


def copier_questions() -> dict[str, dict]:
    """Questions copier asks: not settings (leading underscore), not computed (`when: false`)."""
    return {
        name: spec
        for name, spec in COPIER.items()
        if not name.startswith("_") and spec.get("when", True) is not False
    }


def cookiecutter_questions() -> dict[str, object]:
    """Questions cookiecutter asks: keys without a leading underscore."""
    return {name: value for name, value in COOKIECUTTER.items() if not name.startswith("_")}


def is_derived(default: object) -> bool:
    """Tell whether a default is a template computed from other answers."""
    return isinstance(default, str) and ("{{" in default or "{%" in default)


def test_same_questions_in_the_same_order():
    assert list(cookiecutter_questions()) == list(copier_questions()) == QUESTIONS


def test_same_help_texts_and_every_question_has_one():
    prompts = COOKIECUTTER["__prompts__"]
    assert list(prompts) == QUESTIONS
    for name, spec in copier_questions().items():
        assert spec.get("help"), f"copier question {name} has no help"
        assert prompts[name] == spec["help"], name


def test_same_choices():
    for name, value in cookiecutter_questions().items():
        spec = copier_questions()[name]
        if isinstance(value, list):
            assert spec.get("choices") == value, name
        else:
            assert "choices" not in spec, name


def test_same_plain_defaults():
    for name, value in cookiecutter_questions().items():
        spec = copier_questions()[name]
        assert spec.get("default") not in (None, ""), f"copier question {name} has no default"
        expected = value[0] if isinstance(value, list) else value
        if is_derived(expected):
            assert is_derived(spec["default"]), f"{name}: derived in one engine only"
        else:
            assert spec["default"] == expected, name


def test_yes_no_questions_are_booleans_in_both_engines_and_the_rest_strings():
    for name, spec in copier_questions().items():
        value = cookiecutter_questions()[name]
        assert spec.get("type") == ("bool" if isinstance(value, bool) else "str"), name


@pytest.mark.parametrize(
    ("project_name", "slug", "package"),
    [
        ("ML Project", "ml-project", "ml_project"),
        ("Churn_Model v2", "churn-model-v2", "churn_model_v2"),
        ("  Fraud Detection 2025 ", "fraud-detection-2025", "fraud_detection_2025"),
        ("xgb", "xgb", "xgb"),
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
    for engine in (from_cookiecutter, from_copier):
        assert (engine["project_slug"], engine["package_name"]) == (slug, package)
    assert {name: from_copier[name] for name in QUESTIONS} == {
        name: from_cookiecutter[name] for name in QUESTIONS
    }
    assert not (tmp_path / "unused").exists()


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
    assert list(namespace) == QUESTIONS
    assert namespace == {name: answers[name] for name in QUESTIONS}
    assert namespace["project_name"] == given["project_name"]


def test_stdlib_module_names_are_current():
    listed = set(COPIER["stdlib_module_names"]["default"])
    public = {name for name in sys.stdlib_module_names if not name.startswith("_")}
    assert public - listed == set(), "add these to copier.yml's stdlib_module_names"


def test_python_keywords_are_current():
    assert COPIER["python_keywords"]["default"] == keyword.kwlist


def test_reserved_package_names_are_equal():
    assert COPIER["reserved_package_names"]["default"] == COOKIECUTTER["_reserved_package_names"]


def test_reference_lists_are_never_asked_nor_recorded():
    for name in (
        "python_keywords",
        "stdlib_module_names",
        "reserved_package_names",
        "cookiecutter",
    ):
        assert COPIER[name]["when"] is False, name


def test_template_folder_is_the_one_cookiecutter_needs():
    assert COPIER["_subdirectory"] == "{% raw %}{{cookiecutter.project_slug}}{% endraw %}"
    assert COPIER["_templates_suffix"] == ""
    assert Path(ROOT / "{{cookiecutter.project_slug}}").is_dir()
