"""Bad answers are refused by both engines, with the same message, before anything is written."""

import pytest
from cookiecutter.exceptions import FailedHookException
from rendering import render_with_cookiecutter, render_with_copier

NOT_IDENTIFIER = "is not a valid Python identifier"
TOO_LONG = "characters long; at most"
ONE_LINE = "must be one line of text, without control characters."
BAD_ANSWERS = [
    # A trailing newline must not slip past a pattern's "$" (copier's regex_search).
    ({"project_slug": "my-proj\n"}, "The project slug 'my-proj"),
    ({"package_name": "my_pkg\n"}, "The package name 'my_pkg"),
    ({"package_name": "1abc"}, f"The package name '1abc' {NOT_IDENTIFIER}"),
    ({"package_name": "my-pkg"}, f"The package name 'my-pkg' {NOT_IDENTIFIER}"),
    ({"package_name": "class"}, "The package name 'class' is a Python keyword."),
    ({"package_name": "json"}, "The package name 'json' is a standard-library module name"),
    ({"package_name": "sklearn"}, "The package name 'sklearn' would shadow a dependency"),
    ({"package_name": "trimode"}, "The package name 'trimode' would shadow a dependency"),
    # The project's dev tools and the extras' dependencies, in any case.
    *(
        ({"package_name": name}, f"The package name '{name}' would shadow a dependency")
        for name in ("pytest", "dask", "psycopg", "aiohttp", "IPython", "jupyterlab", "yaml")
    ),
    *(
        ({"package_name": name}, f"The package name '{name}' is a name Python or pytest treats")
        for name in ("conftest", "__main__", "__init__", "sitecustomize")
    ),
    # A project named after the runtime derives that package name.
    ({"project_name": "Trimode"}, "The package name 'trimode' would shadow a dependency"),
    ({"project_name": ""}, "The project name must not be empty."),
    ({"project_name": "   "}, "The project name must not be empty."),
    ({"project_slug": "My Project"}, "The project slug 'My Project' must be lower-case"),
    ({"author_email": "bad"}, "The author e-mail 'bad' is malformed"),
    ({"author_email": "a@b"}, "The author e-mail 'a@b' is malformed"),
    ({"author_email": "a\x7f@b.io"}, "The author e-mail 'a\x7f@b.io' is malformed"),
    # Limits: a name of up to 100 characters; a slug and a package name of up to 64. The
    # derived ones are cut at 64, so a 300-character name gets as far as the refusal.
    ({"project_name": "x" * 300}, f"The project name is 300 {TOO_LONG} 100 are allowed."),
    ({"project_name": "é" * 101}, f"The project name is 101 {TOO_LONG} 100 are allowed."),
    ({"project_slug": "a" * 65}, f"The project slug is 65 {TOO_LONG} 64 are allowed."),
    ({"project_slug": "b" * 200}, f"The project slug is 200 {TOO_LONG} 64 are allowed."),
    ({"package_name": "c" * 65}, f"The package name is 65 {TOO_LONG} 64 are allowed."),
    ({"project_slug": "café"}, "The project slug 'café' must be lower-case"),
    ({"package_name": "café"}, f"The package name 'café' {NOT_IDENTIFIER}"),
    ({"package_name": "2026_forecast"}, f"The package name '2026_forecast' {NOT_IDENTIFIER}"),
    # Free text is one line: no control characters, line separators or lone surrogates.
    ({"project_name": "Two\nlines"}, f"The project name {ONE_LINE}"),
    ({"description": "A\ttab"}, f"The description {ONE_LINE}"),
    ({"description": "A\u2028line separator"}, f"The description {ONE_LINE}"),
    ({"description": "Bad byte \udcff"}, f"The description {ONE_LINE}"),
    ({"author_name": "Nul\x00"}, f"The author name {ONE_LINE}"),
]
bad_answers = pytest.mark.parametrize(
    ("answers", "message"), BAD_ANSWERS, ids=[repr(answers)[:60] for answers, _ in BAD_ANSWERS]
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


def test_a_slug_too_long_for_a_folder_name_writes_nothing(template_repo, tmp_path):
    """copier refuses it with the length message. cookiecutter makes the project folder
    before its pre_gen hook runs and has no hook between the answers and that folder: a
    slug longer than a file name can be (255 bytes) fails there, with the file system's
    error instead of the message, but nothing is written either."""
    answers = {"project_slug": "a" * 300}
    output = tmp_path / "output"
    output.mkdir()
    with pytest.raises(OSError, match=r"File name too long|Unable to create directory"):
        render_with_cookiecutter(template_repo, output, answers)
    assert_nothing_generated(output)
    with pytest.raises(ValueError, match=f"The project slug is 300 {TOO_LONG} 64 are allowed."):
        render_with_copier(template_repo, tmp_path / "project", answers)
    assert_nothing_generated(tmp_path / "project")
