"""Big artefacts: one verified copy per machine, memory-mapped by every Python worker."""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stream_scorer.contract.manifest import Manifest
from stream_scorer.distribution.base import Artefact
from stream_scorer.distribution.cache import ArtefactCache
from stream_scorer.distribution.executors import Failure, on_executors
from stream_scorer.errors import (
    ArtefactCacheError,
    ModelRejectedError,
    ModelStoreError,
    ScorerError,
)
from stream_scorer.flavors.base import Predictor, load_predictor

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

_ERRORS: dict[str, type[ScorerError]] = {
    e.__name__: e for e in (ArtefactCacheError, ModelRejectedError, ModelStoreError)
}
SHARED_STORAGE = (
    "on a cluster, a model at or above model.mapped_above_mb is read by the executors from "
    "the model store itself: an object store they all reach (s3://, gs://, abfs://, hdfs://, "
    "with the same credentials) or an NFS mount at the same path"
)


@dataclass(frozen=True)
class CachedFileArtefact(Artefact):
    """An artefact each machine copies from the model store into its `ArtefactCache` once,
    checks against the manifest's sha256, and every worker then loads from that file
    (`load_file`: joblib arrays memory-mapped, their pages shared by the machine's workers).
    Never broadcast, so past 2 GiB too."""

    source: str
    """The artefact in the model store: an absolute path, or a URL (`distribution.source`)."""
    sha256: str
    suffix: str
    """The artefact file's extension, e.g. '.joblib'."""
    cache: ArtefactCache
    cache_key: str
    """The version's key in the workers' predictor cache (`scoring.worker_cache.key_of`)."""
    options: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    """fsspec storage options to open `source` with (`model.store_options`)."""

    def local_copy(self) -> Path:
        """The verified copy on this machine, fetched first if missing or altered."""
        return self.cache.materialise(self.source, self.sha256, self.suffix, self.options)

    def unchanged(self) -> bool:
        """True while this machine's copy is the file this process verified."""
        return not self.cache.changed(self.cache.path(self.sha256, self.suffix), self.sha256)

    def reverify(self) -> None:
        """Hash this machine's copy again; fetch it again if it was altered."""
        self.local_copy()

    def load(
        self, manifest: Manifest, trusted_types: Sequence[str], unsafe_load: bool = False
    ) -> Predictor:
        """Load from this machine's copy, through the same allowlist as broadcast bytes."""
        return load_predictor(self.local_copy(), manifest, trusted_types, unsafe_load)

    def prepare(self, spark: "SparkSession") -> None:
        """Materialise the copy on the executors before the version serves (see
        `on_executors`: a machine that missed it materialises on first use).

        Raises
        ------
        ModelStoreError
            If an executor cannot read the model store (the message names the host).
        ArtefactCacheError
            If an executor cannot store the copy (disk full).
        ModelRejectedError
            If what an executor read does not match the sha256.
        """
        for host, failure in on_executors(spark, self._try_local_copy):
            if failure is None:
                continue
            kind, reason = failure
            if kind == ModelStoreError.__name__:
                msg = (
                    f"executor on {host} cannot read the model artefact: {reason}; {SHARED_STORAGE}"
                )
            else:
                msg = f"executor on {host}: {reason}"
            raise _ERRORS[kind](msg)

    def release(self, spark: "SparkSession") -> None:
        """Drop the workers' predictors of the version and delete the copies, on the executors
        (best effort, see `on_executors`) and on the driver."""
        try:
            on_executors(spark, self._drop)
        except Exception as exc:  # a failed clean-up job must not fail the batch
            log.warning("cached artefact %s… not released on executors: %s", self.sha256[:12], exc)
        self._drop()

    def shares_copy_with(self, other: Artefact) -> bool:
        """True for an artefact of the same bytes in the same cache directory: one file."""
        return (
            isinstance(other, CachedFileArtefact)
            and other.sha256 == self.sha256
            and other.cache == self.cache
        )

    def _try_local_copy(self) -> Failure | None:
        try:
            self.local_copy()
        except (ArtefactCacheError, ModelRejectedError, ModelStoreError) as exc:
            return type(exc).__name__, str(exc)
        return None

    def _drop(self) -> None:
        from stream_scorer.distribution import worker_cache

        worker_cache.discard(self.cache_key)
        self.cache.discard(self.sha256)
