"""A per-key family scoring a Kafka stream: Kafka -> route by key -> Parquet, by offset."""

import numpy as np
import orjson
import pytest
from sklearn.linear_model import Ridge

from stream_scorer.config.model_settings import ModelConfig
from stream_scorer.distribution.broadcast import BroadcastArtefact
from stream_scorer.flavors.family.artefact import FALLBACK_KEY
from stream_scorer.flavors.family.build import build_family
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.serving.registry import ModelRegistry
from stream_scorer.versions.store import ModelStore
from tests.family_helpers import FEATURES, fit_locally, keyed_frame, swap_in_hostile_member
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import (
    NUMERIC,
    read_sink,
    records,
    reloaded_at,
    scorer_config,
)

pytestmark = pytest.mark.integration

KEYS = 8
NULL_KEY = "field 'store' (model.route_by) is null or missing"


def _publish(store: ModelStore, fallback: bool = False, seed: int = 0) -> dict:
    """Fit and publish a Ridge family of KEYS keys; return its models by key."""
    spec, fitted, models = fit_locally(keyed_frame(KEYS, 30, seed), Ridge, fallback=fallback)
    payload, manifest = build_family(spec, fitted, {})
    store.add(manifest, payload)
    return models


def _config(tmp_path, bootstrap, topic, **model_settings):
    features = {"schema": NUMERIC, "passthrough": {"id": "long", "store": "string"}}
    model = {"store": str(tmp_path / "models"), "route_by": "store", **model_settings}
    return scorer_config(tmp_path, bootstrap, topic, features=features, model=model)


def _keyed(ids: range, keys: list, seed: int = 0) -> list[dict]:
    return [{**r, "store": keys[i % len(keys)]} for i, r in enumerate(records(ids, NUMERIC, seed))]


def _expected(models: dict, rows, sent: list[dict]) -> np.ndarray:
    """Each scored row's prediction by the model its model_key names, from the record sent."""
    by_id = {record["id"]: record for record in sent}
    inputs = np.array([[by_id[i][f] for f in FEATURES] for i in rows["id"]])
    keys = rows["model_key"].tolist()
    return np.array([models[k].predict(inputs[i : i + 1])[0] for i, k in enumerate(keys)])


def _run_once(tmp_path, spark, bootstrap, values, **model_settings) -> tuple:
    topic = create_topic(bootstrap, 3)
    produce_exact(bootstrap, topic, spread([orjson.dumps(v) for v in values], 3))
    config = _config(tmp_path, bootstrap, topic, **model_settings)
    assert Scorer(config, spark=spark, once=True).run() == 0
    return read_sink(spark, tmp_path / "predictions"), read_sink(spark, tmp_path / "dead-letter")


def test_every_scored_row_equals_its_keys_model_predict(tmp_path, spark, bootstrap) -> None:
    models = _publish(ModelStore(tmp_path / "models"))
    sent = _keyed(range(400), [f"k{i:04d}" for i in range(KEYS)])

    scored, dead = _run_once(tmp_path, spark, bootstrap, sent)

    assert len(dead) == 0
    assert sorted(scored["id"]) == list(range(400))
    assert (scored["model_key"] == scored["store"]).all()
    # A key's rows are predicted together: BLAS may sum in another order than for one row.
    np.testing.assert_allclose(scored["prediction"], _expected(models, scored, sent), rtol=1e-12)
    assert set(scored["model_version"]) == {"v0001"}


def test_family_is_broadcast_where_a_single_model_of_its_size_would_be_mapped(
    tmp_path, spark, bootstrap
) -> None:
    store = ModelStore(tmp_path / "models")
    models = _publish(store)
    config = ModelConfig(store=str(store.root), route_by="store", mapped_above_mb=0)
    assert isinstance(ModelRegistry(config, NUMERIC, spark).refresh().artefact, BroadcastArtefact)
    sent = _keyed(range(90), [f"k{i:04d}" for i in range(KEYS)])

    scored, dead = _run_once(tmp_path, spark, bootstrap, sent, mapped_above_mb=0)

    assert len(dead) == 0
    assert sorted(scored["id"]) == list(range(90))
    np.testing.assert_allclose(scored["prediction"], _expected(models, scored, sent), rtol=1e-12)


