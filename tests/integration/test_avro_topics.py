"""Avro topics in the Confluent wire format, read through a Schema Registry stand-in.

Producers use confluent-kafka's own `AvroSerializer` against `SchemaRegistryStub` (no
registry server can be installed here), so the bytes are those real producers write.
Counted by (topic, partition, offset): scored + dead-lettered = produced, exactly.
"""

import json

import joblib
import pandas as pd
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from pyspark.errors import StreamingQueryException
from sklearn.linear_model import LogisticRegression

from stream_scorer.runtime.scorer import Scorer
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.schema_registry_stub import SchemaRegistryStub
from tests.scorer_helpers import coordinates, read_sink, records, scorer_config
from tests.scorer_process import batch_files

pytestmark = pytest.mark.integration

FEATURES = {"f0": "double", "f1": "double", "user.f2": "double", "user.f3": "double"}
USER = {
    "type": "record",
    "name": "User",
    "fields": [{"name": "f2", "type": "double"}, {"name": "f3", "type": "double"}],
}
V1 = {
    "type": "record",
    "name": "Features",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "f0", "type": "double"},
        {"name": "f1", "type": "double"},
        {"name": "user", "type": USER},
    ],
}
GEO = {
    "type": "record",
    "name": "Geo",
    "fields": [
        {"name": "city", "type": {"type": "enum", "name": "City", "symbols": ["OSL", "LIS"]}}
    ],
}
V2 = {  # adds an optional field and a nested record
    "type": "record",
    "name": "Features",
    "fields": [
        *V1["fields"],
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "geo", "type": GEO},
    ],
}
PLAIN = {"f0": "double", "f1": "double", "f2": "double", "f3": "double"}
"""The features as `records` makes them; `user.f2` and `user.f3` are nested in Avro."""
PASSTHROUGH = {"id": "long", "note": "string", "geo.city": "string"}


@pytest.fixture(scope="module")
def registry():
    """One registry stand-in for the module: ids are global, as in a real registry, so no
    Python worker's cache of writer schemas can meet another registry's ids."""
    with SchemaRegistryStub() as stub:
        yield stub


def _serializer(registry: SchemaRegistryStub, schema: dict) -> AvroSerializer:
    return AvroSerializer(SchemaRegistryClient({"url": registry.url}), json.dumps(schema))


def _values(registry, topic: str, ids: range, schema: dict) -> list[bytes]:
    """Records `ids` serialised with `schema` (registered under `<topic>-value`)."""
    serialize = _serializer(registry, schema)
    context = SerializationContext(topic, MessageField.VALUE)
    out = []
    for rec in records(ids, PLAIN):
        value = {"id": rec["id"], "f0": rec["f0"], "f1": rec["f1"]}
        value["user"] = {"f2": rec["f2"], "f3": rec["f3"]}
        if schema is V2:
            value["note"] = f"note {rec['id']}" if rec["id"] % 2 else None
            value["geo"] = {"city": "LIS"}
        out.append(serialize(value, context))
    return out


def _config(tmp_path, bootstrap, topic, registry, **overrides):
    features = {
        "format": "avro",
        "schema": FEATURES,
        "passthrough": PASSTHROUGH,
        "schema_registry": {"url": registry.url, "max_retries": 1, "retry_wait_ms": 100},
    }
    return scorer_config(tmp_path, bootstrap, topic, FEATURES, features=features, **overrides)


def _publish(tmp_path) -> None:
    """A classifier fitted on the features by their dotted names, published as v0001."""
    train = pd.DataFrame(records(range(200), PLAIN, seed=3))[list(PLAIN)]
    train.columns = list(FEATURES)
    model = LogisticRegression().fit(train, train["f0"] + train["user.f3"] > 0)
    joblib.dump(model, tmp_path / "model.joblib")
    publish_sklearn(ModelStore(tmp_path / "models"), tmp_path / "model.joblib", FEATURES)


