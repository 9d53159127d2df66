"""Run the command line: python -m {{ cookiecutter.package_name }} ..."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
