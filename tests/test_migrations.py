"""The 3.0.0 migration, run as copier runs it: inside a project (a git repository), on
its configs/, staging what it changed. (The 1.0.0 migration is tested through a real
`copier update` in test_update.py.)"""

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "migrations" / "v3_0_0_guards.py"


def project_with(tmp_path: Path, configs: dict[str, str]) -> Path:
    """A git repository holding configs/<name>.toml with the given texts."""
    (tmp_path / "configs").mkdir()
    for name, text in configs.items():
        (tmp_path / "configs" / f"{name}.toml").write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True)
    return tmp_path


def migrate(project: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=project, capture_output=True, text=True, check=True
    )
    return result.stderr


def staged(project: Path) -> list[str]:
    names = subprocess.run(
        ["git", "diff", "--cached", "--name-only"], cwd=project, capture_output=True, text=True
    )
    return names.stdout.split()


def test_copier_runs_it_before_merging_3_0_0():
    migrations = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))["_migrations"]
    (entry,) = [item for item in migrations if item["version"] == "3.0.0"]
    assert entry["command"][-1].endswith("migrations/v3_0_0_guards.py")
    assert "before" in entry["when"]


def test_settings_made_on_purpose_get_the_key_that_keeps_them(tmp_path):
    project = project_with(
        tmp_path,
        {
            "base": '[outputs]\n# ours\nroot = "outputs"\n',
            "production": '[outputs]\nroot = "/srv/models/churn"\n',
            "test": "[evaluation]\nmin_lift_over_baseline = 0.0\n",
            "human": 'evaluation.thresholds = { roc_auc = 0.5 }\noutputs.root = "../shared"\n',
            "staging": (
                '[evaluation]\nthresholds = { primary = 0.4 }\n[outputs]\nroot = "data/out"\n'
            ),
        },
    )
    said = migrate(project)
    configs = {
        path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
        for path in (project / "configs").glob("*.toml")
    }
    assert "allow_outside_project" not in configs["base"]["outputs"]
    assert configs["production"]["outputs"]["allow_outside_project"] is True
    assert configs["test"]["evaluation"]["allow_no_lift"] is True
    assert configs["human"]["evaluation"]["allow_no_lift"] is True
    assert configs["human"]["outputs"]["allow_outside_project"] is True
    # "primary" is the primary metric: roc_auc by default, whose constant model scores 0.5.
    assert configs["staging"]["evaluation"]["allow_no_lift"] is True
    assert "outputs.root = 'data/out' lies in the project's own data/ folder" in said
    assert "3.0.0 migration" in (project / "configs" / "production.toml").read_text("utf-8")
    assert sorted(staged(project)) == [
        "configs/human.toml",
        "configs/production.toml",
        "configs/staging.toml",
        "configs/test.toml",
    ]
    assert said.startswith("migration 3.0.0: kept outputs.root and the quality guard as set in")


def test_a_project_within_the_guards_is_left_alone(tmp_path):
    text = '[outputs]\nroot = "outputs/test"\n[evaluation]\nmin_lift_over_baseline = 0.05\n'
    project = project_with(tmp_path, {"base": text})
    assert "in no config file" in migrate(project)
    assert (project / "configs" / "base.toml").read_text(encoding="utf-8") == text
    assert staged(project) == []
