"""The type table: one entry per declared type name, and what each entry says."""

from typing import get_args

import pytest

from stream_scorer.types import FIELD_TYPES, TYPES, PredictionType, is_field_type


def test_table_has_one_entry_per_declared_type_name():
    assert list(TYPES) == list(FIELD_TYPES)
    assert [spec.name for spec in TYPES.values()] == list(FIELD_TYPES)


def test_every_prediction_type_is_in_the_table():
    assert set(get_args(PredictionType)) == {"double", "long", "string", "boolean"}
    assert set(get_args(PredictionType)) <= set(TYPES)


@pytest.mark.parametrize(
    ("name", "bounds"), [("int", (-(2**31), 2**31 - 1)), ("long", (-(2**63), 2**63 - 1))]
)
def test_integer_types_bound_their_values(name, bounds):
    assert TYPES[name].int_range == bounds


def test_only_string_is_fed_to_models_as_text():
    assert [name for name, spec in TYPES.items() if not spec.numeric] == ["string"]


def test_json_ints_are_doubles_but_json_bools_are_not_numbers():
    assert TYPES["double"].json_types == {float, int}
    assert TYPES["long"].json_types == {int}
    assert TYPES["boolean"].json_types == {bool}


def test_a_name_outside_the_table_is_not_a_field_type():
    assert is_field_type("double")
    assert not is_field_type("decimal")
