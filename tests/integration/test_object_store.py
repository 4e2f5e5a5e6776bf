"""A model store on S3 (moto's server on loopback) under a running scorer: each version is
copied by the executors from the object store into their machine's cache (no shared mount),
and a version published there mid-stream serves from the next batch on."""

from pathlib import Path

import pytest

from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.distribution.cached_file import CachedFileArtefact
from stream_scorer.flavors.sklearn.formats import load_model_bytes
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.kafka_helpers import create_topic
from tests.scorer_helpers import (
    NUMERIC,
    model_frame,
    produce_records,
    records,
    reloaded_at,
    scorer_config,
)

pytestmark = pytest.mark.integration


def _publish(store: ModelStore, tmp_path: Path, seed: int) -> str:
    path = tmp_path / f"model-{seed}.joblib"
    save_model(train_demo_model("binary", n_features=len(NUMERIC), seed=seed), path)
    return publish_sklearn(store, path, NUMERIC).version


def test_running_scorer_switches_to_a_big_version_published_to_s3(tmp_path, spark, bootstrap, s3):
    topic = create_topic(bootstrap, 3)
    store = s3.new_store()
    _publish(store, tmp_path, seed=0)
    cache = tmp_path / "cache"
    model = {
        "store": store.location,
        "store_options": s3.options,
        "mapped_above_mb": 0,  # every version travels as a big one: S3 -> each machine's cache
        "cache_dir": str(cache),
    }
    scorer = Scorer(scorer_config(tmp_path, bootstrap, topic, model=model), spark=spark)
    query = scorer.start()
    try:
        produce_records(bootstrap, topic, range(120), 3)
        query.processAllAvailable()
        assert _publish(store, tmp_path, seed=1) == "v0002"
        produce_records(bootstrap, topic, range(120, 200), 3)
        query.processAllAvailable()
    finally:
        query.stop()

    scored = reloaded_at(spark, tmp_path, switch=120, total=200).sort_values("id")
    served = scorer.registry.refresh()
    assert (served.version, scorer.registry.reloads, scorer.registry.refusals) == ("v0002", 2, 0)
    assert isinstance(served.artefact, CachedFileArtefact)
    assert served.artefact.source == f"{store.location}/v0002/model.joblib"
    sha256 = store.manifest("v0002").sha256
    assert [p.name for p in cache.glob("*.joblib")] == [f"{sha256}.joblib"]  # v0001's released
    after = scored[scored["id"] >= 120]
    v0002 = load_model_bytes(store.read_artifact("v0002"), "joblib")
    expected = v0002.predict(model_frame(records(range(120, 200), NUMERIC), NUMERIC))
    assert after["prediction"].tolist() == expected.tolist()