def _fates(spark, tmp_path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return read_sink(spark, tmp_path / "predictions"), read_sink(spark, tmp_path / "dead-letter")


def test_two_schema_versions_in_one_topic_score_as_the_model_does(
    tmp_path, spark, bootstrap, registry
):
    topic = create_topic(bootstrap, 2)
    v1, v2 = _values(registry, topic, range(0, 40), V1), _values(registry, topic, range(40, 80), V2)
    produce_exact(
        bootstrap, topic, spread([v for pair in zip(v1, v2, strict=True) for v in pair], 2)
    )
    _publish(tmp_path)
    config = _config(tmp_path, bootstrap, topic, registry, output={"include_features": True})
    fetched = registry.calls["schema_by_id"]

    assert Scorer(config, spark=spark, once=True).run() == 0

    scored, dead = _fates(spark, tmp_path)
    assert dead.empty
    assert coordinates(scored) == sorted((topic, p, o) for p in range(2) for o in range(40))
    scored = scored.set_index("id").sort_index()
    assert len(registry.subjects[f"{topic}-value"]) == 2  # v1 and v2
    want = pd.DataFrame(records(range(40), PLAIN) + records(range(40, 80), PLAIN))
    assert scored[list(FEATURES)].to_numpy().tolist() == want[list(PLAIN)].to_numpy().tolist()
    model = joblib.load(tmp_path / "model.joblib")
    inputs = pd.DataFrame(want[list(PLAIN)].to_numpy(), columns=list(FEATURES))
    assert scored["prediction"].tolist() == model.predict(inputs).tolist()
    notes = [f"note {i}" if i >= 40 and i % 2 else None for i in range(80)]
    assert scored["note"].tolist() == notes
    assert scored["geo.city"].tolist() == [None] * 40 + ["LIS"] * 40
    assert registry.calls["schema_by_id"] - fetched <= 8  # per Python worker and id, not per record


def test_wrong_magic_byte_truncated_body_and_unknown_id_are_each_dead_lettered_once(
    tmp_path, spark, bootstrap, registry
):
    topic = create_topic(bootstrap, 1)
    good = _values(registry, topic, range(6), V1)
    unknown = b"\x00" + (9999).to_bytes(4, "big") + good[0][5:]
    values = [good[0], b"\x01" + good[1][1:], good[2], good[3][:-4], good[4], unknown, good[5]]
    produce_exact(bootstrap, topic, {0: values})
    _publish(tmp_path)

    assert Scorer(_config(tmp_path, bootstrap, topic, registry), spark=spark, once=True).run() == 0

    scored, dead = _fates(spark, tmp_path)
    assert coordinates(scored) == [(topic, 0, o) for o in (0, 2, 4, 6)]
    assert coordinates(dead) == [(topic, 0, o) for o in (1, 3, 5)]
    errors = dict(zip(dead["offset"], dead["error"], strict=True))
    assert errors[1] == "magic byte is 1, expected 0 (Confluent wire format)"
    assert errors[3].startswith(f"Avro body of {len(good[3]) - 9} bytes does not decode with ")
    assert errors[5] == f"schema id 9999 is not in the Schema Registry at {registry.url}"


def test_registry_down_fails_the_batch_and_once_back_every_offset_lands_once(
    tmp_path, spark, bootstrap, registry
):
    topic = create_topic(bootstrap, 2)
    first = _values(registry, topic, range(20), V1)
    produce_exact(bootstrap, topic, spread(first, 2))
    _publish(tmp_path)
    config = _config(tmp_path, bootstrap, topic, registry)
    later = _values(registry, f"{topic}-later", range(20, 40), V2)  # an id no worker has seen
    scorer = Scorer(config, spark=spark)
    query = scorer.start()
    try:
        query.processAllAvailable()
        registry.stop()
        produce_exact(bootstrap, topic, spread(later, 2))
        with pytest.raises(StreamingQueryException, match=r"Schema Registry at \S+ did not give"):
            query.awaitTermination(120)
    finally:
        scorer.close()
        registry.start()

    # The failed batch (the last planned) committed nowhere: neither in the checkpoint nor in
    # a sink, whose committed batches hold the first load exactly.
    commits = batch_files(tmp_path / "checkpoint", "commits")
    assert batch_files(tmp_path / "checkpoint", "offsets") == [*commits, len(commits)]
    markers = (tmp_path / "predictions" / "_commits").iterdir()
    assert sorted(int(p.name) for p in markers if not p.name.startswith(".")) == commits
    written = read_sink(spark, tmp_path / "predictions")
    committed = written[written["batch_id"].isin(commits)]  # not a failed attempt's files
    assert coordinates(committed) == sorted((topic, p, o) for p in range(2) for o in range(10))
    assert not (tmp_path / "dead-letter").exists()  # an outage is not bad input

    assert Scorer(config, spark=spark, once=True).run() == 0

    scored, dead = _fates(spark, tmp_path)
    assert dead.empty
    assert coordinates(scored) == sorted((topic, p, o) for p in range(2) for o in range(20))
    assert sorted(scored["id"]) == list(range(40))
