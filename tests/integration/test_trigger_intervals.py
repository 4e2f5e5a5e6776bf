"""The config's interval parser agrees with Spark's own `Trigger.ProcessingTime`."""

import pytest

from stream_scorer.config.intervals import interval_ms

pytestmark = pytest.mark.integration

CASES = [
    "2 seconds", "500 milliseconds", "1 minute", "interval 1 hour", "1 minute 30 seconds",
    "1.5 seconds", "0 seconds", "2 SECONDS", "1 week", "1 day -1 hour", ".5 seconds",
    "1. seconds", "10 microseconds", "+3 second", "1 seconds 1 seconds", "interval  5 seconds",
    "2 secs", "1 month", "1 year", "-1 second", "- 1 second", "1 second2 seconds", "2",
    "seconds", "1.5 minutes", "interval", "1sec", "2 second s",
]  # fmt: skip


def _ours(text: str) -> int | None:
    try:
        return interval_ms(text)
    except ValueError:
        return None


def _sparks(spark, text: str) -> int | None:
    trigger = spark._jvm.org.apache.spark.sql.streaming.Trigger
    try:
        return trigger.ProcessingTime(text).intervalMs()
    except Exception:  # Spark's refusal, whatever its JVM class
        return None


def test_every_interval_reads_as_spark_reads_it_or_is_refused_as_spark_refuses_it(spark):
    assert {t: _ours(t) for t in CASES} == {t: _sparks(spark, t) for t in CASES}
