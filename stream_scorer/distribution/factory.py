"""Choosing how a model version reaches the executors, by the size of its artefact."""

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from stream_scorer.config.settings import ModelConfig
from stream_scorer.distribution.base import Artefact
from stream_scorer.distribution.broadcast import BroadcastArtefact
from stream_scorer.distribution.cache import ArtefactCache
from stream_scorer.distribution.cached_file import CachedFileArtefact
from stream_scorer.errors import ModelStoreError
from stream_scorer.models.store import ModelStore
from stream_scorer.models.verify import Fetch, VerifiedModel
from stream_scorer.scoring.model_cache import key_of

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MIB = 2**20


def distribute(
    spark: "SparkSession",
    store: ModelStore,
    version: str,
    config: ModelConfig,
    verify: Callable[[Fetch | None], VerifiedModel],
) -> tuple[VerifiedModel, Artefact]:
    """Verify `version` with `verify(fetch)` and make its artefact reachable by executors.

    Below `config.mapped_above_mb`: the verified bytes, broadcast. At or above: verified as a
    copy in the driver's cache directory, then materialised on the executors
    (`CachedFileArtefact.prepare`) before it serves. Called once per version, on the driver.

    Raises
    ------
    ModelRejectedError, ModelStoreError, ArtefactCacheError
        As `verify` and `CachedFileArtefact.prepare` do; nothing serves from it then.
    """
    source = _mapped_source(store, version, config.mapped_above_mb * MIB)
    if source is None:
        verified = verify(None)  # the store's bytes, read and hashed
        payload = verified.payload
        data = payload if isinstance(payload, bytes) else payload.read_bytes()
        return verified, BroadcastArtefact(spark.sparkContext.broadcast(data))
    cache = ArtefactCache(config.cache_dir, config.cache_versions)
    located = str(source)
    verified = verify(lambda manifest: cache.materialise(located, manifest.sha256, source.suffix))
    sha256 = verified.manifest.sha256
    artefact = CachedFileArtefact(located, sha256, source.suffix, cache, key_of(version, sha256))
    artefact.prepare(spark)
    return verified, artefact


def _mapped_source(store: ModelStore, version: str, threshold: int) -> Path | None:
    """The artefact's absolute path if it is at least `threshold` bytes; None if smaller or
    unreadable (`verify` then reports why)."""
    try:
        path = Path(os.path.abspath(store.artifact_path(version)))
        size = path.stat().st_size
    except (ModelStoreError, OSError):
        return None
    return path if size >= threshold else None
