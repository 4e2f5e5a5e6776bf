"""Avro values -> feature columns: the type table, dotted paths, evolution, and bad input."""

import datetime
import io
import json
import math
from decimal import Decimal

import fastavro
import numpy as np
import pytest

from stream_scorer.config.schema_registry import SchemaRegistryConfig
from stream_scorer.errors import ConfigError, SchemaRegistryUnavailableError
from stream_scorer.features import avro_writers
from stream_scorer.features.avro import AvroDecoder
from stream_scorer.features.avro_writers import FixedWriter, RegistryWriters
from stream_scorer.features.routing import ROUTE_KEY, RoutingDecoder
from tests.schema_registry_stub import SchemaRegistryStub

USER = {
    "type": "record",
    "name": "User",
    "fields": [
        {"name": "age", "type": "int"},
        {"name": "tier", "type": {"type": "enum", "name": "Tier", "symbols": ["free", "paid"]}},
    ],
}
TYPED = {
    "type": "record",
    "name": "Typed",
    "fields": [
        {"name": "d", "type": "double"},
        {"name": "f", "type": "float"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "s", "type": "string"},
        {"name": "b", "type": "boolean"},
        {"name": "maybe", "type": ["null", "double"], "default": None},
        {"name": "user", "type": ["null", USER], "default": None},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {
            "name": "price",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
        },
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
}
ROW = {
    "d": 1.5,
    "f": 0.25,
    "i": 7,
    "l": 2**40,
    "s": "text",
    "b": True,
    "maybe": None,
    "user": {"age": 41, "tier": "paid"},
    "ts": datetime.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc),
    "day": datetime.date(1970, 1, 11),
    "price": Decimal("-12.34"),
    "tags": ["a"],
}


def body(schema: dict, record: dict) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), record)
    return out.getvalue()


def wire(schema_id: int, schema: dict, record: dict) -> bytes:
    return b"\x00" + schema_id.to_bytes(4, "big") + body(schema, record)


def test_each_avro_type_is_read_as_its_declared_type():
    schema = {
        "d": "double", "f": "float", "i": "long", "l": "double", "s": "string", "b": "boolean",
        "user.age": "int", "user.tier": "string", "ts": "long", "day": "int", "price": "double",
    }  # fmt: skip
    decoder = AvroDecoder(FixedWriter(TYPED), schema, {})

    decoded = decoder.decode([body(TYPED, ROW)])

    assert decoded.errors == [None]
    row = decoded.features.iloc[0].to_dict()
    assert row == {
        "d": 1.5, "f": 0.25, "i": 7, "l": float(2**40), "s": "text", "b": True, "user.age": 41,
        "user.tier": "paid", "ts": 1767323045678, "day": 10, "price": -12.34,
    }  # fmt: skip
    assert decoded.features.dtypes.astype(str).to_dict() == {
        "d": "float64", "f": "float64", "i": "int64", "l": "float64", "s": "object",
        "b": "bool", "user.age": "int64", "user.tier": "object", "ts": "int64", "day": "int64",
        "price": "float64",
    }  # fmt: skip


def test_passthrough_fields_are_nullable_and_strings_take_any_scalar():
    passthrough = {"maybe": "double", "user.tier": "string", "l": "string", "absent": "long"}
    decoder = AvroDecoder(FixedWriter(TYPED), {"d": "double"}, passthrough)

    decoded = decoder.decode([body(TYPED, ROW), body(TYPED, {**ROW, "user": None, "maybe": 2.0})])

    assert decoded.errors == [None, None]
    extras = decoded.passthrough.astype(object).where(decoded.passthrough.notna(), None)
    assert extras.to_dict("records") == [
        {"maybe": None, "user.tier": "paid", "l": str(2**40), "absent": None},
        {"maybe": 2.0, "user.tier": None, "l": str(2**40), "absent": None},
    ]


def test_a_field_the_writer_schema_types_otherwise_is_every_records_reason():
    decoder = AvroDecoder(FixedWriter(TYPED), {"s": "double", "tags": "string", "b": "long"}, {})

    decoded = decoder.decode([body(TYPED, ROW)] * 2)

    reason = (
        "field 's' is Avro string in the writer schema, not double; field 'tags' is Avro array "
        "in the writer schema, not string; field 'b' is Avro boolean in the writer schema, not long"
    )
    assert decoded.errors == [reason, reason]


