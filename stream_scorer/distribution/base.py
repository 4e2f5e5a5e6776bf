"""The artefact interface: built on the driver, shipped to executors, loaded on workers."""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from stream_scorer.contract.manifest import Manifest
from stream_scorer.flavors.base import Predictor

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class Artefact(ABC):
    """A verified model version's artefact, as executors reach it.

    Travels in the scoring UDF's closure, so it holds small picklable things only (a
    broadcast handle, a location and a sha256), never the artefact itself.
    """

    @abstractmethod
    def load(
        self, manifest: Manifest, trusted_types: Sequence[str], unsafe_load: bool = False
    ) -> Predictor:
        """Build the predictor; called on a Python worker, once per process and version.
        Deserialising admits what `load_model_bytes` admits for `trusted_types` and
        `unsafe_load`, whatever the way the artefact came.

        Raises
        ------
        ScorerError
            If the artefact cannot be fetched, verified or loaded (the task fails).
        """

    def unchanged(self) -> bool:
        """True while what this process loaded is still what it verified; a cached file's
        copy altered on disk since is not. Checked before each task and each batch that
        uses the version; cheap (a `stat` at most). Broadcast bytes never change."""
        return True

    def reverify(self) -> None:  # noqa: B027 (only cached files have a copy to fetch again)
        """Make this machine's copy the verified one again, after `unchanged` said it was not.

        Raises
        ------
        ScorerError
            If it cannot be fetched again (the store changed, the disk is full).
        """

    def shares_copy_with(self, other: "Artefact") -> bool:
        """True if releasing this artefact would take `other`'s copy too (a served model and
        its shadow of the same version, or two versions of the same bytes); the registries
        then leave it to whichever retires last. Broadcasts are never shared."""
        return False

    @abstractmethod
    def release(self, spark: "SparkSession") -> None:
        """Free what the version holds on the driver and executors; called on the driver once
        the version no longer serves. Best effort: never raises."""
