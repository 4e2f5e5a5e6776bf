"""The Kafka producer test script: feature records at a given rate and count, with progress."""

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    TopicAlreadyExistsError,
)
from tqdm import tqdm

from stream_scorer.errors import BrokerError
from stream_scorer.kafka.client_config import client_config
from stream_scorer.kafka.options import BOOTSTRAP_SERVERS

BOOTSTRAP_TIMEOUT = "kafka.bootstrap.timeout.ms"

log = logging.getLogger(__name__)


@dataclass
class ProduceReport:
    """What a `produce` call sent: totals and per-partition counts."""

    sent: int = 0
    malformed: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Records per second actually achieved."""
        return self.sent / self.seconds if self.seconds else 0.0


@contextmanager
def broker_errors(options: Mapping[str, str], doing: str) -> Iterator[None]:
    """Turn a Kafka client error in the block into one `BrokerError` line naming the servers."""
    try:
        yield
    except KafkaError as exc:
        servers = options.get(BOOTSTRAP_SERVERS)
        if isinstance(exc, KafkaConnectionError | KafkaTimeoutError):
            msg = (
                f"no Kafka broker answered at {servers} in time to {doing}: "
                "start the broker (`stream-scorer broker`) or fix the address"
            )
        else:
            msg = f"Kafka broker at {servers}: could not {doing}: {exc}"
        raise BrokerError(msg) from None


def ensure_topic(options: Mapping[str, str], topic: str, partitions: int) -> int:
    """Create `topic` with `partitions` partitions unless it exists; return its partition count.

    Raises
    ------
    BrokerError
        If the broker cannot be reached (within `kafka.bootstrap.timeout.ms`) or refuses.
    """
    with broker_errors(options, f"create topic {topic}"):
        admin = KafkaAdminClient(**client_config(options, "admin"))
    try:
        with broker_errors(options, f"create topic {topic}"):
            try:
                admin.create_topics([NewTopic(topic, partitions, 1)])
            except TopicAlreadyExistsError:  # before broker_errors makes it a BrokerError
                (described,) = admin.describe_topics([topic])
                return len(described["partitions"])
        log.info("created topic %s with %d partitions", topic, partitions)
        return partitions
    finally:
        admin.close()


def produce(
    options: Mapping[str, str],
    topic: str,
    records: Iterable[tuple[bytes, bool]],
    total: int,
    rate: float = 0.0,
    partitions: int | None = None,
    progress: bool = True,
) -> ProduceReport:
    """Send `records` (value, is_good) to `topic`, at most `rate` per second (0 = no limit).

    With `partitions`, records go round-robin to partitions 0..N-1, and each partition's last
    record is sent alone after a flush: the embedded Tansu reports "latest" as the base offset
    of the last record batch + 1, which the `python-kafka` source corrects but Spark's own
    connector (`spark-kafka`) does not; a one-record last batch shows it every record.
    Raises `BrokerError` if the broker cannot be reached or any send fails.
    """
    with broker_errors(options, f"produce to {topic}"):
        producer = KafkaProducer(**{"linger_ms": 5, **client_config(options, "producer")})
    report, started = ProduceReport(), time.monotonic()
    tails: dict[int, bytes] = {}
    bar = tqdm(total=total, unit="rec", disable=not progress, desc=f"produce {topic}")
    try:
        with broker_errors(options, f"produce to {topic}"):
            for i, (record, good) in enumerate(records):
                partition = i % partitions if partitions else None
                value: bytes | None = record
                if partition is not None:
                    value = tails.get(partition)
                    tails[partition] = record
                if value is not None:
                    producer.send(topic, value=value, partition=partition)
                report.sent += 1
                report.malformed += not good
                bar.update(1)
                if rate:
                    ahead = report.sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
            producer.flush()
            for partition, value in sorted(tails.items()):
                producer.send(topic, value=value, partition=partition).get(timeout=30)
    finally:
        bar.close()
        producer.close()
    report.seconds = time.monotonic() - started
    return report


def bootstrap_options(bootstrap: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Spark-style Kafka options for a bootstrap address plus `kafka.*` extras."""
    return {BOOTSTRAP_SERVERS: bootstrap, **(extra or {})}
