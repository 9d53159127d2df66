"""Set up a freshly generated project: git repository, environment, pre-commit hooks.

cookiecutter (and cruft, which drives cookiecutter) runs this file as its
post-generation hook, rendering it first, which fills in INSTALL_HOOKS and
COOKIECUTTER_CONTEXT below; copier runs it as a task on copy only, never during
an update, passing --install-hooks=yes|no. Both run it inside the new project.

Under cookiecutter it also writes the copier answers file copier itself would
write (the template's source, its version, the answers), so that every project,
however it was generated, updates with `copier update`.

It is idempotent and never fails the generation: when a tool is missing or a step
fails, it prints the one command to run instead.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# cookiecutter renders this line; under copier it stays as written and the
# command-line argument decides.
INSTALL_HOOKS = "{{ cookiecutter.install_hooks }}"
SET_UP_BY_HAND = "uv sync && uv run pre-commit install"
# cookiecutter renders this line into its whole context, as JSON; under copier it
# stays as written and is not JSON.
# fmt: off
COOKIECUTTER_CONTEXT = r'''{{ cookiecutter | tojson }}'''  # tojson escapes ' itself
# fmt: on
ANSWERS_FILE = ".copier-answers.yml"
# The first line of the answers file, as the template's answers file writes it.
ANSWERS_HEADER = "# Written by copier; `copier update` reads it. Do not edit by hand.\n"


def wants_hooks(arguments: list[str]) -> bool:
    """Read the install_hooks answer from --install-hooks=yes|no or the rendered constant."""
    for argument in arguments:
        if argument.startswith("--install-hooks="):
            return argument.split("=", 1)[1].lower() in {"yes", "true", "1"}
    return INSTALL_HOOKS.lower() in {"yes", "true", "1"}


def run(*command: str) -> bool:
    """Run a command in the project folder; print its output only when it fails."""
    # The project's own .venv, whatever environment the engine runs in (nox, an activated venv).
    foreign = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
    env = {name: value for name, value in os.environ.items() if name not in foreign}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        print(f"`{' '.join(command)}` failed:\n{result.stdout}{result.stderr}".rstrip())
    return result.returncode == 0


def init_git(project: Path) -> bool:
    """Make the project a git repository unless it already is one; return whether it is."""
    if (project / ".git").exists():
        return True
    if shutil.which("git") is None:
        print("git was not found; to make this project a repository run: git init -b main")
        return False
    return run("git", "init", "--quiet", "--initial-branch=main")


def install_hooks(project: Path) -> None:
    """Create the environment with uv and install the pre-commit hooks into .git/hooks."""
    if shutil.which("uv") is None:
        print(
            f"uv was not found; install it (python3 -m pip install uv), then run: {SET_UP_BY_HAND}"
        )
        return
    if (project / ".git" / "hooks" / "pre-commit").exists():
        return
    # Compiled bytecode: the first commits need not compile every library module.
    synced = run("uv", "sync", "--quiet", "--compile-bytecode")
    if synced and run("uv", "run", "--quiet", "pre-commit", "install"):
        print("Environment in .venv; pre-commit hooks installed: each commit runs test mode.")
    else:
        print(f"Setting up did not finish; run: {SET_UP_BY_HAND}")


def remove_empty_folders(project: Path) -> None:
    """Remove folders left empty by optional files whose names rendered empty."""
    for folder in sorted(project.rglob("*"), key=lambda path: len(path.parts), reverse=True):
        if folder.is_dir() and ".git" not in folder.parts and not any(folder.iterdir()):
            folder.rmdir()


def cookiecutter_context() -> dict | None:
    """The cookiecutter context this file was rendered with; None when copier runs it."""
    try:
        context = json.loads(COOKIECUTTER_CONTEXT)
    except ValueError:
        return None
    return context if isinstance(context, dict) else None


def git_output(*arguments: str, cwd: Path) -> str | None:
    """git's stripped output in cwd; None when git is missing or fails."""
    if shutil.which("git") is None or not cwd.is_dir():
        return None
    result = subprocess.run(
        ["git", *arguments], cwd=cwd, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else None


def template_folder(context: dict) -> Path | None:
    """The local folder of the template: cruft passes an absolute _template; cookiecutter
    a _repo_dir that, for a local template given as a relative path, is relative to
    where cookiecutter was started (this hook runs in the new project)."""
    candidates = []
    for key in ("_template", "_repo_dir"):
        value = context.get(key)
        if not value:
            continue
        given = Path(value)
        if given.is_absolute():
            candidates.append(given)
        elif key == "_repo_dir":
            for start in (os.environ.get("PWD"), context.get("_output_dir")):
                if start:
                    candidates.append(Path(start) / given)
    for folder in candidates:
        if (folder / "cookiecutter.json").is_file() and (folder / "copier.yml").is_file():
            return folder.resolve()
    return None


def write_copier_answers(project: Path, context: dict) -> None:
    """Write the answers file copier would have written: source, version, answers."""
    import yaml  # cookiecutter depends on PyYAML

    folder = template_folder(context)
    template = str(context.get("_template", ""))
    is_url = "://" in template or template.startswith(("gh:", "gl:", "git@"))
    source = template if is_url or folder is None else str(folder)
    # cruft passes the commit it rendered; cookiecutter renders a local folder as it is
    # (HEAD), and a git URL from its clone in _repo_dir, checked out at --checkout. Version
    # tags are v<version> from 5.0 (the runtime's tag too), bare <version> before.
    revision = context.get("_commit") or "HEAD"
    versions = ["--match", "v[0-9]*", "--match", "[0-9]*"]
    commit = None
    for where in (folder, Path(str(context.get("_repo_dir") or "/nonexistent"))):
        if where is not None and commit is None:
            commit = git_output("describe", "--tags", *versions, "--always", revision, cwd=where)
    commit = commit or context.get("_commit")
    answers = {"_commit": commit, "_src_path": source} if commit else {"_src_path": source}
    answers.update((key, value) for key, value in context.items() if not key.startswith("_"))
    text = yaml.safe_dump(answers, allow_unicode=True, default_flow_style=False)
    (project / ANSWERS_FILE).write_text(ANSWERS_HEADER + text, encoding="utf-8")
    if commit is None:
        print(
            f"{source} is not a git repository of the template: `copier update` cannot "
            "update this project; generate from the template's git URL or absolute path"
        )


def started_in(context: dict | None) -> list[Path]:
    """Where the engine may have been started: the shell's folder (PWD; the hook runs in
    the new project), and cookiecutter's output folder."""
    folders = [os.environ.get("PWD")]
    if context is not None:
        folders.append(context.get("_output_dir"))
    return [Path(folder) for folder in folders if folder]


def absolute_template_source(project: Path, context: dict | None) -> None:
    """A template given as a relative path (`copier copy path/to/trimode my-project`) is
    rendered into the runtime's pin as that path, which uv cannot use, and into copier's
    _src_path, which `copier update` reads in another folder: write the template's folder
    absolute in both (cookiecutter's answers file is written absolute already)."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pin = re.search(r'^trimode = \{ git = "([^"]*)", tag = "[^"]*" \}$', text, re.MULTILINE)
    if pin is None:
        return
    given = pin.group(1)
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", given) or Path(given).is_absolute():
        return
    folder = template_folder(context) if context is not None else None
    for start in started_in(context):
        if folder is None and (start / given / "copier.yml").is_file():
            folder = (start / given).resolve()
    if folder is None:
        print(
            f"The template was given as a relative path ({given}): in pyproject.toml's "
            "[tool.uv.sources], make trimode's git source an absolute path or a URL"
        )
        return
    url = "file://" + folder.as_posix().replace("\\", "\\\\").replace('"', '\\"')
    start, end = pin.span(1)
    pyproject.write_text(text[:start] + url + text[end:], encoding="utf-8")
    answers = project / ANSWERS_FILE
    if context is None and answers.is_file():
        lines = answers.read_text(encoding="utf-8").splitlines(keepends=True)
        for index, line in enumerate(lines):
            if line.startswith("_src_path: "):
                lines[index] = f"_src_path: {json.dumps(str(folder))}\n"
        answers.write_text("".join(lines), encoding="utf-8")


def main(arguments: list[str]) -> None:
    """Set the project up as the answers ask."""
    project = Path.cwd()
    remove_empty_folders(project)
    context = cookiecutter_context()
    if context is not None:
        write_copier_answers(project, context)
    absolute_template_source(project, context)
    # cruft renders the template again in temporary folders on every `cruft update`: no
    # environment there (its context has cruft's _commit and no _output_dir).
    rendered_by_cruft = (
        context is not None and "_commit" in context and "_output_dir" not in context
    )
    if init_git(project) and wants_hooks(arguments) and not rendered_by_cruft:
        install_hooks(project)
    else:
        print(f"To install the pre-commit hooks later, run: {SET_UP_BY_HAND}")


if __name__ == "__main__":
    main(sys.argv[1:])
