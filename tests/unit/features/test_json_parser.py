"""parse_json: typed columns, one precise reason per bad record, fast path == general path."""

import numpy as np
import orjson
import pandas as pd
import pytest

from stream_scorer.features import json_parser
from stream_scorer.features.json_parser import parse_json

DOUBLES = {"f0": "double", "f1": "double", "f2": "double", "f3": "double"}
MIXED = {"f0": "double", "n": "long", "flag": "boolean", "text": "string"}


def _good(**changes: object) -> dict:
    record = {"f0": 1.5, "f1": 2, "f2": -3.25, "f3": 0.0}
    record.update(changes)
    return record


def _error(value: bytes | None, schema: dict = DOUBLES, passthrough: dict | None = None):
    return parse_json([value], schema, passthrough or {}).errors[0]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "value is null (tombstone)"),
        (b"", "value is empty"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "JSON value is a list, expected an object"),
        (b'"text"', "JSON value is a string, expected an object"),
        (b"3", "JSON value is a number, expected an object"),
        (b"null", "JSON value is null, expected an object"),
        (orjson.dumps({"f0": 1, "f1": 2, "f3": 3}), "missing field 'f2'"),
        (orjson.dumps(_good(f1="abc")), "field 'f1': expected double, got string \"abc\""),
        (orjson.dumps(_good(f0=True)), "field 'f0': expected double, got boolean"),
        (orjson.dumps(_good(f0=None)), "field 'f0': expected double, got null"),
        (orjson.dumps(_good(f0=[1])), "field 'f0': expected double, got list"),
        (b'{"f0": 1, "f1": 2, "f2": 3, "f3": NaN}', "field 'f3': not a finite number"),
        (b'{"f0": 1, "f1": 2, "f2": 3, "f3": 1e400}', "field 'f3': not a finite number"),
    ],
)
def test_bad_record_gets_its_reason(value: bytes | None, reason: str) -> None:
    assert _error(value) == reason


def test_invalid_json_reason_quotes_orjson() -> None:
    assert (
        _error(b'{"f0": 1,') == "not valid JSON: unexpected end of data: line 1 column 10 (char 9)"
    )


def test_nan_in_an_undeclared_field_is_still_invalid_json() -> None:
    value = b'{"f0": 1, "f1": 2, "f2": 3, "f3": 4, "other": NaN}'
    assert _error(value).startswith("not valid JSON: ")


def test_several_field_problems_are_all_named() -> None:
    value = orjson.dumps({"f0": "x", "f1": False, "f3": 1})
    assert _error(value) == (
        "field 'f0': expected double, got string \"x\"; "
        "field 'f1': expected double, got boolean; missing field 'f2'"
    )


def test_long_field_rejects_fraction() -> None:
    value = orjson.dumps({"f0": 1.0, "n": 1.5, "flag": True, "text": "a"})
    assert _error(value, MIXED) == "field 'n': expected long, got 1.5"


def test_long_field_rejects_out_of_range() -> None:
    value = orjson.dumps({"f0": 1.0, "n": 2**63, "flag": True, "text": "a"})
    assert _error(value, MIXED) == f"field 'n': {2**63} is out of range for long"


def test_string_feature_rejects_number() -> None:
    value = orjson.dumps({"f0": 1.0, "n": 1, "flag": True, "text": 7})
    assert _error(value, MIXED) == "field 'text': expected string, got 7"


def test_boolean_feature_rejects_number() -> None:
    value = orjson.dumps({"f0": 1.0, "n": 1, "flag": 1, "text": "a"})
    assert _error(value, MIXED) == "field 'flag': expected boolean, got 1"


def test_mixed_schema_columns_are_typed_in_schema_order() -> None:
    values = [
        orjson.dumps({"text": "hi", "flag": True, "n": 3, "f0": 2, "extra": {"x": 1}}),
        orjson.dumps({"f0": 0.5, "n": 4.0, "flag": False, "text": "yo"}),
    ]
    parsed = parse_json(values, MIXED, {})
    assert parsed.errors == [None, None]
    assert list(parsed.features.columns) == ["f0", "n", "flag", "text"]
    assert parsed.features.dtypes.astype(str).tolist() == ["float64", "int64", "bool", "object"]
    assert parsed.features.to_dict("list") == {
        "f0": [2.0, 0.5],
        "n": [3, 4],
        "flag": [True, False],
        "text": ["hi", "yo"],
    }


