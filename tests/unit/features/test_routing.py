"""RoutingDecoder: the model.route_by field beside the features; a null key is a bad row."""

import orjson

from stream_scorer.features.json_parser import JsonDecoder
from stream_scorer.features.routing import ROUTE_KEY, RoutingDecoder

SCHEMA = {"f0": "double", "f1": "double"}


def _decode(passthrough: dict, route_by: str, records: list[dict], schema: dict = SCHEMA):
    decoder = RoutingDecoder(JsonDecoder(schema, passthrough), route_by)
    return decoder.decode([orjson.dumps(r) for r in records])


def test_passthrough_key_goes_in_the_route_key_column() -> None:
    decoded = _decode({"store": "string"}, "store", [{"f0": 1, "f1": 2, "store": "a"}])

    assert decoded.features[ROUTE_KEY].tolist() == ["a"]
    assert decoded.features[["f0", "f1"]].to_numpy().tolist() == [[1.0, 2.0]]
    assert decoded.passthrough["store"].tolist() == ["a"]
    assert decoded.errors == [None]


def test_null_or_missing_key_is_a_row_error_naming_the_field() -> None:
    records = [
        {"f0": 1, "f1": 2, "store": None},
        {"f0": 1, "f1": 2},
        {"f0": 1, "f1": 2, "store": 7},
    ]

    decoded = _decode({"store": "long"}, "store", records)

    reason = "field 'store' (model.route_by) is null or missing"
    assert decoded.errors == [reason, reason, None]
    assert decoded.features[ROUTE_KEY].tolist()[2] == 7


def test_a_row_that_already_failed_keeps_its_first_reason() -> None:
    decoded = _decode({"store": "string"}, "store", [{"f0": "x", "f1": 2}])

    assert decoded.errors == ["field 'f0': expected double, got string \"x\""]


def test_feature_key_is_read_from_the_features() -> None:
    schema = {"f0": "double", "store": "string"}

    decoded = _decode({}, "store", [{"f0": 1, "store": "b"}], schema)

    assert decoded.features[ROUTE_KEY].tolist() == ["b"]
    assert decoded.errors == [None]
