"""Trigger intervals are read as Spark reads them (cross-checked against Spark's parser)."""

import pytest

from stream_scorer.config.intervals import interval_ms


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2 seconds", 2_000),
        ("500 milliseconds", 500),
        ("1 minute", 60_000),
        ("1 Minute 30 seconds", 90_000),
        ("interval 1 hour", 3_600_000),
        ("1.5 seconds", 1_500),
        ("1 week", 604_800_000),
        ("1 day -1 hour", 82_800_000),
        ("0 seconds", 0),
        ("10 microseconds", 0),
    ],
)
def test_spark_interval_is_read_in_milliseconds(text, ms):
    assert interval_ms(text) == ms


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2 secs", "'secs' is not a unit; did you mean 'seconds'?"),
        ("1 month", "a trigger interval cannot count months"),
        ("1.5 minutes", "only seconds take a fraction, not minutes"),
        ("-1 second", "it is negative"),
        ("2", "it is not a list of '<number> <unit>' terms"),
        ("1sec", "it is not a list of '<number> <unit>' terms"),
        ("interval", "it is empty"),
    ],
)
def test_interval_spark_refuses_is_refused_saying_why(text, reason):
    with pytest.raises(ValueError) as err:
        interval_ms(text)
    assert str(err.value) == reason
