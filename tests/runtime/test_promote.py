"""`promote`: human mode's choice goes into production.toml, the file's comments kept."""

from __future__ import annotations

import pytest

from trimode.cli.main import main
from trimode.core.errors import ArtifactError
from trimode.workflows.promote import promote
from trimode.workflows.session import load_config
from trimode.workflows.train import train

from .conftest import make_configs

PRODUCTION = """\
# Production mode: the model that ships.
[train]
# The model human mode chose.
models = ["hist_gradient_boosting"]

# Its hyper-parameters.
[train.params.hist_gradient_boosting]
learning_rate = 0.1

[outputs]
root = "outputs/production"  # published only when the gate passes
"""


@pytest.fixture
def configs(tmp_path):
    folder = make_configs(
        tmp_path,
        human={
            "train": {
                "models": ["random_forest"],
                "params": {"random_forest": {"min_samples_leaf": 3, "n_estimators": 40}},
            },
            "outputs": {"root": "outputs/human"},
        },
    )
    (folder / "production.toml").write_text(PRODUCTION)
    return folder


@pytest.mark.slow
def test_promote_writes_the_human_choice_and_keeps_the_comments(configs, capsys):
    train(load_config("human", configs))
    assert main(["promote", "--config-dir", str(configs)]) == 0
    assert "train.models = ['random_forest'] (from human mode)" in capsys.readouterr().out
    text = (configs / "production.toml").read_text()
    for kept in (
        "# Production mode: the model that ships.",
        "# The model human mode chose.",
        "# published only when the gate passes",
        "learning_rate = 0.1",
    ):
        assert kept in text
    assert 'models = ["random_forest"] # promoted from human mode' in text
    production = load_config("production", configs)
    assert production.train.models == ["random_forest"]
    # Only what differs from the registry's defaults, never how to run (n_jobs, seed).
    assert production.train.params["random_forest"] == {"min_samples_leaf": 3, "n_estimators": 40}
    result = train(production)
    assert result.manifest["model"] == "random_forest"
    assert result.model.named_steps["model"].min_samples_leaf == 3


def test_promote_without_a_human_run_names_what_is_missing(configs):
    before = (configs / "production.toml").read_text()
    with pytest.raises(ArtifactError, match=r"no manifest\.json"):
        promote(configs)
    assert (configs / "production.toml").read_text() == before