def test_null_and_non_finite_features_are_reasons_unless_nullable():
    decoder = AvroDecoder(FixedWriter(TYPED), {"maybe": "double", "user.age": "long"}, {})
    nullable = AvroDecoder(FixedWriter(TYPED), {"maybe": "double"}, {}, nullable=["maybe"])
    values = [body(TYPED, {**ROW, "user": None}), body(TYPED, {**ROW, "maybe": math.inf})]

    assert decoder.decode(values).errors == [
        "field 'maybe' is null or missing",
        "field 'maybe': not a finite number",
    ]
    decoded = nullable.decode(values)
    assert decoded.errors == [None, "field 'maybe': not a finite number"]
    assert math.isnan(decoded.features["maybe"][0])


def test_bodies_that_do_not_decode_are_reasons_and_their_neighbours_are_read():
    good = body(TYPED, ROW)
    decoder = AvroDecoder(FixedWriter(TYPED), {"d": "double"}, {})

    decoded = decoder.decode([good, good[:-3], good, good + b"\x00", None, good[:-1]])

    errors = decoded.errors
    assert [e is None for e in errors] == [True, False, True, False, False, False]
    assert errors[1].startswith(f"Avro body of {len(good) - 3} bytes does not decode with the")
    assert errors[3].startswith(f"Avro body of {len(good) + 1} bytes does not decode with the")
    assert errors[4] == "value is null (tombstone)"
    assert errors[5].startswith(f"Avro body of {len(good) - 1} bytes does not decode with the")
    assert list(decoded.features["d"]) == [1.5, 0.0, 1.5, 0.0, 0.0, 0.0]


V1 = {"type": "record", "name": "F", "fields": [{"name": "f0", "type": "double"}]}
V2 = {
    "type": "record",
    "name": "F",
    "fields": [
        {"name": "f0", "type": "double"},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "geo", "type": {"type": "record", "name": "Geo", "fields": [
            {"name": "lat", "type": "double"}]}},
    ],
}  # fmt: skip


@pytest.fixture
def registry():
    """A registry stand-in; this process's cache of writer schemas starts empty, as a new
    registry's ids would otherwise meet schemas cached from another on a reused port."""
    avro_writers._SCHEMAS.clear()
    with SchemaRegistryStub() as stub:
        yield stub


def _decoder(stub: SchemaRegistryStub, schema: dict, passthrough=None, **kwargs) -> AvroDecoder:
    config = SchemaRegistryConfig(url=stub.url, max_retries=1, retry_wait_ms=10)
    return AvroDecoder(RegistryWriters(config), schema, passthrough or {}, **kwargs)


def test_each_record_is_read_with_its_writer_schema_fetched_once_per_process(registry):
    v1 = registry.register("t-value", json.dumps(V1))
    v2 = registry.register("t-value", json.dumps(V2))
    decoder = _decoder(registry, {"f0": "double"}, {"note": "string", "geo.lat": "double"})
    values = [
        wire(v1, V1, {"f0": 1.0}),
        wire(v2, V2, {"f0": 2.0, "note": "hi", "geo": {"lat": 0.5}}),
    ] * 50

    for _ in range(3):
        decoded = decoder.decode(values)

    assert decoded.errors == [None] * 100
    assert list(decoded.features["f0"][:2]) == [1.0, 2.0]
    assert decoded.passthrough["note"].tolist()[:2] == [None, "hi"]
    assert registry.calls["schema_by_id"] == 2


def test_a_writer_schema_without_a_feature_is_the_reason_unless_nullable(registry):
    v1 = registry.register("u-value", json.dumps(V1))
    v2 = registry.register("u-value", json.dumps(V2))
    values = [wire(v1, V1, {"f0": 1.0}), wire(v2, V2, {"f0": 2.0, "geo": {"lat": 0.5}})]

    strict = _decoder(registry, {"f0": "double", "geo.lat": "double"}).decode(values)
    lenient = _decoder(registry, {"f0": "double", "geo.lat": "double"}, nullable=["geo.lat"])

    assert strict.errors == [
        f"schema id {v1} has no field 'geo.lat' (a feature, not nullable)",
        None,
    ]
    decoded = lenient.decode(values)
    assert decoded.errors == [None, None]
    np.testing.assert_array_equal(decoded.features["geo.lat"], [math.nan, 0.5])


def test_wrong_magic_byte_short_value_and_unknown_id_are_reasons(registry):
    v1 = registry.register("w-value", json.dumps(V1))
    good = wire(v1, V1, {"f0": 1.0})
    decoder = _decoder(registry, {"f0": "double"})

    decoded = decoder.decode([b"\x01" + good[1:], b"\x00\x00", wire(99, V1, {"f0": 1.0}), good])

    assert decoded.errors == [
        "magic byte is 1, expected 0 (Confluent wire format)",
        "value has 2 bytes, too short for the Confluent wire format (magic byte 0, 4-byte "
        "schema id, Avro body)",
        f"schema id 99 is not in the Schema Registry at {registry.url}",
        None,
    ]


