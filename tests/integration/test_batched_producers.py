"""Records of a user's own batching producer are all read by the batch planned after them.

Producers with `linger` put many records in one record batch. The embedded broker answers
ListOffsets(latest) with the base offset of a partition's last batch + 1; the source's latest
offsets must still be the high-water mark, so `--once` reads every offset, exactly once, and
the lag is 0 only when nothing is left.
"""

import confluent_kafka as ck
import pytest
from kafka import KafkaProducer

from stream_scorer.kafka.source_options import parse_options
from stream_scorer.sources.metadata import KafkaMetadata
from tests.kafka_helpers import create_topic
from tests.scorer_helpers import (
    NUMERIC,
    encode,
    publish,
    records,
    score_once,
    scored_coordinates,
)

pytestmark = pytest.mark.integration

PARTITIONS, PER_PARTITION = 3, 400


def produce_kafka_python(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=50, batch_size=1 << 20)
    try:
        for i, value in enumerate(values):
            producer.send(topic, value=value, partition=i % PARTITIONS)
        producer.flush()
    finally:
        producer.close()


def produce_confluent(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 50})
    for i, value in enumerate(values):
        producer.produce(topic, value=value, partition=i % PARTITIONS)
    assert producer.flush(30) == 0


def batched_load(bootstrap: str, produce) -> tuple[str, list[tuple[str, int, int]]]:
    """Produce PER_PARTITION records to each partition of a new topic; return it and coordinates."""
    topic = create_topic(bootstrap, PARTITIONS)
    produce(bootstrap, topic, encode(records(range(PARTITIONS * PER_PARTITION), NUMERIC)))
    return topic, [(topic, p, o) for p in range(PARTITIONS) for o in range(PER_PARTITION)]


@pytest.mark.parametrize("produce", [produce_kafka_python, produce_confluent])
def test_latest_offsets_are_the_high_water_marks_after_batched_produces(bootstrap, produce):
    topic, _ = batched_load(bootstrap, produce)
    metadata = KafkaMetadata(
        parse_options({"kafka.bootstrap.servers": bootstrap, "subscribe": topic})
    )
    try:
        latest = metadata.latest(metadata.partitions())
    finally:
        metadata.close()
    assert latest == {(topic, p): PER_PARTITION for p in range(PARTITIONS)}


@pytest.mark.parametrize("produce", [produce_kafka_python, produce_confluent])
def test_run_once_scores_every_offset_of_batched_produces_exactly_once(
    tmp_path, spark, bootstrap, produce
):
    topic, expected = batched_load(bootstrap, produce)
    publish(tmp_path / "models", "binary", NUMERIC)

    assert score_once(spark, tmp_path, bootstrap, topic) == 0

    assert scored_coordinates(spark, tmp_path) == expected
