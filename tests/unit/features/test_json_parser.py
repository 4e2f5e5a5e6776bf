"""parse_json: typed columns, one precise reason per bad record, fast path == general path."""

import json
import math
import random

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


@pytest.mark.parametrize("schema", [DOUBLES, {**DOUBLES, "f3": "long"}], ids=["fast", "general"])
def test_required_passthrough_missing_from_a_record_is_its_reason(schema) -> None:
    values = [orjson.dumps(_good(id=7)), orjson.dumps(_good()), orjson.dumps(_good(id=None))]

    parsed = parse_json(values, schema, {"id": "long", "tag": "string"}, passthrough_required=True)

    assert parsed.errors == [
        "missing passthrough field 'tag'",
        "missing passthrough field 'id'; missing passthrough field 'tag'",
        "missing passthrough field 'tag'",
    ]


@pytest.mark.parametrize("schema", [DOUBLES, {**DOUBLES, "f3": "long"}], ids=["fast", "general"])
def test_required_passthrough_present_as_json_null_is_null(schema) -> None:
    values = [orjson.dumps(_good(id=None)), orjson.dumps(_good(id=3))]

    parsed = parse_json(values, schema, {"id": "long"}, passthrough_required=True)

    assert parsed.errors == [None, None]
    assert parsed.passthrough["id"].tolist() == [pd.NA, 3]


def test_missing_double_passthrough_is_a_null_of_the_nullable_dtype() -> None:
    values = [orjson.dumps(_good(score=2.5)), orjson.dumps(_good())]
    parsed = parse_json(values, DOUBLES, {"score": "double"})
    assert parsed.passthrough["score"].dtype == "Float64"
    assert parsed.passthrough["score"].tolist() == [2.5, pd.NA]


def test_string_passthrough_keeps_json_text_of_any_value() -> None:
    values = [orjson.dumps(_good(tag=v)) for v in (12, 1.5, True, {"a": [1]}, [1, "x"])]
    parsed = parse_json(values, DOUBLES, {"tag": "string"})
    assert parsed.passthrough["tag"].tolist() == ["12", "1.5", "true", '{"a":[1]}', '[1,"x"]']


def test_huge_int_beside_a_nan_is_an_error_not_a_crash() -> None:
    value = b'{"f0": NaN, "f1": 2, "f2": 3, "f3": 4, "tag": %d}' % 2**70
    assert _error(value, DOUBLES, {"tag": "string"}) == "field 'f0': not a finite number"


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


def _assert_fast_equals_general(values: list, passthrough: dict) -> list[str | None]:
    fast = parse_json(values, DOUBLES, passthrough)
    features, extras, errors = json_parser._parse_general(values, DOUBLES, passthrough)
    assert fast.errors == errors
    pd.testing.assert_frame_equal(fast.features, features, check_exact=True)
    pd.testing.assert_frame_equal(fast.passthrough, extras, check_exact=True)
    return errors


@pytest.mark.parametrize(("passthrough", "bad"), [({}, 26), ({"id": "long", "tag": "string"}, 40)])
def test_fast_path_equals_general_path(passthrough: dict, bad: int) -> None:
    errors = _assert_fast_equals_general(_mixed_values(), passthrough)
    assert sum(e is not None for e in errors) == bad


def test_int_passthrough_out_of_range_is_an_error() -> None:
    values = [orjson.dumps(_good(n=n)) for n in (2**31 - 1, 2**31, -(2**31), -(2**31) - 1)]
    parsed = parse_json(values, DOUBLES, {"n": "int"})
    assert parsed.errors == [
        None,
        "field 'n': 2147483648 is out of range for int",
        None,
        "field 'n': -2147483649 is out of range for int",
    ]
    assert parsed.passthrough["n"].tolist() == [2**31 - 1, pd.NA, -(2**31), pd.NA]


def test_long_passthrough_past_int64_is_an_error() -> None:
    values = [orjson.dumps(_good(id=n)) for n in (2**63 - 1, 2**63, 2**64 - 1)]
    parsed = parse_json(values, DOUBLES, {"id": "long"})
    assert parsed.errors == [
        None,
        f"field 'id': {2**63} is out of range for long",
        f"field 'id': {2**64 - 1} is out of range for long",
    ]
    assert parsed.passthrough["id"].tolist() == [2**63 - 1, pd.NA, pd.NA]


