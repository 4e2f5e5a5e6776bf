"""What a family's manifest records about its keys: `Manifest.extra["family"]`, typed."""

from dataclasses import asdict, dataclass, field
from typing import Any

from stream_scorer.contract.manifest import Manifest

FAMILY_KIND = "family"
"""`Manifest.kind` of a per-key model family (`flavors.family.predictor`)."""


@dataclass(frozen=True)
class KeyStats:
    """One fitted model of a family: its sha256 in the artefact and how its fit went."""

    sha256: str
    rows: int
    """Training rows of the key (all rows for the fallback)."""
    score: float | None
    """The estimator's `score` on its training rows (R² or accuracy); None if it failed."""
    fit_seconds: float


@dataclass(frozen=True)
class FamilyInfo:
    """How a family was trained, and what it holds."""

    key_column: str
    """The training data's key column (`model train --key`)."""
    target: str
    estimator: str
    """Import path of the estimator, e.g. 'sklearn.linear_model.Ridge'."""
    params: dict[str, Any]
    min_rows: int
    keys: dict[str, KeyStats]
    """Key -> its model's stats, for every key with a model."""
    fallback: KeyStats | None = None
    """The model fitted on all rows, serving keys without a model of their own."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Key -> why it has no model (too few rows, or its fit raised)."""

    def to_extra(self) -> dict[str, Any]:
        """This info as `Manifest.extra`'s "family" entry (JSON-able)."""
        return asdict(self)

    @classmethod
    def of(cls, manifest: Manifest) -> "FamilyInfo | None":
        """The family info of `manifest`, or None for a single model (or a worker's copy,
        which has no `extra`)."""
        data = manifest.extra.get(FAMILY_KIND)
        if manifest.kind != FAMILY_KIND or data is None:
            return None
        keys = {key: KeyStats(**stats) for key, stats in data["keys"].items()}
        fallback = KeyStats(**data["fallback"]) if data.get("fallback") else None
        return cls(**{**data, "keys": keys, "fallback": fallback})

    def summary(self) -> str:
        """'1000 keys + fallback, 3 skipped'."""
        text = f"{len(self.keys)} keys" + (" + fallback" if self.fallback else "")
        return text + (f", {len(self.skipped)} skipped" if self.skipped else "")
