"""Choosing how a model version reaches the executors, by the size of its artefact."""

from collections.abc import Callable
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from stream_scorer.config.model_settings import ModelConfig
from stream_scorer.distribution.base import Artefact
from stream_scorer.distribution.broadcast import BroadcastArtefact
from stream_scorer.distribution.cache import ArtefactCache
from stream_scorer.distribution.cached_file import CachedFileArtefact
from stream_scorer.distribution.worker_cache import key_of
from stream_scorer.errors import ScorerError
from stream_scorer.flavors.base import BROADCAST_KINDS
from stream_scorer.versions.sources.base import ModelSource, SharedFile
from stream_scorer.versions.verify import Fetch, VerifiedModel

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MIB = 2**20


def distribute(
    spark: "SparkSession",
    source: ModelSource,
    version: str,
    config: ModelConfig,
    verify: Callable[[Fetch | None], VerifiedModel],
) -> tuple[VerifiedModel, Artefact]:
    """Verify `version` with `verify(fetch)` and make its artefact reachable by executors.

    Below `config.mapped_above_mb`, from a source executors cannot read (MLflow: no
    `shared_file`), or of a kind always broadcast (`BROADCAST_KINDS`: a per-key family):
    the verified bytes, broadcast. Otherwise: verified as a copy in the driver's cache
    directory, then materialised on the executors (`CachedFileArtefact.prepare`) before it
    serves. Called once per version, on the driver,
    by the served model's registry and the shadow's alike.

    Raises
    ------
    ModelRejectedError, ModelStoreError, ArtefactCacheError
        As `verify` and `CachedFileArtefact.prepare` do; nothing serves from it then.
    """
    shared = _mapped_file(source, version, config.mapped_above_mb * MIB)
    if shared is not None and _broadcast_only(source, version):
        shared = None
    if shared is None:
        verified = verify(None)  # the source's bytes, read and hashed
        payload = verified.payload
        data = payload if isinstance(payload, bytes) else payload.read_bytes()
        return verified, BroadcastArtefact(spark.sparkContext.broadcast(data))
    cache = ArtefactCache(config.cache_dir, cache_keep(config))
    url, options, suffix = shared.url, dict(shared.options), PurePosixPath(shared.url).suffix
    verified = verify(lambda manifest: cache.materialise(url, manifest.sha256, suffix, options))
    sha256 = verified.manifest.sha256
    key = key_of(version, sha256)
    artefact = CachedFileArtefact(url, sha256, suffix, cache, key, options)
    artefact.prepare(spark)
    return verified, artefact


def cache_keep(config: ModelConfig) -> int:
    """How many artefacts a machine's cache keeps: `model.cache_versions`, and one more for a
    shadow model, whose artefact is kept beside the served one's."""
    return config.cache_versions + (1 if config.shadow else 0)


def _broadcast_only(source: ModelSource, version: str) -> bool:
    """True for a version of a kind that is always broadcast (`BROADCAST_KINDS`: a per-key
    family); False if its manifest is unreadable (`verify` then says why)."""
    try:
        return source.manifest(version).kind in BROADCAST_KINDS
    except ScorerError:
        return False


def _mapped_file(source: ModelSource, version: str, threshold: int) -> SharedFile | None:
    """The artefact's shared file if it is at least `threshold` bytes; None if smaller, not
    shared or unreadable (`verify` then reports why)."""
    shared = source.shared_file(version)
    return shared if shared is not None and shared.size >= threshold else None
