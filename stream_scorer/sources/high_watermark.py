"""Exact latest offsets on a broker whose ListOffsets answer under-reports them.

Kafka answers ListOffsets(latest) with a partition's high-water mark. The embedded Tansu
broker answers with the base offset of the partition's last record batch + 1: when that
batch holds several records (any producer with linger), the records after its first are
left out of the batch planned from it, forever out of `availableNow`, and the lag reads 0.
Its Fetch responses carry the true high-water mark, so a probe fetches once from the listed
offset - 1 (the last batch's first record) and takes the high-water mark of the answer: about
7 ms per trigger for 3 partitions on the embedded broker.
"""

import time
from collections.abc import Mapping
from typing import Any

from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.errors import KafkaTimeoutError, OffsetOutOfRangeError

UNDER_REPORTING_CLUSTERS = frozenset({"tansu_cluster"})
"""Cluster ids of brokers known to under-report latest offsets: the embedded Tansu."""
PROBE_TIMEOUT_S = 10.0
PROBE_FETCH_WAIT_MS = 10
"""How long the broker may hold a probe's fetch for data: the record at listed - 1 is there
to answer at once, and kafka-python's default wait (500 ms) made 1 probe in 100 take
350-530 ms at 10k records/s on the embedded broker (10 ms: under 55 ms)."""
_POLL_SLICE_MS = 200


def cluster_id(consumer: KafkaConsumer) -> str | None:
    """Return the cluster id of the broker `consumer` has metadata from, or None."""
    # kafka-python keeps it from metadata responses and offers no public accessor.
    cluster = getattr(getattr(consumer, "_client", None), "cluster", None)
    return getattr(cluster, "cluster_id", None)


def under_reports(consumer: KafkaConsumer) -> bool:
    """Return True if `consumer`'s broker is one known to under-report latest offsets."""
    return cluster_id(consumer) in UNDER_REPORTING_CLUSTERS


def probe_high_watermarks(
    settings: Mapping[str, Any], listed: Mapping[KafkaTopicPartition, int]
) -> dict[KafkaTopicPartition, int]:
    """Return each partition's high-water mark, from one fetch at its `listed` offset - 1.

    The fetch goes through a KafkaConsumer of its own, built from `settings` and closed on
    return: a reused one would keep the fetches it pipelined after the last probe. A
    partition listed at 0 holds no record and keeps 0; one whose listed offset - 1 is no
    longer stored holds nothing past it either and keeps its listed offset.

    Raises
    ------
    KafkaTimeoutError
        If a partition gets no fetch answer within PROBE_TIMEOUT_S (retriable).
    """
    probed = [tp for tp, offset in listed.items() if offset > 0]
    if not probed:
        return dict(listed)
    found: dict[KafkaTopicPartition, int] = {}
    consumer = KafkaConsumer(**{**settings, "fetch_max_wait_ms": PROBE_FETCH_WAIT_MS})
    try:
        consumer.assign(probed)
        for tp in probed:
            consumer.seek(tp, listed[tp] - 1)
        deadline = time.monotonic() + PROBE_TIMEOUT_S
        while len(found) < len(probed):
            if time.monotonic() > deadline:
                missing = sorted(set(probed) - set(found))
                msg = f"no fetch answer within {PROBE_TIMEOUT_S}s for {missing}"
                raise KafkaTimeoutError(msg)
            try:
                consumer.poll(_POLL_SLICE_MS)
            except OffsetOutOfRangeError as exc:
                found.update({tp: listed[tp] for tp in exc.args[0]})
                consumer.pause(*exc.args[0])
            for tp in probed:
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    found.setdefault(tp, highwater)
    finally:
        consumer.close()
    return {tp: max(offset, found.get(tp, offset)) for tp, offset in listed.items()}
