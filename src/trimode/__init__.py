"""trimode: one ML pipeline, run in test mode (seconds, on every commit), human mode (a
local sample, to inspect and compare) and production mode (all the data, once).

The public API is the names below (`__all__`), and the pytest plugin in
trimode.testing: what a project's own files, notebooks and tests use. Everything else
is private to the runtime and may change in any release. Names are imported on first
use, so `import trimode` stays cheap (the command line's --help, the commit hook).
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from trimode.core.layout import VERSION

__version__ = VERSION

# OpenMP threads waiting for work sleep rather than spin: where other work keeps the
# cores busy, spinning threads starve those with work (measured here: a gradient boosting
# on two threads 10x slower than on one; sleeping, as fast). OpenMP reads it when
# scikit-learn first loads it, so before any import of it; a value the user set wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Public name -> the private module it lives in.
_PUBLIC = {
    # The project's own files: the registry, the preprocessing, the expectations.
    "ModelSpec": "trimode.core.specs",
    "FeatureSchema": "trimode.core.specs",
    "DateParts": "trimode.modelling.features",
    "as_documents": "trimode.modelling.features",
    "as_text": "trimode.modelling.features",
    "to_timestamps": "trimode.modelling.features",
    "native_categories": "trimode.modelling.features",
    "ordinal_categories": "trimode.modelling.features",
    "ScaledTargetMLPRegressor": "trimode.modelling.estimators",
    "Expectation": "trimode.modelling.behaviour",
    "Directional": "trimode.modelling.behaviour",
    "Invariant": "trimode.modelling.behaviour",
    "Examples": "trimode.modelling.behaviour",
    # Notebooks: a mode's config, data, models and results, as the commands see them.
    "load_config": "trimode.workflows.session",
    "load_data": "trimode.workflows.session",
    "feature_schema": "trimode.workflows.session",
    "split_rows": "trimode.modelling.splitting",
    "as_preprocessed": "trimode.modelling.registry",
    "compare_models": "trimode.modelling.compare",
    "train": "trimode.workflows.train",
    "build_report": "trimode.workflows.report",
    "published_model": "trimode.workflows.report",
    "check_expectations": "trimode.workflows.session",
    "task_named": "trimode.core.tasks",
    "per_class": "trimode.modelling.evaluation",
    "importance_table": "trimode.modelling.importance",
    "data_summary": "trimode.reporting.inspection",
    "confusion": "trimode.reporting.inspection",
    "contrast_groups": "trimode.reporting.inspection",
    "residuals_by_feature": "trimode.reporting.inspection",
    "worst_predictions": "trimode.reporting.inspection",
    "worst_slices": "trimode.reporting.inspection",
    "plots": "trimode.reporting.plots",
}

__all__ = [
    "DateParts",
    "Directional",
    "Examples",
    "Expectation",
    "FeatureSchema",
    "Invariant",
    "ModelSpec",
    "ScaledTargetMLPRegressor",
    "__version__",
    "as_documents",
    "as_preprocessed",
    "as_text",
    "build_report",
    "check_expectations",
    "compare_models",
    "confusion",
    "contrast_groups",
    "data_summary",
    "feature_schema",
    "importance_table",
    "load_config",
    "load_data",
    "native_categories",
    "ordinal_categories",
    "per_class",
    "plots",
    "published_model",
    "residuals_by_feature",
    "split_rows",
    "task_named",
    "to_timestamps",
    "train",
    "worst_predictions",
    "worst_slices",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'trimode' has no attribute {name!r}")
    module = importlib.import_module(_PUBLIC[name])
    value = module if name == "plots" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # what type checkers and editors see
    from trimode.core.specs import FeatureSchema, ModelSpec
    from trimode.core.tasks import task_named
    from trimode.modelling.behaviour import Directional, Examples, Expectation, Invariant
    from trimode.modelling.compare import compare_models
    from trimode.modelling.estimators import ScaledTargetMLPRegressor
    from trimode.modelling.evaluation import per_class
    from trimode.modelling.features import (
        DateParts,
        as_documents,
        as_text,
        native_categories,
        ordinal_categories,
        to_timestamps,
    )
    from trimode.modelling.importance import importance_table
    from trimode.modelling.registry import as_preprocessed
    from trimode.modelling.splitting import split_rows
    from trimode.reporting import plots
    from trimode.reporting.inspection import (
        confusion,
        contrast_groups,
        data_summary,
        residuals_by_feature,
        worst_predictions,
        worst_slices,
    )
    from trimode.workflows.report import build_report, published_model
    from trimode.workflows.session import (
        check_expectations,
        feature_schema,
        load_config,
        load_data,
    )
    from trimode.workflows.train import train