def test_an_unreachable_registry_raises_instead_of_naming_records(registry):
    v1 = registry.register("x-value", json.dumps(V1))
    decoder = _decoder(registry, {"f0": "double"})
    registry.stop()

    with pytest.raises(SchemaRegistryUnavailableError, match=r"did not give schema id \d+ after"):
        decoder.decode([wire(v1, V1, {"f0": 1.0})])


def test_a_fixed_schema_without_a_declared_feature_fails_at_start():
    decoder = AvroDecoder(FixedWriter(V1), {"f0": "double", "f9": "double"}, {})

    with pytest.raises(ConfigError, match=r"features\.avro_schema does not fit features: the "):
        decoder.check()


def test_a_family_routes_by_an_avro_field():
    decoder = RoutingDecoder(AvroDecoder(FixedWriter(TYPED), {"d": "double"}, {"s": "string"}), "s")

    decoded = decoder.decode([body(TYPED, ROW), body(TYPED, {**ROW, "s": "other"})])

    assert decoded.errors == [None, None]
    assert decoded.features[ROUTE_KEY].tolist() == ["text", "other"]


FLAT = {  # no union: read as columns
    "type": "record",
    "name": "Flat",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "x", "type": "double"},
        {"name": "y", "type": "float"},
        {"name": "z", "type": "double"},
        {"name": "user", "type": {"type": "record", "name": "U", "fields": [
            {"name": "age", "type": "int"}, {"name": "ok", "type": "boolean"}]}},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}  # fmt: skip
FLAT_SCHEMA = {"x": "double", "y": "float", "user.age": "long", "user.ok": "boolean", "ts": "long"}


def test_simple_schemas_are_read_as_columns_with_the_values_fastavro_reads():
    rows = [
        {"id": i * 7919 - 40000, "x": i / 3, "y": 0.5 * i, "z": -i, "ts": 2**41 + i,
         "user": {"age": i - 50, "ok": i % 3 == 0}}
        for i in range(100)
    ]  # fmt: skip
    values = [body(FLAT, row) for row in rows]
    decoder = AvroDecoder(FixedWriter(FLAT), FLAT_SCHEMA, {"id": "string"})

    decoded = decoder.decode(values)

    assert decoder.plan(0).layout is not None
    assert decoded.errors == [None] * 100
    assert decoded.features.to_dict("records") == [
        {"x": r["x"], "y": r["y"], "user.age": r["user"]["age"], "user.ok": r["user"]["ok"],
         "ts": r["ts"]}
        for r in rows
    ]  # fmt: skip
    assert decoded.passthrough["id"].tolist() == [str(r["id"]) for r in rows]


def test_simple_bodies_that_do_not_decode_get_the_readers_reason():
    good = body(
        FLAT, {"id": 1, "x": 1.0, "y": 2.0, "z": 3.0, "ts": 4, "user": {"age": 5, "ok": True}}
    )
    not_a_boolean = good[:-2] + b"\x07" + good[-1:]
    decoder = AvroDecoder(FixedWriter(FLAT), FLAT_SCHEMA, {})

    decoded = decoder.decode([good, good[:-1], good, good + b"\x01", not_a_boolean, good[:1]])

    errors = decoded.errors
    assert [e is None for e in errors] == [True, False, True, False, False, False]
    assert errors[1].startswith(f"Avro body of {len(good) - 1} bytes does not decode with the")
    assert errors[3].startswith(f"Avro body of {len(good) + 1} bytes does not decode with the")
    assert errors[5].startswith("Avro body of 1 bytes does not decode with the writer schema")
    assert decoded.features["x"].tolist() == [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]


def test_an_avro_long_out_of_a_declared_int_range_is_the_reason():
    decoder = AvroDecoder(FixedWriter(TYPED), {"d": "double", "l": "int"}, {"id": "int"})
    as_passthrough = AvroDecoder(FixedWriter(TYPED), {"d": "double"}, {"l": "int"})

    assert decoder.decode([body(TYPED, ROW)]).errors == [
        f"field 'l': {2**40} is out of range for int"
    ]
    assert as_passthrough.decode([body(TYPED, ROW), body(TYPED, {**ROW, "l": 5})]).errors == [
        f"field 'l': {2**40} is out of range for int",
        None,
    ]


def test_a_routed_decoder_checks_its_inner_one_at_start():
    inner = AvroDecoder(FixedWriter(V1), {"f0": "double", "f9": "double"}, {})

    with pytest.raises(ConfigError, match=r"has no field 'f9'"):
        RoutingDecoder(inner, "f0").check()


