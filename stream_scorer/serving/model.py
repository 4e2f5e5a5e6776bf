"""The model version serving a micro-batch, as the scoring stage receives it."""

from dataclasses import dataclass

from stream_scorer.contract.manifest import Manifest
from stream_scorer.distribution.base import Artefact


@dataclass(frozen=True)
class ServingModel:
    """The verified model version scoring a micro-batch; `artefact` is how executors get it."""

    version: str
    manifest: Manifest
    artefact: Artefact
    """Broadcast bytes (small models) or a per-machine cache file (`distribution`)."""
    trusted_types: tuple[str, ...]
    """Globals (or skops types) admitted beyond the allowlist (`model.trusted_types`)."""
    unsafe_load: bool = False
    """Deserialise with no allowlist (`model.unsafe_load`); logged loudly on every load."""
    route_by: str | None = None
    """The record field routing rows to a family's per-key models (`model.route_by`)."""
