"""`features.nullable`: a null or absent nullable feature reaches the model as missing (NaN,
None for a string) on both parser paths; the other features still dead-letter the record."""

import numpy as np
import orjson
import pytest

from stream_scorer.config import load_config
from stream_scorer.errors import ConfigError
from stream_scorer.features.json_parser import parse_json
from tests.unit.config.test_settings import GOOD, write

VALUES = [orjson.dumps(v) for v in ({"a": 1.5, "b": 2.0}, {"a": None, "b": 1.0}, {"b": 3.0})]


@pytest.mark.parametrize("b_type", ["double", "long"])  # all-double fast path, general path
def test_null_or_absent_nullable_feature_is_nan(b_type):
    decoded = parse_json(VALUES, {"a": "double", "b": b_type}, {}, nullable=frozenset({"a"}))

    assert decoded.errors == [None, None, None]
    np.testing.assert_array_equal(decoded.features["a"], [1.5, np.nan, np.nan])
    assert decoded.features["b"].tolist() == [2, 1, 3]


def test_null_or_absent_nullable_string_is_none():
    values = [orjson.dumps(v) for v in ({"c": "x"}, {"c": None}, {})]

    decoded = parse_json(values, {"c": "string"}, {}, nullable=frozenset({"c"}))

    assert decoded.errors == [None, None, None]
    assert decoded.features["c"].tolist() == ["x", None, None]


def test_a_feature_not_declared_nullable_still_dead_letters():
    decoded = parse_json(VALUES, {"a": "double", "b": "double"}, {})

    assert decoded.errors == [None, "field 'a': expected double, got null", "missing field 'a'"]


def test_nullable_names_a_feature_of_a_type_that_can_be_missing(tmp_path):
    text = GOOD.replace("schema: {f0: double, name: string}", "schema: {f0: double, n: long}")
    text = text.replace("  schema:", "  nullable: [n, other]\n  schema:")

    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), env={})

    assert (
        "nullable ['n (long)', 'other (not a feature)']: each must be a feature typed double, "
        "float or string"
    ) in str(err.value)
