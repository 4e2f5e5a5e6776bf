"""The range reader over confluent-kafka (`kafkaClient=confluent-kafka`, the default).

librdkafka decodes record batches in C, which makes a read task about twice as fast as
kafka-python's pure-Python decoding. The consumer is only assigned the one partition at the
range start: it joins no group and never commits (the `group.id` librdkafka insists on is a
throwaway).
"""

import logging
import uuid
from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any

import confluent_kafka as ck
import numpy as np

from stream_scorer.errors import ConfigError, SourceError
from stream_scorer.kafka.client_config import confluent_config
from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.readers.base import RangeReader, RecordFields, resume_after_loss, where

log = logging.getLogger(__name__)

_POLL_SLICE_S = 1.0  # one consume() call; the no-progress limit is the source option
_METADATA_TIMEOUT_S = 30.0
# Errors that retrying cannot mend: the read fails at once.
_FATAL_CODES = frozenset(
    {
        ck.KafkaError._AUTHENTICATION,
        ck.KafkaError._SSL,
        ck.KafkaError.TOPIC_AUTHORIZATION_FAILED,
        ck.KafkaError.SASL_AUTHENTICATION_FAILED,
    }
)


def librdkafka_config(kafka_options: Mapping[str, str]) -> dict[str, Any]:
    """Return the librdkafka config of a range reader's Consumer: the `kafka.*` options, a
    throwaway group, no commits.

    Offsets out of range raise (`auto.offset.reset=error`), end of partition is reported
    (so gaps before the high-water mark end a range), and transactions' aborted records are
    read as Spark's Kafka source does (`isolation.level=read_uncommitted` unless set).
    """
    config: dict[str, Any] = {
        "isolation.level": "read_uncommitted",
        **confluent_config(kafka_options),
    }
    config.update(
        {
            "group.id": f"stream-scorer-unused-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "error",
            "allow.auto.create.topics": False,
        }
    )
    return config


class ConfluentReader(RangeReader):
    """Reads offset ranges with confluent-kafka's Consumer (see `RangeReader`)."""

    @staticmethod
    def offset_of(record: ck.Message) -> int:
        """The offset of a fetched record (never None: only errors lack one)."""
        return record.offset()  # type: ignore[return-value]

    def _connect(self, rng: OffsetRange) -> Any:
        try:
            return ck.Consumer(librdkafka_config(self.options.kafka))
        except ck.KafkaException as exc:
            msg = f"{where(rng, rng.start)}: confluent-kafka refused the kafka.* options: {exc}"
            raise ConfigError(msg) from exc

    def _assign(self, consumer: Any, rng: OffsetRange) -> None:
        consumer.assign([ck.TopicPartition(rng.topic, rng.partition, rng.start)])

    def _fetch(self, consumer: Any, rng: OffsetRange, offset: int) -> tuple[list, int]:
        # consume() waits for as many messages as asked (or the timeout): never ask for more
        # than the range holds, or every range ending at the log's end would wait it out.
        wanted = min(self.rows_per_batch, rng.until - offset)
        messages = consumer.consume(wanted, _POLL_SLICE_S)
        records = [m for m in messages if m.error() is None]
        reached = -1
        if len(records) < len(messages):
            reached = self._events(consumer, rng, messages, offset)
        if not records:  # the end of the partition moves the read past gaps
            tp = ck.TopicPartition(rng.topic, rng.partition)
            reached = max(reached, consumer.position([tp])[0].offset)
        return records, reached

    def _events(self, consumer: Any, rng: OffsetRange, messages: list, offset: int) -> int:
        """Act on the error events of one consume().

        Returns where reading resumes after lost records, or the high-water mark of an
        end-of-partition event (-1 without either).
        """
        eof = -1
        for message in messages:
            err = message.error()
            if err is None:
                continue
            if err.code() == ck.KafkaError._PARTITION_EOF:
                eof = max(eof, message.offset())
            elif err.code() == ck.KafkaError._AUTO_OFFSET_RESET:
                tp = ck.TopicPartition(rng.topic, rng.partition)
                low, _ = consumer.get_watermark_offsets(tp, _METADATA_TIMEOUT_S, cached=False)
                resume = resume_after_loss(rng, offset, low, self.options)
                if resume < rng.until:
                    consumer.assign([ck.TopicPartition(rng.topic, rng.partition, resume)])
                return resume
            elif err.fatal() or err.code() in _FATAL_CODES:
                msg = f"{where(rng, offset)}: Kafka read failed: {err}"
                raise SourceError(msg)
            else:  # transport errors and the like: librdkafka retries; no progress ends stalled
                log.warning("%s: Kafka client reported %s; retrying", where(rng, offset), err)
        return eof

    def _fields(self, records: list) -> RecordFields:
        n = len(records)
        pairs = chain.from_iterable(map(ck.Message.timestamp, records))  # (type, millis) each
        stamps = np.fromiter(pairs, dtype=np.int64, count=2 * n).reshape(n, 2)
        return RecordFields(
            keys=list(map(ck.Message.key, records)),
            values=list(map(ck.Message.value, records)),
            offsets=np.fromiter(map(ck.Message.offset, records), dtype=np.int64, count=n),
            timestamps_ms=stamps[:, 1],
            # librdkafka's timestamp types (0 none, 1 create, 2 log append) become Spark's.
            timestamp_types=(stamps[:, 0] - 1).astype(np.int32),
        )

    def _headers(self, records: list) -> Iterator[list | None]:
        return (record.headers() for record in records)
