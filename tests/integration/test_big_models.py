"""Big models on a real SparkSession: one cache file per machine, mapped by every worker."""

import dataclasses
import hashlib
import io
import os
import resource
import signal
from datetime import datetime
from pathlib import Path

import joblib
import numpy as np
import orjson
import pandas as pd
import pytest
from sklearn.neighbors import KNeighborsRegressor

from stream_scorer.config.model_settings import ModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.contract.manifest import MANIFEST_FILE
from stream_scorer.distribution import worker_cache
from stream_scorer.distribution.cache import ArtefactCache
from stream_scorer.distribution.cached_file import CachedFileArtefact
from stream_scorer.errors import ModelStoreError
from stream_scorer.kafka.schema import kafka_schema
from stream_scorer.scoring.stage import score
from stream_scorer.serving.registry import ModelRegistry
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.sources.factory import open_source
from stream_scorer.versions.store import ModelStore
from tests.hostile_pickle import Calls
from tests.scorer_helpers import NUMERIC

pytestmark = pytest.mark.integration

FEATURES = FeaturesConfig(schema=NUMERIC)


@pytest.fixture
def store(tmp_path) -> ModelStore:
    return ModelStore(tmp_path / "store")


@pytest.fixture
def publish(store, tmp_path):
    """`publish(seed)`: publish a 2,000-point KNN regressor (about 80 KB); return its version."""

    def run(seed: int = 0, advance: bool = True) -> str:
        rng = np.random.default_rng(seed)
        frame = pd.DataFrame(rng.standard_normal((2_000, 4)), columns=list(NUMERIC))
        model = KNeighborsRegressor(n_neighbors=3).fit(frame, rng.standard_normal(2_000))
        path = tmp_path / f"knn-{seed}.joblib"
        joblib.dump(model, path)
        return publish_sklearn(store, path, NUMERIC, advance=advance).version

    return run


def _registry(spark, store, cache: Path | None) -> ModelRegistry:
    mapped = {"mapped_above_mb": 0, "cache_dir": str(cache)} if cache else {}
    return ModelRegistry(ModelConfig(store=str(store.root), **mapped), NUMERIC, spark)


def _served_and_shadow(spark, store, cache: Path) -> tuple[ModelRegistry, ModelRegistry]:
    """Registries of CURRENT and of `model.shadow: latest`, both mapped, caches keeping 1 (+1)."""
    settings = {"mapped_above_mb": 0, "cache_dir": str(cache), "cache_versions": 1}
    config = ModelConfig(store=str(store.root), shadow="latest", **settings)
    shadow = ModelRegistry(config, NUMERIC, spark, open_source(config, NUMERIC, shadow=True))
    return ModelRegistry(config, NUMERIC, spark), shadow


def _cached(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.glob("*.joblib"))


def _batch(spark, rows: int = 200):
    points = np.random.default_rng(7).normal(size=(rows, 4))
    values = [orjson.dumps(dict(zip(NUMERIC, p.tolist(), strict=True))) for p in points]
    when = datetime(2024, 5, 1, 12, 0, 0)
    records = [(None, v, "features", 0, i, when, 0) for i, v in enumerate(values)]
    return spark.createDataFrame(spark.sparkContext.parallelize(records, 2), kafka_schema())


def test_big_version_is_served_from_a_cache_file(spark, store, publish, tmp_path):
    publish()

    serving = _registry(spark, store, tmp_path / "cache").refresh()

    assert isinstance(serving.artefact, CachedFileArtefact)
    assert serving.artefact.local_copy() == tmp_path / "cache" / f"{serving.manifest.sha256}.joblib"


def test_two_workers_map_the_same_cache_file(spark, store, publish, tmp_path):
    publish()
    serving = _registry(spark, store, tmp_path / "cache").refresh()
    artefact, manifest = serving.artefact, serving.manifest
    key = worker_cache.key_of(serving.version, manifest.sha256)
    path = str(artefact.local_copy())

    def load_and_look(_):
        import os

        worker_cache.cached_predictor(key, artefact, manifest, (), 2)
        with open("/proc/self/maps") as maps:
            yield os.getpid(), path in maps.read()

    tasks = spark.sparkContext.parallelize([0, 1], 2).barrier()  # both run at once
    seen = tasks.mapPartitions(load_and_look).collect()

    assert len({pid for pid, _ in seen}) == 2
    assert [mapped for _, mapped in seen] == [True, True]


def test_mapped_predictions_equal_broadcast_predictions(spark, store, publish, tmp_path):
    publish()
    batch = _batch(spark)

    def predictions(registry: ModelRegistry) -> list[float]:
        scored = score(batch, registry.refresh(), FEATURES).orderBy("offset")
        return [row.prediction for row in scored.select("prediction").collect()]

    mapped = predictions(_registry(spark, store, tmp_path / "cache"))
    broadcast = predictions(_registry(spark, store, None))

    assert len(mapped) == 200
    assert mapped == broadcast


