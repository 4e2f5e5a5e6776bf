"""Output options through a real query: the Kafka key and the parsed features on prediction
rows, and records missing a passthrough field dead-lettered when asked."""

import orjson
import pytest

from stream_scorer.runtime.scorer import Scorer
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import (
    NUMERIC,
    encode,
    publish,
    read_sink,
    records,
    score_once,
    scorer_config,
)

pytestmark = pytest.mark.integration

TYPED = {"f0": "double", "f1": "double", "f2": "double", "f3": "long"}


def test_prediction_rows_carry_the_string_key_and_the_typed_features(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 2)
    recs = [{**r, "f3": r["id"] * 10} for r in records(range(40), TYPED)]
    by_partition = spread(encode(recs), 2)
    produce_exact(bootstrap, topic, by_partition)  # key of each record: "<partition>-<offset>"
    publish(tmp_path / "models", "binary", TYPED)
    output = {"include_key": True, "key_format": "string", "include_features": True}
    config = scorer_config(tmp_path, bootstrap, topic, TYPED, output=output)

    assert Scorer(config, spark=spark, once=True).run() == 0

    scored = read_sink(spark, tmp_path / "predictions").sort_values("id")
    assert list(scored.columns[:10]) == [
        "topic", "partition", "offset", "timestamp", "key", "f0", "f1", "f2", "f3", "id",
    ]  # fmt: skip
    assert scored["key"].tolist() == [
        f"{p}-{o}" for p, o in zip(scored["partition"], scored["offset"], strict=True)
    ]
    assert scored["f3"].dtype == "int64"
    assert scored["f3"].tolist() == [r["f3"] for r in recs]
    assert scored["f1"].tolist() == [r["f1"] for r in recs]


def test_prediction_rows_carry_the_key_bytes_by_default_format(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    produce_exact(bootstrap, topic, {0: encode(records(range(5), NUMERIC))})
    publish(tmp_path / "models", "binary", NUMERIC)
    config = scorer_config(tmp_path, bootstrap, topic, output={"include_key": True})

    assert Scorer(config, spark=spark, once=True).run() == 0

    scored = read_sink(spark, tmp_path / "predictions").sort_values("offset")
    assert [bytes(k) for k in scored["key"]] == [f"0-{o}".encode() for o in range(5)]
    assert "f0" not in scored.columns


def test_prediction_rows_without_output_options_have_no_key_or_features(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    produce_exact(bootstrap, topic, {0: encode(records(range(3), NUMERIC))})
    publish(tmp_path / "models", "binary", NUMERIC)

    assert score_once(spark, tmp_path, bootstrap, topic) == 0

    columns = set(read_sink(spark, tmp_path / "predictions").columns)
    assert columns.isdisjoint({"key", "value", "f0", "f1", "f2", "f3"})


def test_record_missing_a_passthrough_field_is_dead_lettered_when_asked(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    recs = records(range(6), NUMERIC)
    del recs[2]["id"]
    recs[4]["id"] = None  # present but null: still null, not missing
    produce_exact(bootstrap, topic, {0: encode(recs)})
    publish(tmp_path / "models", "binary", NUMERIC)
    features = {
        "schema": NUMERIC,
        "passthrough": {"id": "long"},
        "missing_passthrough": "dead_letter",
    }
    config = scorer_config(tmp_path, bootstrap, topic, features=features)

    assert Scorer(config, spark=spark, once=True).run() == 0

    scored = read_sink(spark, tmp_path / "predictions").sort_values("offset")
    dead = read_sink(spark, tmp_path / "dead-letter")
    assert scored["offset"].tolist() == [0, 1, 3, 4, 5]
    assert dead["offset"].tolist() == [2]
    assert dead["error"].tolist() == ["missing passthrough field 'id'"]
    assert orjson.loads(bytes(dead["value"].iloc[0])) == recs[2]
