"""The `trees` section of a manifest: how a gradient-boosted model in its library's own
format (XGBoost, LightGBM, CatBoost) is fed and read.

Written once at publish from the booster file; read on every worker, so a new version brings
its own categories and output meaning with it.
"""

from dataclasses import dataclass, field
from typing import Literal

Library = Literal["xgboost", "lightgbm", "catboost"]
"""Which library's booster the artefact is (the manifest's `kind`)."""


@dataclass(frozen=True)
class TreesSpec:
    """What the booster file said about itself, and how its scores become outputs."""

    library: Library
    objective: str
    """The objective the booster was trained with, as the library names it."""
    num_class: int
    """Classes of a classifier (2 for binary); 0 for a regressor (ranking included)."""
    threads: int = 1
    """Threads of each predict call (Spark already runs one task per core)."""
    categories: dict[str, list[str]] = field(default_factory=dict)
    """Categorical feature -> its categories in training code order (XGBoost, LightGBM: a
    string's code is its index; an unseen string is missing). CatBoost: an empty list per
    categorical feature (it hashes strings itself)."""
    margin: bool = False
    """True when the booster's predict gives class margins (XGBoost `multi:softmax`), to
    which a softmax gives the probabilities."""

    @classmethod
    def from_dict(cls, data: dict) -> "TreesSpec":
        """The spec as `dataclasses.asdict` wrote it into manifest.json."""
        return cls(**data)
