"""A Kafka sink's Avro values: the rows' schema registered once, the Confluent wire format."""

import datetime
import io
import json

import fastavro
import pyarrow as pa
import pytest
from pydantic import ValidationError

from stream_scorer.config.sink_settings import KafkaSinkConfig
from stream_scorer.sinks import avro_values
from stream_scorer.sinks.avro_values import AvroValues
from tests.schema_registry_stub import SchemaRegistryStub

UTC = datetime.timezone.utc


def test_rows_are_avro_with_a_registered_schema_in_the_wire_format():
    avro_values._IDS.clear()
    at = datetime.datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    batch = pa.RecordBatch.from_pydict(
        {
            "offset": pa.array([7, 8], pa.int64()),
            "partition": pa.array([0, 1], pa.int32()),
            "user.age": pa.array([1.5, None]),
            "prediction": pa.array(["a", "b"]),
            "probabilities": pa.array(
                [[("a", 0.75)], [("b", 1.0)]], pa.map_(pa.string(), pa.float64())
            ),
            "scored_at": pa.array([at, at], pa.timestamp("us", tz="UTC")),
            "key": pa.array([b"k", None], pa.binary()),
        }
    )
    with SchemaRegistryStub() as registry:
        encode = AvroValues("scores", {"url": registry.url})
        values = encode(batch) + encode(batch)

        assert registry.subjects == {"scores-value": [1]}
        schema = fastavro.parse_schema(json.loads(registry.schemas[0]["schema"]))
    assert {v[:5] for v in values} == {b"\x00\x00\x00\x00\x01"}
    rows = [fastavro.schemaless_reader(io.BytesIO(v[5:]), schema, None) for v in values[:2]]
    assert rows == [
        {"offset": 7, "partition": 0, "user_age": 1.5, "prediction": "a",
         "probabilities": {"a": 0.75}, "scored_at": at, "key": b"k"},
        {"offset": 8, "partition": 1, "user_age": None, "prediction": "b",
         "probabilities": {"b": 1.0}, "scored_at": at, "key": None},
    ]  # fmt: skip


@pytest.mark.parametrize(
    "fields",
    [{"format": "avro"}, {"schema_registry": {"url": "http://registry:8081"}}],
)
def test_an_avro_kafka_sink_and_a_registry_go_together(fields):
    with pytest.raises(ValidationError, match="format avro needs schema_registry, and"):
        KafkaSinkConfig(kind="kafka", topic="scores", **fields)
