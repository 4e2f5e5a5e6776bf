"""Range readers reusing one pooled consumer on the embedded broker: what librdkafka and
kafka-python prefetched for an earlier range never reaches a later one."""

import pytest
from pyspark.sql.pandas.types import to_arrow_schema

from stream_scorer.kafka.schema import kafka_schema
from stream_scorer.kafka.source_options import parse_options
from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.python_kafka import READERS
from stream_scorer.sources.readers.consumer_pool import ConsumerPool, pool_key
from tests.kafka_helpers import create_topic, produce_exact

pytestmark = pytest.mark.integration

SCHEMA = to_arrow_schema(kafka_schema(False), timezone="UTC")
RECORDS = 30


@pytest.mark.parametrize("client", ["kafka-python", "confluent-kafka"])
def test_ranges_read_in_turn_with_one_consumer_hold_exactly_their_records(client, bootstrap):
    topic = create_topic(bootstrap, 2)
    produce_exact(
        bootstrap, topic, {p: [f"{p}-{i}".encode() for i in range(RECORDS)] for p in (0, 1)}
    )
    options = parse_options(
        {
            "kafka.bootstrap.servers": bootstrap,
            "subscribe": topic,
            "kafkaClient": client,
            "kafkaConsumer.pollTimeoutMs": "10000",
        }
    )
    pool = ConsumerPool()
    key = pool_key(client, options.kafka)
    # Forward, another partition, backwards, then up to the end of the log.
    ranges = [(0, 0, 10), (0, 10, 20), (1, 0, 15), (0, 5, 8), (0, 20, RECORDS)]
    first = None
    for partition, start, until in ranges:
        reader = READERS[client](options, SCHEMA, rows_per_batch=4, pool=pool)
        batches = reader.read(OffsetRange(topic, partition, start, until))
        rows = [(r["partition"], r["offset"], r["value"]) for b in batches for r in b.to_pylist()]
        assert rows == [(partition, o, f"{partition}-{o}".encode()) for o in range(start, until)]
        consumer = pool.take(key)
        assert consumer is not None and (first is None or consumer is first)
        first = consumer
        pool.give(key, consumer)
    pool.clear()
