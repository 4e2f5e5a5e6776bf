"""The model version serving a micro-batch, as the scoring stage receives it."""

from dataclasses import dataclass

from stream_scorer.distribution.base import Artefact
from stream_scorer.models.manifest import Manifest


@dataclass(frozen=True)
class ServingModel:
    """The verified model version scoring a micro-batch; `artefact` is how executors get it."""

    version: str
    manifest: Manifest
    artefact: Artefact
    """Broadcast bytes (small models) or a per-machine cache file (`distribution`)."""
    trusted_types: tuple[str, ...]
    """Type names a skops artefact may contain beyond skops' defaults (`model.trusted_types`)."""