def test_error_rows_hold_placeholders() -> None:
    parsed = parse_json(
        [b"", orjson.dumps({"f0": 1, "n": 2, "flag": True, "text": "t"})], MIXED, {}
    )
    assert parsed.features.iloc[0].tolist() == [0.0, 0, False, ""]
    assert parsed.features.iloc[1].tolist() == [1.0, 2, True, "t"]


def test_numeric_schema_reads_ints_as_doubles() -> None:
    parsed = parse_json([orjson.dumps(_good())], DOUBLES, {})
    assert parsed.features.dtypes.astype(str).tolist() == ["float64"] * 4
    assert parsed.features.iloc[0].tolist() == [1.5, 2.0, -3.25, 0.0]


def test_missing_and_null_passthrough_are_null_not_errors() -> None:
    values = [orjson.dumps(_good(id=7, tag="a")), orjson.dumps(_good(tag=None))]
    parsed = parse_json(values, DOUBLES, {"id": "long", "tag": "string"})
    assert parsed.errors == [None, None]
    assert parsed.passthrough["id"].dtype == "Int64"
    assert parsed.passthrough["id"].tolist() == [7, pd.NA]
    assert parsed.passthrough["tag"].tolist() == ["a", None]


def test_string_passthrough_keeps_json_text_of_any_value() -> None:
    values = [orjson.dumps(_good(tag=v)) for v in (12, 1.5, True, {"a": [1]}, [1, "x"])]
    parsed = parse_json(values, DOUBLES, {"tag": "string"})
    assert parsed.passthrough["tag"].tolist() == ["12", "1.5", "true", '{"a":[1]}', '[1,"x"]']


def test_passthrough_type_mismatch_is_an_error() -> None:
    value = orjson.dumps(_good(id="seven"))
    assert (
        _error(value, DOUBLES, {"id": "long"}) == "field 'id': expected long, got string \"seven\""
    )


def test_passthrough_of_bad_rows_is_null() -> None:
    parsed = parse_json(
        [b"", orjson.dumps(_good(id=1, ok=True))], DOUBLES, {"id": "long", "ok": "boolean"}
    )
    assert parsed.passthrough["id"].tolist() == [pd.NA, 1]
    assert parsed.passthrough["ok"].tolist() == [pd.NA, True]


def test_empty_batch_gives_empty_typed_frames() -> None:
    parsed = parse_json([], MIXED, {"id": "long"})
    assert parsed.errors == []
    assert list(parsed.features.columns) == list(MIXED)
    assert len(parsed.features) == len(parsed.passthrough) == 0


def _mixed_values() -> list[bytes | None]:
    rng = np.random.default_rng(1)
    values: list[bytes | None] = []
    bad = [
        None,
        b"",
        b"{",
        b"\xff",
        b"[]",
        b'{"f0": NaN}',
        b'{"f0": 1, "f1": 2, "f2": 3, "f3": "4"}',
    ]
    for i in range(1200):
        if i % 97 == 0:
            values.append(bad[(i // 97) % len(bad)])
        elif i % 89 == 0:
            values.append(orjson.dumps(_good(f2=True, id=i)))
        elif i % 83 == 0:
            values.append(orjson.dumps(_good(id="not a long")))
        else:
            row = {f"f{j}": float(x) for j, x in enumerate(rng.normal(size=4))}
            values.append(orjson.dumps({**row, "id": i, "tag": i % 3}))
    return values


@pytest.mark.parametrize(("passthrough", "bad"), [({}, 26), ({"id": "long", "tag": "string"}, 40)])
def test_fast_path_equals_general_path(passthrough: dict, bad: int) -> None:
    values = _mixed_values()
    fast = parse_json(values, DOUBLES, passthrough)
    features, extras, errors = json_parser._parse_general(values, DOUBLES, passthrough)
    assert fast.errors == errors
    assert sum(e is not None for e in errors) == bad
    pd.testing.assert_frame_equal(fast.features, features)
    general_extras = json_parser._frame(extras, passthrough, json_parser._PASSTHROUGH_DTYPES)
    pd.testing.assert_frame_equal(fast.passthrough, general_extras)
