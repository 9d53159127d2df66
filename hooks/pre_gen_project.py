"""Refuse bad answers before cookiecutter writes anything.

copier checks the same rules with the validators in copier.yml; the template's
tests feed both engines the same bad answers. cookiecutter runs this hook once it
has made the (empty) project folder, and removes that folder when the hook fails.
"""

import json
import keyword
import re
import sys

# cookiecutter renders this line into its whole context, as JSON: json.loads turns the
# escapes tojson writes (surrogate pairs for emoji among them) back into the characters.
# fmt: off
CONTEXT = json.loads(r'''{{ cookiecutter | tojson }}''')  # tojson escapes ' itself
# fmt: on
RESERVED_PACKAGE_NAMES = set(CONTEXT["_reserved_package_names"])  # lower case
SPECIAL_MODULE_NAMES = set(CONTEXT["_special_module_names"])
# The longest project name, and the longest slug and package name (file names too).
MAX_NAME = 100
MAX_IDENTIFIER = 64
# copier.yml's control_characters: what no one-line answer may hold.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def too_long(label: str, value: str, limit: int) -> str | None:
    """The message for an answer longer than its limit; None when it fits."""
    if len(value) <= limit:
        return None
    return f"The {label} is {len(value)} characters long; at most {limit} are allowed."


def one_line_problem(label: str, value: str) -> str | None:
    """The message for a free-text answer holding a control character; None when it has none."""
    if CONTROL_CHARACTERS.search(value):
        return f"The {label} must be one line of text, without control characters."
    return None


def name_problem(name: str) -> str | None:
    """The message for an unusable project name; None when it is fine."""
    if not name.strip():
        return "The project name must not be empty."
    return too_long("project name", name, MAX_NAME) or one_line_problem("project name", name)


def slug_problem(slug: str) -> str | None:
    """The message for an unusable project slug; None when it is fine."""
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", slug):
        return (
            f"The project slug '{slug}' must be lower-case letters, digits and hyphens, "
            "starting and ending with a letter or digit."
        )
    return None


def package_problem(package: str) -> str | None:
    """The message for an unusable package name; None when it is fine."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", package):
        return (
            f"The package name '{package}' is not a valid Python identifier: use ASCII "
            "letters, digits and underscores, not starting with a digit."
        )
    if keyword.iskeyword(package):
        return f"The package name '{package}' is a Python keyword."
    if package in SPECIAL_MODULE_NAMES or (package[:2] == "__" and package[-2:] == "__"):
        return f"The package name '{package}' is a name Python or pytest treats specially."
    if package in sys.stdlib_module_names:
        return (
            f"The package name '{package}' is a standard-library module name; "
            "it would shadow the module."
        )
    if package.lower() in RESERVED_PACKAGE_NAMES:
        return f"The package name '{package}' would shadow a dependency of the project."
    return None


def email_problem(email: str) -> str | None:
    """The message for a malformed e-mail address; None when it is fine."""
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) or CONTROL_CHARACTERS.search(email):
        return f"The author e-mail '{email}' is malformed: expected name@domain.tld."
    return None


def problems(answers: dict[str, str]) -> list[str]:
    """Return one message per answer that cannot make a working project."""
    slug, package = answers["project_slug"], answers["package_name"]
    found = [
        name_problem(answers["project_name"]),
        too_long("project slug", slug, MAX_IDENTIFIER) or slug_problem(slug),
        too_long("package name", package, MAX_IDENTIFIER) or package_problem(package),
        one_line_problem("description", answers["description"]),
        one_line_problem("author name", answers["author_name"]),
        email_problem(answers["author_email"]),
    ]
    return [message for message in found if message]


if __name__ == "__main__":
    messages = problems(CONTEXT)
    for message in messages:
        print(f"ERROR: {message}", file=sys.stderr)
    sys.exit(1 if messages else 0)
