"""Bad answers are refused by both engines, with the same message, before anything is written."""

import pytest
from cookiecutter.exceptions import FailedHookException
from rendering import render_with_cookiecutter, render_with_copier

NOT_IDENTIFIER = "is not a valid Python identifier"
BAD_ANSWERS = [
    ({"package_name": "1abc"}, f"The package name '1abc' {NOT_IDENTIFIER}"),
    ({"package_name": "my-pkg"}, f"The package name 'my-pkg' {NOT_IDENTIFIER}"),
    ({"package_name": "class"}, "The package name 'class' is a Python keyword."),
    ({"package_name": "json"}, "The package name 'json' is a standard-library module name"),
    ({"package_name": "sklearn"}, "The package name 'sklearn' would shadow a dependency"),
    ({"project_name": ""}, "The project name must not be empty."),
    ({"project_name": "   "}, "The project name must not be empty."),
    ({"project_slug": "My Project"}, "The project slug 'My Project' must be lower-case"),
    ({"author_email": "bad"}, "The author e-mail 'bad' is malformed"),
    ({"author_email": "a@b"}, "The author e-mail 'a@b' is malformed"),
]
bad_answers = pytest.mark.parametrize(
    ("answers", "message"), BAD_ANSWERS, ids=[repr(answers) for answers, _ in BAD_ANSWERS]
)


def assert_nothing_generated(folder):
    assert not folder.exists() or not any(folder.iterdir()), sorted(folder.rglob("*"))


@bad_answers
def test_copier_refuses(answers, message, template_repo, tmp_path):
    destination = tmp_path / "project"
    with pytest.raises(ValueError, match="Validation error") as refusal:
        render_with_copier(template_repo, destination, answers)
    assert message in str(refusal.value)
    assert_nothing_generated(destination)


@bad_answers
def test_cookiecutter_refuses(answers, message, template_repo, tmp_path, capfd):
    output = tmp_path / "output"
    output.mkdir()
    with pytest.raises(FailedHookException):
        render_with_cookiecutter(template_repo, output, answers)
    assert f"ERROR: {message}" in capfd.readouterr().err
    assert_nothing_generated(output)
