"""ModelRegistry on a real SparkSession: switch, refuse, roll back, broadcast, release."""

import logging

import pytest

from stream_scorer.config.model_settings import ModelConfig
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.errors import ModelStoreError
from stream_scorer.serving import registry as registry_module
from stream_scorer.serving.registry import ModelRegistry
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.scorer_helpers import NUMERIC

pytestmark = pytest.mark.integration


@pytest.fixture
def store(tmp_path) -> ModelStore:
    return ModelStore(tmp_path / "store")


@pytest.fixture
def publish(store, tmp_path):
    """`publish(seed)`: publish the binary demo model trained with `seed`; return its version."""

    def run(seed: int = 0) -> str:
        path = save_model(train_demo_model("binary", seed=seed), tmp_path / f"m{seed}.joblib")
        return publish_sklearn(store, path, NUMERIC).version

    return run


@pytest.fixture
def registry(store, spark) -> ModelRegistry:
    return ModelRegistry(ModelConfig(store=str(store.root)), NUMERIC, spark)


def _publish_broken(store: ModelStore, publish) -> str:
    version = publish(seed=9)
    artefact = store.root / version / store.manifest(version).file
    data = bytearray(artefact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artefact.write_bytes(bytes(data))
    return version


def test_first_refresh_serves_current_and_broadcasts_its_bytes(store, publish, registry):
    publish()

    serving = registry.refresh()

    assert serving.version == "v0001"
    assert serving.manifest == store.manifest("v0001")
    assert serving.artefact.broadcast.value == store.read_artifact("v0001")
    assert serving.trusted_types == ()
    assert (registry.reloads, registry.refusals, registry.last_error) == (1, 0, None)


def test_executors_read_the_model_bytes_from_the_broadcast(spark, store, publish, registry):
    publish()
    handle = registry.refresh().artefact.broadcast

    sizes = spark.sparkContext.parallelize([0, 1], 2).map(lambda _: len(handle.value)).collect()

    assert sizes == [len(store.read_artifact("v0001"))] * 2


def test_unchanged_current_returns_the_same_serving_model(publish, registry):
    publish()
    first = registry.refresh()

    assert registry.refresh() is first
    assert registry.reloads == 1


def test_new_version_serves_from_the_next_refresh(publish, registry, caplog):
    publish(seed=0)
    registry.refresh()
    publish(seed=1)

    with caplog.at_level(logging.INFO, logger=registry_module.__name__):
        serving = registry.refresh()

    assert serving.version == "v0002"
    assert registry.reloads == 2
    assert "model v0002 now serving (was v0001)" in caplog.messages


def test_release_retired_unpersists_the_replaced_broadcast_once(publish, registry, monkeypatch):
    publish(seed=0)
    old = registry.refresh()
    calls = []

    def unpersist(blocking: bool = False) -> None:
        calls.append(blocking)

    monkeypatch.setattr(old.artefact.broadcast, "unpersist", unpersist)
    publish(seed=1)
    registry.refresh()

    registry.release_retired()
    registry.release_retired()

    assert calls == [False]


def test_broken_version_is_refused_and_the_old_one_keeps_serving(store, publish, registry):
    publish(seed=0)
    publish(seed=1)
    registry.refresh()
    _publish_broken(store, publish)

    serving = registry.refresh()

    assert serving.version == "v0002"
    assert registry.refusals == 1
    assert registry.last_error.startswith("v0003 refused: sha256 mismatch")


def test_refused_version_is_not_retried(store, publish, registry, monkeypatch):
    publish(seed=0)
    registry.refresh()
    _publish_broken(store, publish)
    registry.refresh()
    calls = []

    def counting_load_verified(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    original = registry_module.load_verified
    monkeypatch.setattr(registry_module, "load_verified", counting_load_verified)

    assert registry.refresh().version == "v0001"
    assert registry.refresh().version == "v0001"
    assert calls == []
    assert registry.refusals == 1


def test_rollback_switches_back_to_the_previous_version(store, publish, registry):
    publish(seed=0)
    publish(seed=1)
    registry.refresh()

    store.rollback()
    serving = registry.refresh()

    assert serving.version == "v0001"
    assert serving.artefact.broadcast.value == store.read_artifact("v0001")
    assert registry.reloads == 2


def test_empty_store_raises_no_model_to_serve(store, registry):
    with pytest.raises(
        ModelStoreError, match=r"no model to serve in .*stream-scorer model publish"
    ):
        registry.refresh()


def test_refused_first_version_raises_no_model_to_serve(store, publish, registry):
    _publish_broken(store, publish)

    with pytest.raises(ModelStoreError, match=r"no model to serve .*v0001 refused: sha256"):
        registry.refresh()
    assert registry.refusals == 1


def test_fall_back_serves_the_replaced_version_again_and_refuses_the_new_one(publish, registry):
    publish(seed=0)
    old = registry.refresh()
    publish(seed=1)
    registry.refresh()

    serving = registry.fall_back("v0001", "batch 3 failed 3 times with it")

    assert serving is old
    assert registry.refresh() is old
    assert (registry.refusals, registry.fallbacks) == (1, 1)
    assert registry.last_error == "batch 3 failed 3 times with it"


def test_version_refused_by_an_earlier_run_gives_way_to_the_last_served_one(
    store, publish, registry
):
    publish(seed=0)
    publish(seed=1)

    registry.restore([("v0002", store.manifest("v0002").sha256)], "v0001")

    assert registry.refresh().version == "v0001"
    assert registry.refresh().version == "v0001"
    assert registry.reloads == 1
