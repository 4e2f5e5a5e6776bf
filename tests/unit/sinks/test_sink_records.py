"""The Kafka sink's record building: keys, headers, JSON values, column-wise row conversion."""

import datetime as dt
from decimal import Decimal

import orjson
import pyarrow as pa

from stream_scorer.sinks.kafka import batch_rows, encode_value, record_headers, record_keys

PARIS = pa.timestamp("us", tz="Europe/Paris")
NOON_UTC_IN_PARIS = dt.datetime(
    2024, 1, 1, 13, 0, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=1))
)
PREDICTIONS = pa.RecordBatch.from_pydict(
    {
        "topic": ["in", "in"],
        "partition": pa.array([2, 0], pa.int32()),
        "offset": pa.array([41, 7], pa.int64()),
        "prediction": [1.0, 0.0],
        "model_version": ["v0003", "v0003"],
    }
)
DEAD_LETTERS = pa.RecordBatch.from_pydict(
    {"topic": ["in"], "partition": [0], "offset": [3], "value": [b"x"], "error": ["bad json"]}
)


def test_record_keys_are_source_coordinates():
    assert record_keys(PREDICTIONS) == [b"in/2/41", b"in/0/7"]


def test_headers_carry_model_version_coordinates_and_batch_id():
    assert record_headers(PREDICTIONS, 7)[0] == [
        ("model_version", b"v0003"),
        ("source_topic", b"in"),
        ("source_partition", b"2"),
        ("source_offset", b"41"),
        ("batch_id", b"7"),
    ]


def test_headers_omit_model_version_for_dead_letters():
    assert record_headers(DEAD_LETTERS, 1) == [
        [
            ("source_topic", b"in"),
            ("source_partition", b"0"),
            ("source_offset", b"3"),
            ("batch_id", b"1"),
        ]
    ]


def test_headers_omit_a_null_model_version():
    batch = PREDICTIONS.set_column(4, "model_version", pa.array([None, "v1"], pa.string()))
    first, second = record_headers(batch, 1)
    assert [name for name, _ in first] == [
        "source_topic",
        "source_partition",
        "source_offset",
        "batch_id",
    ]
    assert second[0] == ("model_version", b"v1")


def test_value_encodes_binary_as_base64():
    assert orjson.loads(encode_value({"value": b"\x00\xff{"})) == {"value": "AP97"}


def test_value_encodes_maps_lists_and_decimals():
    row = {"probabilities": {"0": 0.25, "1": 0.75}, "scores": [1, 2], "amount": Decimal("1.10")}
    assert orjson.loads(encode_value(row)) == {
        "probabilities": {"0": 0.25, "1": 0.75},
        "scores": [1, 2],
        "amount": "1.10",
    }


def test_value_encodes_utc_datetime_with_z():
    stamp = dt.datetime(2024, 5, 1, 8, 30, 0, 250000, tzinfo=dt.timezone.utc)
    assert encode_value({"scored_at": stamp}) == b'{"scored_at":"2024-05-01T08:30:00.250000Z"}'


def test_rows_have_top_level_timestamps_as_iso_utc_strings():
    batch = pa.RecordBatch.from_pydict(
        {
            "ts": pa.array([NOON_UTC_IN_PARIS, None], PARIS),
            "naive": pa.array([0, 0], pa.timestamp("s")),
        }
    )
    assert batch_rows(batch) == [
        {"ts": "2024-01-01T12:00:00.250000Z", "naive": dt.datetime(1970, 1, 1)},
        {"ts": None, "naive": dt.datetime(1970, 1, 1)},
    ]


def test_rows_have_nested_timestamps_in_utc():
    batch = pa.RecordBatch.from_pydict(
        {
            "many": pa.array([[NOON_UTC_IN_PARIS]], pa.list_(PARIS)),
            "by_name": pa.array([[("a", NOON_UTC_IN_PARIS)]], pa.map_(pa.string(), PARIS)),
            "nested": pa.array([{"at": NOON_UTC_IN_PARIS}], pa.struct([("at", PARIS)])),
        }
    )
    want = '"2024-01-01T12:00:00.250000Z"'
    assert encode_value(batch_rows(batch)[0]).decode() == (
        f'{{"many":[{want}],"by_name":{{"a":{want}}},"nested":{{"at":{want}}}}}'
    )


def test_rows_have_maps_as_dicts_in_a_sliced_batch():
    maps = pa.array(
        [[("a", 1.0)], [("b", 2.0), ("c", 3.0)], [], [("d", 4.0)]],
        pa.map_(pa.string(), pa.float64()),
    )
    batch = pa.RecordBatch.from_arrays([maps], ["m"]).slice(1, 3)
    assert batch_rows(batch) == [{"m": {"b": 2.0, "c": 3.0}}, {"m": {}}, {"m": {"d": 4.0}}]


def test_rows_keep_null_maps():
    maps = pa.array([[("a", 1.0)], None], pa.map_(pa.string(), pa.float64()))
    assert batch_rows(pa.RecordBatch.from_arrays([maps], ["m"])) == [{"m": {"a": 1.0}}, {"m": None}]


def test_rows_with_key_and_features_encode_as_base64_and_typed_numbers():
    batch = pa.RecordBatch.from_pydict(
        {
            "topic": ["in", "in"],
            "key": pa.array([b"user-1", None], pa.binary()),
            "visits": pa.array([3, 0], pa.int64()),
            "spend": [2.5, 0.0],
            "prediction": [1, 0],
        }
    )

    values = [orjson.loads(encode_value(row)) for row in batch_rows(batch)]

    assert values == [
        {"topic": "in", "key": "dXNlci0x", "visits": 3, "spend": 2.5, "prediction": 1},
        {"topic": "in", "key": None, "visits": 0, "spend": 0.0, "prediction": 0},
    ]
