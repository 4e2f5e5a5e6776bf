"""Small artefacts: the bytes broadcast once, deserialised by every Python worker."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stream_scorer.contract.manifest import Manifest
from stream_scorer.distribution.base import Artefact
from stream_scorer.flavors.base import Predictor, load_predictor

if TYPE_CHECKING:
    from pyspark import Broadcast
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class BroadcastArtefact(Artefact):
    """Artefact bytes in a Spark broadcast. Each worker holds the bytes and its own
    deserialised model; Spark cannot broadcast 2 GiB or more."""

    broadcast: "Broadcast[bytes]"

    def load(
        self, manifest: Manifest, trusted_types: Sequence[str], unsafe_load: bool = False
    ) -> Predictor:
        """Deserialise the broadcast bytes."""
        return load_predictor(self.broadcast.value, manifest, trusted_types, unsafe_load)

    def release(self, spark: "SparkSession") -> None:
        """Unpersist the broadcast, without waiting."""
        self.broadcast.unpersist(blocking=False)
