"""The Kafka sinks' record building: keys, headers, JSON values built column by column."""

import datetime as dt
import math
from decimal import Decimal

import orjson
import pyarrow as pa

from stream_scorer.sinks.json_values import json_values
from stream_scorer.sinks.kafka_producer import record_headers, record_keys

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


def _values(**columns: pa.Array) -> list[dict]:
    batch = pa.RecordBatch.from_pydict(columns)
    return [orjson.loads(value) for value in json_values(batch)]


def test_value_encodes_binary_as_base64():
    assert _values(value=pa.array([b"\x00\xff{", None])) == [{"value": "AP97"}, {"value": None}]


def test_value_encodes_maps_lists_and_decimals():
    values = _values(
        probabilities=pa.array([[("0", 0.25), ("1", 0.75)]], pa.map_(pa.string(), pa.float64())),
        scores=pa.array([[1, 2]]),
        amount=pa.array([Decimal("1.10")]),
    )
    assert values == [{"probabilities": {"0": 0.25, "1": 0.75}, "scores": [1, 2], "amount": "1.10"}]


def test_value_encodes_utc_timestamp_with_z():
    stamp = dt.datetime(2024, 5, 1, 8, 30, 0, 250000, tzinfo=dt.timezone.utc)
    batch = pa.RecordBatch.from_pydict({"scored_at": pa.array([stamp], pa.timestamp("us", "UTC"))})
    assert json_values(batch) == [b'{"scored_at":"2024-05-01T08:30:00.250000Z"}']


def test_values_have_top_level_timestamps_as_iso_utc_strings_with_the_unit_s_digits():
    batch = pa.RecordBatch.from_pydict(
        {
            "ts": pa.array([NOON_UTC_IN_PARIS, None], PARIS),
            "ms": pa.array([NOON_UTC_IN_PARIS, None], PARIS).cast(pa.timestamp("ms", "UTC")),
            "naive": pa.array([0, 0], pa.timestamp("s")),
        }
    )
    assert [orjson.loads(v) for v in json_values(batch)] == [
        {
            "ts": "2024-01-01T12:00:00.250000Z",
            "ms": "2024-01-01T12:00:00.250Z",
            "naive": "1970-01-01T00:00:00",
        },
        {"ts": None, "ms": None, "naive": "1970-01-01T00:00:00"},
    ]


def test_values_have_nested_timestamps_in_utc():
    batch = pa.RecordBatch.from_pydict(
        {
            "many": pa.array([[NOON_UTC_IN_PARIS]], pa.list_(PARIS)),
            "by_name": pa.array([[("a", NOON_UTC_IN_PARIS)]], pa.map_(pa.string(), PARIS)),
            "nested": pa.array([{"at": NOON_UTC_IN_PARIS}], pa.struct([("at", PARIS)])),
        }
    )
    want = '"2024-01-01T12:00:00.250000Z"'
    assert json_values(batch)[0].decode() == (
        f'{{"many":[{want}],"by_name":{{"a":{want}}},"nested":{{"at":{want}}}}}'
    )


def test_values_have_maps_as_objects_in_a_sliced_batch_with_null_maps_and_items():
    maps = pa.array(
        [[("a", 1.0)], [("b", 2.0), ("c", None)], None, [], [("d", 4.0)]],
        pa.map_(pa.string(), pa.float64()),
    )
    batch = pa.RecordBatch.from_arrays([maps], ["m"]).slice(1, 4)
    assert json_values(batch) == [
        b'{"m":{"b":2.0,"c":null}}',
        b'{"m":null}',
        b'{"m":{}}',
        b'{"m":{"d":4.0}}',
    ]


def test_values_have_lists_as_arrays_in_a_sliced_batch_with_null_lists_and_items():
    lists = pa.array([[0.5], [0.25, None], None, [], [1.0, 0.0]], pa.list_(pa.float64()))
    batch = pa.RecordBatch.from_arrays([lists], ["p"]).slice(1, 4)
    expected = [b'{"p":[0.25,null]}', b'{"p":null}', b'{"p":[]}', b'{"p":[1.0,0.0]}']
    assert json_values(batch) == expected


def test_values_escape_strings_and_keys_as_json_does():
    batch = pa.RecordBatch.from_pydict(
        {
            "id": ['say "hi"\n', "caf\u00e9", None],
            "m": pa.array([[('k"1', "v\t")], [], None], pa.map_(pa.string(), pa.string())),
        }
    )
    assert [orjson.loads(v) for v in json_values(batch)] == [
        {"id": 'say "hi"\n', "m": {'k"1': "v\t"}},
        {"id": "caf\u00e9", "m": {}},
        {"id": None, "m": None},
    ]


def test_values_write_numbers_as_python_floats_and_non_finite_ones_as_null():
    values = _values(
        f=pa.array([1.0, 0.1, 1e20, float("nan"), math.inf, None]),
        f32=pa.array([0.5, 0.1, 2.0, None, None, 1.0], pa.float32()),
        b=pa.array([True, False, None, True, True, False]),
        u=pa.array([1, 2, 3, 4, 5, 255], pa.uint8()),
    )
    assert [v["f"] for v in values] == [1.0, 0.1, 1e20, None, None, None]
    tenth = pa.scalar(0.1, pa.float32()).as_py()  # 0.10000000149011612, as Spark's float
    assert [v["f32"] for v in values] == [0.5, tenth, 2.0, None, None, 1.0]
    assert [v["b"] for v in values] == [True, False, None, True, True, False]
    assert [v["u"] for v in values][-1] == 255


def test_values_of_a_batch_without_rows_or_columns():
    assert json_values(PREDICTIONS.slice(0, 0)) == []
    maps = pa.array([], pa.map_(pa.string(), pa.int64()))
    assert json_values(pa.RecordBatch.from_pydict({"m": maps})) == []
    assert json_values(pa.RecordBatch.from_pydict({})) == []


def test_values_with_key_and_features_encode_as_base64_and_typed_numbers():
    batch = pa.RecordBatch.from_pydict(
        {
            "topic": ["in", "in"],
            "key": pa.array([b"user-1", None], pa.binary()),
            "visits": pa.array([3, 0], pa.int64()),
            "spend": [2.5, 0.0],
            "prediction": [1, 0],
        }
    )

    values = [orjson.loads(value) for value in json_values(batch)]

    assert values == [
        {"topic": "in", "key": "dXNlci0x", "visits": 3, "spend": 2.5, "prediction": 1},
        {"topic": "in", "key": None, "visits": 0, "spend": 0.0, "prediction": 0},
    ]