def test_unknown_and_null_keys_go_to_the_dead_letter_without_fallback(
    tmp_path, spark, bootstrap
) -> None:
    _publish(ModelStore(tmp_path / "models"))
    sent = _keyed(range(60), ["k0001", "nope", None])
    del sent[5]["store"]  # a missing key field, like a null one

    scored, dead = _run_once(tmp_path, spark, bootstrap, sent)

    reasons = dict(
        zip(dead["value"].map(lambda v: orjson.loads(v)["id"]), dead["error"], strict=True)
    )
    assert sorted(scored["id"]) == list(range(0, 60, 3))
    assert reasons == {
        i: "no model for key 'nope'" if i % 3 == 1 else NULL_KEY for i in range(60) if i % 3
    }


def test_unknown_key_with_a_fallback_is_scored_by_the_fallback(tmp_path, spark, bootstrap) -> None:
    models = _publish(ModelStore(tmp_path / "models"), fallback=True)
    sent = _keyed(range(60), ["k0002", "nope", None])

    scored, dead = _run_once(tmp_path, spark, bootstrap, sent)

    assert sorted(dead["error"].unique()) == [NULL_KEY]
    assert len(dead) == 20
    by_key = scored.groupby("model_key")["id"].apply(sorted).to_dict()
    assert by_key == {"k0002": list(range(0, 60, 3)), FALLBACK_KEY: list(range(1, 60, 3))}
    np.testing.assert_allclose(scored["prediction"], _expected(models, scored, sent), rtol=1e-12)


def test_family_reload_mid_stream_switches_every_key_at_a_batch_boundary(
    tmp_path, spark, bootstrap
) -> None:
    topic, store = create_topic(bootstrap, 3), ModelStore(tmp_path / "models")
    keys = [f"k{i:04d}" for i in range(KEYS)]
    models = {"v0001": _publish(store, seed=0)}
    sent = _keyed(range(120), keys)
    scorer = Scorer(_config(tmp_path, bootstrap, topic), spark=spark)
    query = scorer.start()
    try:
        produce_exact(
            bootstrap, topic, spread([orjson.dumps(v) for v in _keyed(range(120), keys)], 3)
        )
        query.processAllAvailable()
        models["v0002"] = _publish(store, seed=1)
        later = _keyed(range(120, 200), keys, seed=1)
        sent += later
        produce_exact(bootstrap, topic, spread([orjson.dumps(v) for v in later], 3))
        query.processAllAvailable()
    finally:
        query.stop()

    scored = reloaded_at(spark, tmp_path, switch=120, total=200)
    for version, rows in scored.groupby("model_version"):
        np.testing.assert_allclose(
            rows["prediction"], _expected(models[version], rows, sent), rtol=1e-12
        )


def test_tampered_family_is_refused_and_the_old_version_keeps_serving(tmp_path, spark) -> None:
    store = ModelStore(tmp_path / "models")
    _publish(store, seed=0)
    registry = ModelRegistry(ModelConfig(store=str(store.root), route_by="store"), NUMERIC, spark)
    registry.refresh()
    _publish(store, seed=1)
    artefact = store.root / "v0002" / "family.bin"
    data = bytearray(artefact.read_bytes())
    data[-20] ^= 0xFF
    artefact.write_bytes(bytes(data))

    serving = registry.refresh()

    assert serving.version == "v0001"
    assert registry.refusals == 1
    assert registry.last_error.startswith("v0002 refused: sha256 mismatch")


def test_family_with_a_hostile_member_never_runs_it_and_the_old_version_keeps_serving(
    tmp_path, spark
) -> None:
    store, marker = ModelStore(tmp_path / "models"), tmp_path / "pwned"
    _publish(store, seed=0)
    registry = ModelRegistry(ModelConfig(store=str(store.root), route_by="store"), NUMERIC, spark)
    registry.refresh()
    _publish(store, seed=1)
    swap_in_hostile_member(store, "v0002", "k0003", marker)

    serving = registry.refresh()

    assert serving.version == "v0001"
    assert not marker.exists()
    assert registry.last_error.startswith(
        "v0002 refused: the model of key 'k0003': cannot load the pickle artefact: "
        "the artefact refers to posix.system"
    )
