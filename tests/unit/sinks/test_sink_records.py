"""The Kafka sink's record building: key, headers, JSON value, UTC timestamps."""

import datetime as dt
from decimal import Decimal

import orjson
import pyarrow as pa

from stream_scorer.sinks.kafka import encode_value, record_headers, record_key, utc_batch

PARIS = dt.timezone(dt.timedelta(hours=1))
PREDICTION = {
    "topic": "in",
    "partition": 2,
    "offset": 41,
    "id": "a-1",
    "prediction": 1.0,
    "model_version": "v0003",
}


def test_record_key_is_source_coordinates():
    assert record_key(PREDICTION) == b"in/2/41"


def test_headers_carry_model_version_coordinates_and_batch_id():
    assert record_headers(PREDICTION, 7) == [
        ("model_version", b"v0003"),
        ("source_topic", b"in"),
        ("source_partition", b"2"),
        ("source_offset", b"41"),
        ("batch_id", b"7"),
    ]


def test_headers_omit_model_version_for_dead_letters():
    dead = {"topic": "in", "partition": 0, "offset": 3, "value": b"x", "error": "bad json"}
    assert [name for name, _ in record_headers(dead, 1)] == [
        "source_topic",
        "source_partition",
        "source_offset",
        "batch_id",
    ]


def test_value_encodes_binary_as_base64():
    assert orjson.loads(encode_value({"value": b"\x00\xff{"})) == {"value": "AP97"}


def test_value_encodes_maps_lists_and_decimals():
    row = {"probabilities": {"0": 0.25, "1": 0.75}, "scores": [1, 2], "amount": Decimal("1.10")}
    assert orjson.loads(encode_value(row)) == {
        "probabilities": {"0": 0.25, "1": 0.75},
        "scores": [1, 2],
        "amount": "1.10",
    }


def test_value_encodes_utc_timestamp_with_z():
    stamp = dt.datetime(2024, 5, 1, 8, 30, 0, 250000, tzinfo=dt.timezone.utc)
    assert encode_value({"scored_at": stamp}) == b'{"scored_at":"2024-05-01T08:30:00.250000Z"}'


def test_utc_batch_moves_zoned_timestamps_to_utc_at_every_depth():
    paris = pa.timestamp("us", tz="Europe/Paris")
    stamp = dt.datetime(2024, 1, 1, 13, 0, tzinfo=PARIS)
    batch = pa.RecordBatch.from_pydict(
        {
            "ts": pa.array([stamp], paris),
            "many": pa.array([[stamp]], pa.list_(paris)),
            "by_name": pa.array([[("a", stamp)]], pa.map_(pa.string(), paris)),
            "nested": pa.array([{"at": stamp}], pa.struct([("at", paris)])),
        }
    )
    row = utc_batch(batch).to_pylist(maps_as_pydicts="strict")[0]
    want = '"2024-01-01T12:00:00Z"'
    assert encode_value(row).decode() == (
        f'{{"ts":{want},"many":[{want}],"by_name":{{"a":{want}}},"nested":{{"at":{want}}}}}'
    )


def test_utc_batch_keeps_a_batch_without_zoned_timestamps():
    batch = pa.RecordBatch.from_pydict({"x": [1], "naive": pa.array([0], pa.timestamp("us"))})
    assert utc_batch(batch) is batch
