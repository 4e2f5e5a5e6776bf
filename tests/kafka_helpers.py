"""Test-side Kafka helpers: topics and exact-count loads that respect the embedded broker.

Tansu reports a partition's latest offset as the base offset of its last record batch + 1.
The `python-kafka` source corrects it (tests/integration/test_batched_producers.py); Spark's
own connector does not, so `produce_exact` ends each partition's load with a one-record batch
(flush, send one record, flush) and the reported latest offset is the true end for both.
`create_topic` comes from `stream_scorer.testing.topics`, which the benchmarks share.
"""

import time
from collections.abc import Iterable, Sequence

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewPartitions
from kafka.consumer.fetcher import ConsumerRecord

from stream_scorer.testing.topics import create_topic

__all__ = ["add_partitions", "create_topic", "produce_exact", "read_topic", "spread"]


def add_partitions(bootstrap: str, topic: str, total: int) -> None:
    """Grow `topic` to `total` partitions."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_partitions({topic: NewPartitions(total_count=total)})
    finally:
        admin.close()


def produce_exact(
    bootstrap: str,
    topic: str,
    values_by_partition: dict[int, Sequence[bytes | None]],
    keys: bool = True,
    headers: Iterable[tuple[str, bytes]] | None = None,
) -> None:
    """Write each partition's values in order; each partition's last record is its own batch."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    hdrs = list(headers or [])
    try:
        for partition, values in values_by_partition.items():
            if not values:
                continue
            *body, last = values
            for i, value in enumerate(body):
                key = f"{partition}-{i}".encode() if keys else None
                producer.send(topic, value=value, key=key, partition=partition, headers=hdrs)
            producer.flush()
            key = f"{partition}-{len(body)}".encode() if keys else None
            producer.send(topic, value=last, key=key, partition=partition, headers=hdrs)
            producer.flush()
    finally:
        producer.close()


def spread(values: Sequence[bytes | None], partitions: int) -> dict[int, list[bytes | None]]:
    """Deal `values` round-robin over `partitions` partitions."""
    out: dict[int, list[bytes | None]] = {p: [] for p in range(partitions)}
    for i, value in enumerate(values):
        out[i % partitions].append(value)
    return out


def read_topic(
    bootstrap: str, topic: str, isolation: str = "read_committed", timeout_s: float = 60.0
) -> list[ConsumerRecord]:
    """Every record of `topic` a consumer with `isolation` (`isolation.level`) reads, from the
    start to the partitions' end offsets now (the last stable offset when read_committed)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, isolation_level=isolation, enable_auto_commit=False
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(partitions)
        found: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            assert time.monotonic() < deadline, f"{topic}: not read to {end} in {timeout_s}s"
            for batch in consumer.poll(timeout_ms=500).values():
                found.extend(batch)
        return found
    finally:
        consumer.close()
