"""The types a project's own files are written with: a registry entry (`ModelSpec`) and
the roles of its feature columns (`FeatureSchema`). Plain data: importing them loads
neither scikit-learn nor pandas."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The roles a column can have, as the manifest and the report name them.
ROLES = ("target", "numeric", "categorical", "date", "text", "id", "dropped")
# The kinds of feature columns, as FeatureSchema names its fields.
FEATURE_KINDS = ("numeric", "categorical", "dates", "text")


@dataclass(frozen=True)
class ModelSpec:
    """How to make one model of the registry: a factory taking the seed and the number of
    cores (n_jobs, -1 for all) that returns an unfitted scikit-learn estimator, a
    search space over that estimator's parameters (tuning prefixes them with `model__`),
    and the preprocessing the model needs: a function of the FeatureSchema returning an
    unfitted transformer (e.g. trimode's native_categories for gradient boosting), None
    for the project's own (features.py's build_preprocessor). Name a module-level
    function, not a lambda: a saved model records which one built it."""

    make: Callable[[int, int], Any]
    search_space: dict[str, list[Any]] = field(default_factory=dict)
    preprocess: Callable[[FeatureSchema], Any] | None = None


@dataclass(frozen=True)
class FeatureSchema:
    """Which columns are features of which kind, and which columns are not features."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dates: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    # Not features: identifiers, and columns dropped on purpose.
    ids: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    # Words kept per text column (the most frequent ones).
    text_max_features: int = 100

    @property
    def columns(self) -> list[str]:
        """All feature columns: numeric, categorical, date, then text."""
        return [*self.numeric, *self.categorical, *self.dates, *self.text]

    def only(self, column: str) -> FeatureSchema:
        """The schema of one of its feature columns alone, of the same kind."""
        return FeatureSchema(
            **{kind: (column,) if column in getattr(self, kind) else () for kind in FEATURE_KINDS},
            text_max_features=self.text_max_features,
        )

    def roles(self, target: str | None = None) -> dict[str, str]:
        """Each known column's role (see ROLES)."""
        roles = {target: "target"} if target else {}
        for role, names in (
            ("numeric", self.numeric),
            ("categorical", self.categorical),
            ("date", self.dates),
            ("text", self.text),
            ("id", self.ids),
            ("dropped", self.dropped),
        ):
            roles.update(dict.fromkeys(names, role))
        return roles

    def to_record(self) -> dict[str, Any]:
        """The schema as the run record (manifest.json's `features`) keeps it."""
        record: dict[str, Any] = {kind: list(getattr(self, kind)) for kind in FEATURE_KINDS}
        record["ids"], record["dropped"] = list(self.ids), list(self.dropped)
        record["text_max_features"] = self.text_max_features
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> FeatureSchema:
        """The schema a run recorded (manifest.json's `features`): the one its model was
        built for, whatever the preprocessing's steps are called."""
        names = {
            key: tuple(str(name) for name in record.get(key) or ())
            for key in (*FEATURE_KINDS, "ids", "dropped")
        }
        return cls(**names, text_max_features=int(record.get("text_max_features") or 100))
