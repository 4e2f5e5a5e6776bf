"""--schema parsing shared by `model publish` and `produce`."""

import pytest

from stream_scorer.cli.commands.options import parse_schema
from stream_scorer.errors import ConfigError


def test_schema_fields_keep_their_order_and_default_to_double():
    assert parse_schema("f1:long, f0,text:string") == {
        "f1": "long",
        "f0": "double",
        "text": "string",
    }


def test_schema_with_an_unknown_type_names_the_field_and_the_types():
    expected = (
        "field 'f0' has type 'decimal'; expected one of double, float, long, int, string, boolean"
    )

    with pytest.raises(ConfigError, match=expected):
        parse_schema("f0:decimal")
