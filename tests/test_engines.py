"""copier and cookiecutter make byte-identical projects from the one template folder."""

import json
import string
import tomllib

import pytest
import yaml
from rendering import (
    ANSWERS_FILE,
    EXPECTED_DIRS,
    EXPECTED_FILES,
    MATRIX,
    PACKAGE_FILES,
    QUESTIONS,
    ROOT,
    TEMPLATE_TAG,
    TEST_FILES,
    describe_differences,
    generated_entries,
    leftover_template_syntax,
)

ENGINES = ["copier", "cookiecutter"]
# Words each license text contains (its name as the text itself spells it).
LICENSE_WORDS = {
    "MIT": "MIT License",
    "BSD-3-Clause": "BSD 3-Clause",
    "Apache-2.0": "Apache License",
}

cases = pytest.mark.parametrize("case", MATRIX, ids=[case.id for case in MATRIX])
engines = pytest.mark.parametrize("engine", ENGINES)


def test_matrix_covers_every_choice_and_both_engines_defaults():
    choices = json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
    for name, values in choices.items():
        if name.startswith("_"):
            continue
        used = {case.answers[name] for case in MATRIX}
        if isinstance(values, list):
            assert used == set(values), name
        elif isinstance(values, bool):
            assert used == {True, False}, name
    assert MATRIX[0].given == {}, "the first case is the all-defaults project"


@cases
def test_both_engines_make_identical_trees(case, renders):
    from_copier = generated_entries(renders.get(case, "copier"))
    from_cookiecutter = generated_entries(renders.get(case, "cookiecutter"))
    assert describe_differences(from_copier, from_cookiecutter) == ""


@cases
@engines
def test_no_template_syntax_left(case, engine, renders):
    assert leftover_template_syntax(renders.get(case, engine)) == []


@cases
@engines
def test_expected_files_and_a_git_repository(case, engine, renders):
    project = renders.get(case, engine)
    package = case.answers["package_name"]
    for name in EXPECTED_FILES:
        assert (project / name.format(package=package)).is_file(), name
    for name in EXPECTED_DIRS:
        assert (project / name).is_dir(), name
    if engine == "cookiecutter":
        assert project.name == case.answers["project_slug"]


@cases
@engines
def test_the_package_and_the_tests_hold_the_users_files_only(case, engine, renders):
    project = renders.get(case, engine)
    assert [path.name for path in (project / "src").iterdir()] == [case.answers["package_name"]]
    package = project / "src" / case.answers["package_name"]
    assert sorted(path.name for path in package.iterdir()) == PACKAGE_FILES
    assert sorted(path.name for path in (project / "tests").iterdir()) == TEST_FILES


@cases
@engines
def test_structured_files_parse(case, engine, renders):
    project = renders.get(case, engine)
    files = {
        path.relative_to(project).as_posix(): path
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }
    assert ANSWERS_FILE in files
    for relative, path in files.items():
        text = path.read_text(encoding="utf-8")  # every file is UTF-8
        if relative.endswith(".toml"):
            tomllib.loads(text)
        elif relative.endswith(".py"):
            compile(text, relative, "exec", dont_inherit=True)
        elif relative.endswith((".yml", ".yaml")):
            yaml.safe_load(text)
        elif relative.endswith((".json", ".ipynb")):
            json.loads(text)


@cases
@engines
def test_free_text_answers_are_written_as_the_characters_themselves(case, engine, renders):
    """Not as escapes (tojson's \\u escapes, emoji as surrogate pairs, break TOML)."""
    answers = case.answers
    project = renders.get(case, engine)
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    metadata = tomllib.loads(pyproject)["project"]
    assert metadata["description"] == answers["description"]
    assert metadata["authors"] == [
        {"name": answers["author_name"], "email": answers["author_email"]}
    ]
    assert "\\u" not in pyproject.replace("\\\\", "")
    for name in ("description", "author_name"):
        for character in set(answers[name]) - set(string.printable):
            assert character in pyproject, (name, character)
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert f"# {answers['project_name']}\n" in readme
    assert f"\n{answers['description']}\n" in readme
    license_file = project / "LICENSE"
    if license_file.exists():
        assert answers["author_name"] in license_file.read_text(encoding="utf-8")
    answers_file = (project / ANSWERS_FILE).read_text(encoding="utf-8")
    for name in ("project_name", "description", "author_name"):
        assert yaml.safe_load(answers_file)[name] == answers[name]
        for character in set(answers[name]) - set(string.printable):
            assert character in answers_file, (name, character)


@cases
def test_answers_reach_the_project_metadata(case, renders):
    answers = case.answers
    project = renders.get(case, "copier")
    metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert metadata["name"] == answers["project_slug"]
    assert answers["python_version"] in metadata["requires-python"]
    assert answers["project_slug"] in metadata["scripts"]


@cases
@engines
def test_both_engines_record_every_answer_and_where_from(case, engine, renders, template_repo):
    # cookiecutter's post-generation step writes the file copier writes, so that every
    # project updates with `copier update` however it was generated.
    recorded = yaml.safe_load((renders.get(case, engine) / ANSWERS_FILE).read_text("utf-8"))
    assert recorded["_src_path"] == str(template_repo)
    assert recorded["_commit"] == TEMPLATE_TAG
    assert set(recorded) == {"_src_path", "_commit", *QUESTIONS}
    assert {name: recorded[name] for name in QUESTIONS} == case.answers


@cases
def test_both_engines_write_the_same_answers_file(case, renders):
    copier_file, cookiecutter_file = (
        (renders.get(case, engine) / ANSWERS_FILE).read_bytes() for engine in ENGINES
    )
    assert cookiecutter_file == copier_file


@cases
@engines
def test_license_file_follows_the_answer(case, engine, renders):
    license_file = renders.get(case, engine) / "LICENSE"
    chosen = case.answers["license"]
    if chosen == "none":
        assert not license_file.exists()
    else:
        assert LICENSE_WORDS[chosen] in license_file.read_text(encoding="utf-8")