OPTIONAL = {  # unions with null, in either order: still read as columns
    "type": "record",
    "name": "Optional",
    "fields": [
        {"name": "a", "type": ["null", "double"]},
        {"name": "b", "type": ["double", "null"]},
        {"name": "c", "type": ["null", "long"]},
        {"name": "d", "type": ["null", "boolean"]},
        {"name": "e", "type": "double"},
    ],
}


def test_unions_with_null_are_read_as_columns_with_their_nulls():
    rng = np.random.default_rng(5)
    rows = [
        {"a": None if i % 3 == 0 else float(i), "b": None if i % 4 == 0 else -float(i),
         "c": None if i % 5 == 0 else int(rng.integers(-(2**40), 2**40)),
         "d": None if i % 2 == 0 else bool(i % 3), "e": i / 7}
        for i in range(60)
    ]  # fmt: skip
    schema = {"a": "double", "b": "double", "e": "double"}
    decoder = AvroDecoder(FixedWriter(OPTIONAL), schema, {"c": "long", "d": "boolean"}, ["a"])

    decoded = decoder.decode([body(OPTIONAL, row) for row in rows])

    assert decoder.plan(0).layout is not None
    assert decoded.errors == [
        "field 'b' is null or missing" if i % 4 == 0 else None for i in range(60)
    ]
    good = [i for i in range(60) if i % 4]
    np.testing.assert_array_equal(
        decoded.features["a"][good], [math.nan if i % 3 == 0 else float(i) for i in good]
    )
    assert decoded.features["b"][good].tolist() == [-float(i) for i in good]
    assert decoded.features["e"][good].tolist() == [rows[i]["e"] for i in good]
    extras = decoded.passthrough.astype(object).where(decoded.passthrough.notna(), None)
    assert extras["c"].tolist() == [r["c"] for r in rows]
    assert extras["d"].tolist() == [r["d"] for r in rows]


WORDS = {  # strings, bytes, enums and a uuid are read as columns too
    "type": "record",
    "name": "Words",
    "fields": [
        {"name": "s", "type": "string"},
        {"name": "maybe", "type": ["null", "string"]},
        {"name": "raw", "type": "bytes"},
        {"name": "tier", "type": {"type": "enum", "name": "T", "symbols": ["free", "paid"]}},
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "x", "type": "double"},
    ],
}


def test_strings_and_enums_are_read_as_columns_and_bad_ones_named():
    rows = [
        {"s": "é" * (i % 3), "maybe": None if i % 2 else f"m{i}", "raw": b"\x00" * i,
         "tier": "paid" if i % 3 else "free", "id": f"00000000-0000-0000-0000-{i:012d}",
         "x": float(i)}
        for i in range(30)
    ]  # fmt: skip
    values = [body(WORDS, row) for row in rows]
    values[4] = values[4][:-9]  # truncated
    values[7] = values[7][:1] + b"\xff" + values[7][2:]  # not UTF-8 (the first string's byte)
    schema = {"s": "string", "tier": "string", "x": "double"}
    decoder = AvroDecoder(FixedWriter(WORDS), schema, {"maybe": "string", "id": "string"})

    decoded = decoder.decode(values)

    assert decoder.plan(0).layout is not None
    bad = {4, 7}
    assert [e is not None for e in decoded.errors] == [i in bad for i in range(30)]
    good = [i for i in range(30) if i not in bad]
    assert decoded.features.loc[good].to_dict("records") == [
        {"s": rows[i]["s"], "tier": rows[i]["tier"], "x": rows[i]["x"]} for i in good
    ]
    assert decoded.passthrough.loc[good, "maybe"].tolist() == [rows[i]["maybe"] for i in good]
    assert decoded.passthrough.loc[good, "id"].tolist() == [rows[i]["id"] for i in good]


def test_a_null_string_reads_no_bytes_whatever_follows_it():
    schema = {
        "type": "record",
        "name": "Note",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "note", "type": ["null", "string"]},
            {"name": "x", "type": {"type": "enum", "name": "X", "symbols": ["a", "b"]}},
        ],
    }  # after a null note: 0x02 (symbol 1), then the next id, 0x80 and up from 64 on
    rows = [{"id": i, "note": None if i % 2 else "n", "x": "b"} for i in range(200)]
    decoder = AvroDecoder(FixedWriter(schema), {"x": "string"}, {"note": "string"})

    decoded = decoder.decode([body(schema, row) for row in rows])

    assert decoded.errors == [None] * 200
    assert decoded.passthrough["note"].tolist() == [r["note"] for r in rows]