def test_cached_copy_altered_while_serving_is_fetched_again_before_the_next_batch(
    spark, store, publish, tmp_path, caplog
):
    publish()
    registry = _registry(spark, store, tmp_path / "cache")
    batch = _batch(spark)

    def predictions() -> list[tuple]:
        scored = score(batch, registry.refresh(), FEATURES).orderBy("offset")
        return [tuple(row) for row in scored.select("prediction", "error").collect()]

    before = predictions()
    copy = registry.refresh().artefact.local_copy()
    with open(copy, "r+b") as handle:  # same size, same inode: the training set overwritten
        handle.seek(copy.stat().st_size // 2)
        handle.write(b"\xff" * 4096)

    after = predictions()

    assert after == before
    assert [error for _, error in after] == [None] * 200
    assert registry.cache_failures == 1
    assert "its cached copy changed on disk; fetching it again" in caplog.text
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == registry.refresh().manifest.sha256


def test_retired_version_cache_file_is_removed_after_reload(spark, store, publish, tmp_path):
    registry = _registry(spark, store, tmp_path / "cache")
    publish(seed=0)
    old = registry.refresh().manifest.sha256
    publish(seed=1)
    new = registry.refresh().manifest.sha256

    registry.release_retired()

    assert sorted(p.name for p in (tmp_path / "cache").glob("*.joblib")) == [f"{new}.joblib"]
    assert old != new


def test_full_disk_keeps_the_old_version_serving_and_counts_it(spark, store, publish, tmp_path):
    registry = _registry(spark, store, tmp_path / "cache")
    publish(seed=0)
    registry.refresh()
    publish(seed=1)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 12, hard))
    try:
        serving = registry.refresh()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)

    assert serving.version == "v0001"
    assert (registry.cache_failures, registry.refusals) == (1, 0)
    assert "cannot store" in registry.last_error
    assert registry.refresh().version == "v0002"  # tried again once there is room


def test_big_shadow_is_mapped_and_scored_like_a_big_served_model(spark, store, publish, tmp_path):
    publish(seed=0)
    publish(seed=1, advance=False)
    served, shadow = _served_and_shadow(spark, store, tmp_path / "cache")
    champion, challenger = served.refresh(), shadow.refresh()
    batch = _batch(spark)

    scored = score(batch, champion, FEATURES, shadow=challenger, with_shadow=True)
    alone = score(batch, challenger, FEATURES)  # the challenger as a served model

    assert isinstance(challenger.artefact, CachedFileArtefact)
    assert (champion.version, challenger.version) == ("v0001", "v0002")
    shas = [m.manifest.sha256 for m in (champion, challenger)]
    assert _cached(tmp_path / "cache") == sorted(f"{sha}.joblib" for sha in shas)  # keeps 1 + 1
    rows = scored.orderBy("offset").collect()
    assert [r.shadow_prediction for r in rows] == [
        r.prediction for r in alone.orderBy("offset").collect()
    ]
    assert {r.shadow_model_version for r in rows} == {"v0002"}
    assert {r.shadow_error for r in rows} == {None}


def test_a_version_served_and_shadowed_keeps_its_copy_until_neither_uses_it(
    spark, store, publish, tmp_path
):
    cache = tmp_path / "cache"
    publish(seed=0)
    served, shadow = _served_and_shadow(spark, store, cache)
    first = served.refresh().manifest.sha256
    assert shadow.refresh().manifest.sha256 == first  # latest is CURRENT: one copy
    publish(seed=1, advance=False)
    second = shadow.refresh().manifest.sha256

    shadow.release_retired(served.serving)

    assert _cached(cache) == sorted([f"{first}.joblib", f"{second}.joblib"])
    store.advance_current("v0002")
    assert served.refresh().version == "v0002"

    served.release_retired(shadow.serving)

    assert _cached(cache) == [f"{second}.joblib"]


def test_hostile_big_artefact_with_a_matching_sha256_never_runs_and_v1_keeps_serving(
    spark, store, publish, tmp_path
):
    marker = tmp_path / "pwned"
    registry = _registry(spark, store, tmp_path / "cache")
    publish(seed=0)
    registry.refresh()
    version = publish(seed=1)
    hostile = io.BytesIO()
    joblib.dump(Calls(os.system, f"touch {marker}"), hostile)
    manifest = store.manifest(version)
    (store.root / version / manifest.file).write_bytes(hostile.getvalue())
    fixed = dataclasses.replace(manifest, sha256=hashlib.sha256(hostile.getvalue()).hexdigest())
    (store.root / version / MANIFEST_FILE).write_text(fixed.to_json())

    serving = registry.refresh()

    assert serving.version == "v0001"
    assert isinstance(serving.artefact, CachedFileArtefact)
    assert not marker.exists()
    assert registry.refusals == 1
    assert registry.last_error.startswith(
        "v0002 refused: cannot load the joblib artefact: the artefact refers to posix.system,"
    )


def test_store_executors_cannot_read_fails_naming_shared_storage(spark, tmp_path):
    missing = str(tmp_path / "elsewhere" / "model.joblib")
    artefact = CachedFileArtefact(missing, "0" * 64, ".joblib", ArtefactCache(str(tmp_path)), "k")

    with pytest.raises(ModelStoreError) as caught:
        artefact.prepare(spark)

    message = str(caught.value)
    assert message.startswith("executor on ")
    assert f"{missing}: cannot read the model artefact: No such file or directory" in message
    assert message.endswith("or an NFS mount at the same path")
