"""The offset-range source: Kafka source planning, one small row per range."""

import pytest

pytest.importorskip(
    "pyspark.sql.datasource", reason="pyspark < 4.0 has no Python data sources (python-kafka)"
)

from pyspark.sql.datasource import InputPartition

from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.ranges import RANGES_SCHEMA, KafkaRangesDataSource


def test_ranges_source_has_its_own_name_and_the_ranges_schema():
    source = KafkaRangesDataSource({"kafka.bootstrap.servers": "127.0.0.1:1", "subscribe": "t"})
    assert source.name() == "stream_scorer_kafka_ranges"
    assert source.schema() == RANGES_SCHEMA


def test_read_yields_the_range_and_opens_no_consumer():  # nothing listens on port 1
    source = KafkaRangesDataSource({"kafka.bootstrap.servers": "127.0.0.1:1", "subscribe": "t"})
    reader = source.streamReader(RANGES_SCHEMA)
    rows = list(reader.read(InputPartition(OffsetRange("t", 3, 10, 25))))
    assert rows == [("t", 3, 10, 25)]
