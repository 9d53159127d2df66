"""Refuse bad answers before cookiecutter writes anything.

copier checks the same rules with the validators in copier.yml; the template's
tests feed both engines the same bad answers.
"""

import keyword
import re
import sys

ANSWERS = {
    "project_name": {{ cookiecutter.project_name | tojson }},
    "project_slug": {{ cookiecutter.project_slug | tojson }},
    "package_name": {{ cookiecutter.package_name | tojson }},
    "author_email": {{ cookiecutter.author_email | tojson }},
}
RESERVED_PACKAGE_NAMES = set({{ cookiecutter._reserved_package_names | tojson }})


def problems(answers: dict[str, str]) -> list[str]:
    """Return one message per answer that cannot make a working project."""
    found = []
    if not answers["project_name"].strip():
        found.append("The project name must not be empty.")
    slug = answers["project_slug"]
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", slug):
        found.append(
            f"The project slug '{slug}' must be lower-case letters, digits and hyphens, "
            "starting and ending with a letter or digit."
        )
    package = answers["package_name"]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", package):
        found.append(
            f"The package name '{package}' is not a valid Python identifier: use ASCII "
            "letters, digits and underscores, not starting with a digit."
        )
    elif keyword.iskeyword(package):
        found.append(f"The package name '{package}' is a Python keyword.")
    elif package in sys.stdlib_module_names:
        found.append(
            f"The package name '{package}' is a standard-library module name; "
            "it would shadow the module."
        )
    elif package in RESERVED_PACKAGE_NAMES:
        found.append(f"The package name '{package}' would shadow a dependency of the project.")
    email = answers["author_email"]
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        found.append(f"The author e-mail '{email}' is malformed: expected name@domain.tld.")
    return found


if __name__ == "__main__":
    messages = problems(ANSWERS)
    for message in messages:
        print(f"ERROR: {message}", file=sys.stderr)
    sys.exit(1 if messages else 0)