def test_long_passthrough_beside_nulls_keeps_large_ints_exact() -> None:
    values = [orjson.dumps(_good(id=v)) for v in (2**53 + 1, None, 3.0, 2**63 - 1)]
    parsed = parse_json(values, DOUBLES, {"id": "long"})
    assert parsed.errors == [None] * 4
    assert parsed.passthrough["id"].tolist() == [2**53 + 1, pd.NA, 3, 2**63 - 1]


_FITTING = {
    "long": [0, -1, 7, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 3.0, -0.0],
    "int": [0, 5, -(2**31), 2**31 - 1, -2.0],
    "double": [0.5, -1e300, 3, -(2**40), 2**63 + 7],
    "boolean": [True, False],
    "string": ["a", "", "\u00fcn\u00ef", "7"],
}
_ODD = ["x", "7", 1.5, True, False, 2**63, 2**64 - 1, 2**70, -(2**63) - 1, 2**31, [1], {"a": 1}]
_NOT_OBJECTS = [None, b"", b"{", b"\xff", b"[1]", b'"s"', b"3", b"null", b"{}", b" "]
ALL_KINDS = {"id": "long", "n": "int", "tag": "string", "score": "double", "ok": "boolean"}


def _random_value(
    rng: random.Random, passthrough: dict, mode: dict, fitting: dict = _FITTING
) -> bytes | None:
    """A record whose passthrough values are drawn from `fitting`, or (by `mode`'s rates)
    are odd or null, or a record damaged in one of several ways."""
    record = {f"f{j}": rng.choice([rng.gauss(0, 1), rng.randint(-9, 9)]) for j in range(4)}
    for name, kind in passthrough.items():
        pool = _ODD if rng.random() < mode["odd"] else fitting[kind]
        record[name] = None if rng.random() < mode["null"] else rng.choice(pool)
    if rng.random() < mode["bad"]:
        damage = rng.randrange(6)
        if damage == 0:
            return rng.choice(_NOT_OBJECTS)
        if damage == 1:
            del record[rng.choice(list(passthrough))]
        elif damage == 2:
            del record[f"f{rng.randrange(4)}"]
        elif damage == 3:
            record[f"f{rng.randrange(4)}"] = rng.choice(["1", True, None, [1], {}])
        else:  # NaN or Infinity, which only the stdlib reads, in a feature or passthrough
            field = rng.choice([f"f{rng.randrange(4)}", *passthrough])
            record[field] = rng.choice([math.nan, math.inf, -math.inf])
    return json.dumps(record).encode()  # the stdlib writes ints past 64 bits, NaN, Infinity


MODES = {
    "all fit": {"odd": 0.0, "null": 0.0, "bad": 0.0},
    "nulls": {"odd": 0.0, "null": 0.1, "bad": 0.0},
    "bad rows": {"odd": 0.0, "null": 0.0, "bad": 0.05},
    "odd values": {"odd": 0.02, "null": 0.0, "bad": 0.0},
    "everything": {"odd": 0.1, "null": 0.1, "bad": 0.2},
}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize(
    "passthrough",
    [{name: kind} for name, kind in ALL_KINDS.items()] + [ALL_KINDS],
    ids=[*ALL_KINDS.values(), "all"],
)
def test_fast_path_equals_general_path_on_random_records(
    passthrough: dict, mode: str, seed: int
) -> None:
    rng = random.Random(f"{seed}-{mode}-{sorted(passthrough.items())}")
    # a few of the fitting values per batch, so some columns hold only plain types and some mix
    fitting = {
        kind: rng.sample(pool, min(len(pool), rng.randint(1, 3))) for kind, pool in _FITTING.items()
    }
    values = [_random_value(rng, passthrough, MODES[mode], fitting) for _ in range(300)]
    errors = _assert_fast_equals_general(values, passthrough)
    if MODES[mode]["bad"] > 0:
        assert any(e is None for e in errors) and any(e is not None for e in errors)


@pytest.mark.parametrize("passthrough", [{}, {"id": "long"}, ALL_KINDS])
def test_fast_path_equals_general_path_on_a_small_or_empty_batch(passthrough: dict) -> None:
    rng = random.Random(2)
    mode = MODES["everything"]
    for size in range(4):
        _assert_fast_equals_general(
            [_random_value(rng, passthrough, mode) for _ in range(size)], passthrough
        )
