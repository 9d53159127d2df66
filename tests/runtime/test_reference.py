"""The configuration reference (trimode.config.reference): a generated project's
docs/configuration.md is what it renders from the config model, and it says what the
model and the loader do.

The template's page is the rendered reference with its [tracking] table inside a Jinja
condition on the mlflow answer (a project made without MLflow names it nowhere). After
changing the config model, rewrite the page: `uv run python tests/runtime/test_reference.py`.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from trimode.config.loading import load_config
from trimode.config.model import SECTIONS, Secret, Settings
from trimode.config.reference import LOADER_DEFAULTS, NOTES, render_reference
from trimode.core.project import PYPROJECT

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "{{cookiecutter.project_slug}}" / "docs" / "configuration.md"
REGENERATE = "uv run python tests/runtime/test_reference.py"
# The table only a project with the mlflow answer gets, and the Jinja condition on it.
OPTIONAL = ("tracking", "cookiecutter.mlflow")
# Keys whose value the loader resolves against the project root (or the task).
RESOLVED = {"data.sample_dir", "outputs.root", "evaluation.primary_metric"}


def every_key() -> list[tuple[str, str, object]]:
    """(dotted key, table of the row, field) for every key of the config model."""
    keys = [(name, "Top level", field) for name, field in Settings.model_fields.items()]
    keys = [key for key in keys if key[0] not in SECTIONS]
    for section, model in SECTIONS.items():
        keys += [(f"{section}.{name}", f"[{section}]", f) for name, f in model.model_fields.items()]
    return keys


def template_page() -> str:
    """The template's docs/configuration.md: the reference, its optional table inside a
    condition written inline, so that no engine's whitespace settings change a byte."""
    page = render_reference()
    table, condition = OPTIONAL
    start = page.index(f"## [{table}]\n")
    end = page.index("\n## ", start) + 1
    return f"{page[:start]}{{% if {condition} %}}{page[start:end]}{{% endif %}}{page[end:]}"


def rendered(mlflow: bool) -> str:
    """The committed page as an engine renders it for that answer."""
    environment = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string(COMMITTED.read_text(encoding="utf-8"))
    return template.render(cookiecutter={"mlflow": mlflow})


def test_committed_page_is_the_rendered_reference():
    assert COMMITTED.read_text(encoding="utf-8") == template_page(), (
        f"{COMMITTED.relative_to(ROOT)} is out of date: rewrite it with {REGENERATE}"
    )


@pytest.mark.parametrize("mlflow", [True, False])
def test_a_project_gets_the_reference_of_its_answers(mlflow: bool):
    table, _ = OPTIONAL
    expected = render_reference() if mlflow else render_reference(leave_out=[table])
    page = rendered(mlflow)
    assert page == expected
    assert not re.search(r"\{\{|\{%|\{#", page)
    assert bool(re.search("mlflow", page, re.IGNORECASE)) is mlflow


def test_every_key_has_a_row_with_its_type_default_and_description():
    text = render_reference()
    for key, table, field in every_key():
        name = key.rpartition(".")[2]
        section = text.split(f"## {table}\n", 1)[1].split("\n## ", 1)[0]
        rows = [line for line in section.splitlines() if line.startswith(f"| `{name}` |")]
        assert len(rows) == 1, f"{key}: expected one row in {table}, found {len(rows)}"
        cells = [cell.strip() for cell in rows[0].strip("|").split(" | ")]
        assert len(cells) == 5, rows[0]
        assert cells[4] == (field.description or "").replace("<", "&lt;").replace(">", "&gt;")
        if key in LOADER_DEFAULTS:
            assert LOADER_DEFAULTS[key] in cells[2]
        elif field.is_required():
            assert cells[2] == "none: required", key
        else:
            assert cells[2] != "none: required", key


def test_notes_name_real_keys_and_tables():
    known = {key for key, _, _ in every_key()} | set(SECTIONS)
    assert set(NOTES) <= known, set(NOTES) - known


def test_a_key_no_file_sets_takes_the_documented_default(tmp_path: Path):
    """The reference says a key no file sets takes the default in its row: load a mode
    whose files set only the required keys, and compare."""
    (tmp_path / PYPROJECT).write_text('[project]\nname = "defaults"\n')
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "base.toml").write_text('task = "regression"\n[data]\ntarget = "y"\n')
    (configs / "human.toml").write_text("")
    config = load_config("human", configs)
    for key, _, field in every_key():
        if field.is_required() or key in RESOLVED:
            continue
        section, _, name = key.rpartition(".")
        value = getattr(getattr(config, section), name) if section else getattr(config, name)
        value = value.reveal() if isinstance(value, Secret) else value
        assert value == field.default, key
    assert Path(config.outputs.root) == (tmp_path / "outputs" / "human").resolve()
    assert config.evaluation.primary_metric == "r2"


@pytest.mark.parametrize("mode", ["test", "production"])
def test_the_output_root_left_out_is_the_modes_folder(tmp_path: Path, mode: str):
    (tmp_path / PYPROJECT).write_text('[project]\nname = "defaults"\n')
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "base.toml").write_text('task = "classification"\n[data]\ntarget = "y"\n')
    (configs / f"{mode}.toml").write_text("")
    config = load_config(mode, configs)
    expected = LOADER_DEFAULTS["outputs.root"].replace("<mode>", mode)
    assert Path(config.outputs.root) == (tmp_path / expected).resolve()


if __name__ == "__main__":
    COMMITTED.write_text(template_page(), encoding="utf-8")
    print(f"wrote {COMMITTED.relative_to(ROOT)}")
