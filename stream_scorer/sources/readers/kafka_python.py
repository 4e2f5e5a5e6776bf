"""The range reader over kafka-python (`kafkaClient=kafka-python`): pure-Python decoding.

Each read opens its own KafkaConsumer (no group, no commits), assigns the one partition,
seeks to the range start and polls until the range end.
"""

from collections.abc import Iterator
from operator import attrgetter

import numpy as np
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.errors import KafkaError, OffsetOutOfRangeError

from stream_scorer.errors import SourceError
from stream_scorer.sources.metadata import consumer_settings
from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.readers.base import RangeReader, RecordFields, resume_after_loss, where

_POLL_SLICE_MS = 1_000  # one poll() call; the no-progress limit is the source option
_OFFSET, _TIMESTAMP, _TS_TYPE = (
    attrgetter("offset"),
    attrgetter("timestamp"),
    attrgetter("timestamp_type"),
)
_KEY, _VALUE, _HEADERS = attrgetter("key"), attrgetter("value"), attrgetter("headers")


class KafkaPythonReader(RangeReader):
    """Reads offset ranges with kafka-python's KafkaConsumer (see `RangeReader`)."""

    offset_of = staticmethod(_OFFSET)

    def _connect(self, rng: OffsetRange) -> KafkaConsumer:
        try:
            return KafkaConsumer(**consumer_settings(self.options.kafka))
        except KafkaError as exc:
            msg = f"{where(rng, rng.start)}: cannot connect to Kafka: {exc!r}"
            raise SourceError(msg) from exc

    def _assign(self, consumer: KafkaConsumer, rng: OffsetRange) -> None:
        tp = KafkaTopicPartition(rng.topic, rng.partition)
        consumer.assign([tp])
        consumer.seek(tp, rng.start)

    def _fetch(self, consumer: KafkaConsumer, rng: OffsetRange, offset: int) -> tuple[list, int]:
        tp = KafkaTopicPartition(rng.topic, rng.partition)
        try:
            polled = consumer.poll(_POLL_SLICE_MS, max_records=self.rows_per_batch)
        except OffsetOutOfRangeError:
            earliest = consumer.beginning_offsets([tp])[tp]
            resume = resume_after_loss(rng, offset, earliest, self.options)
            if resume < rng.until:
                consumer.seek(tp, resume)
            return [], resume
        except KafkaError as exc:
            msg = f"{where(rng, offset)}: Kafka read failed: {exc!r}"
            raise SourceError(msg) from exc
        records = polled.get(tp)
        if records:
            return records, -1
        position = consumer.position(tp)  # moves past gaps that hold no records
        return [], -1 if position is None else position

    def _fields(self, records: list) -> RecordFields:
        n = len(records)
        return RecordFields(
            keys=list(map(_KEY, records)),
            values=list(map(_VALUE, records)),
            offsets=np.fromiter(map(_OFFSET, records), dtype=np.int64, count=n),
            timestamps_ms=np.fromiter(map(_TIMESTAMP, records), dtype=np.int64, count=n),
            timestamp_types=np.fromiter(map(_TS_TYPE, records), dtype=np.int32, count=n),
        )

    def _headers(self, records: list) -> Iterator[list | None]:
        return map(_HEADERS, records)
