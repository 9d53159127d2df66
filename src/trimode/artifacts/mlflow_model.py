"""The production model as a standard MLflow Model, for tools that serve MLflow Models
(`mlflow models serve -m models:/<name>@champion`).

MLflow's sklearn flavour in skops format: the fitted pipeline (behind a scikit-learn
FixedThresholdClassifier when the manifest records a decision threshold, so that it
decides as `predict` does), the types skops may load (those trust.py derives in code for
the project's model file, the same list `predict` trusts), a signature inferred from
training rows and their predictions, and a few training rows as the input example. The
MLmodel file records those types and MLflow's loader trusts them from there; the
project's own `predict` never reads that file: it keeps its own checks (model_file.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import FixedThresholdClassifier

from trimode.artifacts.model_file import trusted_in
from trimode.core.layout import MODEL_FILE
from trimode.core.project import Project
from trimode.modelling.registry import qualified_name

# Training rows kept as the model's input example (and its signature's sample).
EXAMPLE_ROWS = 5
# The classes a decision threshold adds around the pipeline.
THRESHOLD_TYPES = (FixedThresholdClassifier, FrozenEstimator)


def save_mlflow_model(
    target: Path,
    model: BaseEstimator,
    manifest: dict[str, Any],
    output_dir: Path,
    project: Project,
    rows: pd.DataFrame,
) -> Path:
    """Write the fitted model (the one saved in output_dir with its manifest) as an MLflow
    Model in the folder target, with `rows` (training rows) as its input example."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    path = output_dir / MODEL_FILE
    trusted = trusted_in(path.read_bytes(), manifest, project, path)
    served = model
    threshold = manifest.get("decision_threshold")
    if threshold:
        served = deciding_at(model, float(threshold["value"]), rows)
        trusted += [qualified_name(kind) for kind in THRESHOLD_TYPES]
    example = rows.head(EXAMPLE_ROWS)
    mlflow.sklearn.save_model(
        served,
        str(target),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
        skops_trusted_types=sorted(set(trusted)),
        signature=infer_signature(_missing_allowed(example), served.predict(example)),
        input_example=example,
    )
    return target


def deciding_at(model: BaseEstimator, threshold: float, rows: pd.DataFrame) -> BaseEstimator:
    """The fitted binary classifier deciding its second class where that class's
    probability reaches the threshold (as `predict` does: evaluation.decide), as
    scikit-learn's own FixedThresholdClassifier around the model, frozen (never refitted).
    Its fit only learns the classes: two rows and the model's two classes."""
    classes = model.classes_
    wrapped = FixedThresholdClassifier(
        FrozenEstimator(model), threshold=threshold, response_method="predict_proba"
    )
    return wrapped.fit(rows.head(len(classes)), classes)


def _missing_allowed(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with whole-number columns as floats: a row served may miss a value there
    (as `predict` accepts), which a signature's integer column would refuse."""
    whole = [name for name in rows.columns if pd.api.types.is_integer_dtype(rows[name])]
    return rows.astype(dict.fromkeys(whole, "float64"))
