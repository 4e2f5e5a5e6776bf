"""Executor side of the Kafka source over confluent-kafka (`kafkaClient=confluent-kafka`).

Same contract as `kafka_python.read_range`: exact offsets `[start, until)`, gaps allowed,
Arrow batches of Spark's Kafka schema. librdkafka decodes record batches in C, which makes a
read task about twice as fast as kafka-python's pure-Python decoding. The consumer is only
assigned the one partition at the range start: it joins no group and never commits (the
`group.id` librdkafka insists on is a throwaway). confluent-kafka is imported on first use,
so the package stays optional for the default client.
"""

import bisect
import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa

from stream_scorer.errors import ConfigError, SourceError
from stream_scorer.kafka.client_config import confluent_config
from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.options import SourceOptions
from stream_scorer.sources.readers import kafka_python
from stream_scorer.sources.readers.arrow import binary_column
from stream_scorer.sources.readers.kafka_python import rebatched, resume_after_loss, stalled, where

log = logging.getLogger(__name__)

_POLL_SLICE_S = 1.0  # one consume() call; the no-progress limit is the source option
_METADATA_TIMEOUT_S = 30.0


def consumer_settings(kafka_options: Mapping[str, str]) -> dict[str, Any]:
    """Return librdkafka settings: the `kafka.*` options, a throwaway group, no commits.

    Offsets out of range raise (`auto.offset.reset=error`), end of partition is reported
    (so gaps before the high-water mark end a range), and transactions' aborted records are
    read as Spark's Kafka source does (`isolation.level=read_uncommitted` unless set).
    """
    settings: dict[str, Any] = {
        "isolation.level": "read_uncommitted",
        **confluent_config(kafka_options),
    }
    settings.update(
        {
            "group.id": f"stream-scorer-unused-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "error",
            "allow.auto.create.topics": False,
        }
    )
    return settings


def read_range(
    offset_range: OffsetRange, options: SourceOptions, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """Yield the records of `offset_range` as record batches of `schema` (Spark's Kafka schema).

    Raises
    ------
    ConfigError
        If confluent-kafka is missing or refuses a `kafka.*` option.
    SourceError
        If records are missing, the broker refuses access, or no progress is made for
        `kafkaConsumer.pollTimeoutMs`, unless failOnDataLoss=false (then the range is cut).
    """
    try:
        import confluent_kafka as ck
    except ImportError:
        msg = "kafkaClient=confluent-kafka needs the confluent-kafka package: pip install it"
        raise ConfigError(msg) from None
    try:
        consumer = ck.Consumer(consumer_settings(options.kafka))
    except ck.KafkaException as exc:
        where_ = where(offset_range, offset_range.start)
        msg = f"{where_}: confluent-kafka refused the kafka.* options: {exc}"
        raise ConfigError(msg) from exc
    try:
        consumer.assign(
            [ck.TopicPartition(offset_range.topic, offset_range.partition, offset_range.start)]
        )
        for messages in rebatched(_consumed(ck, consumer, offset_range, options)):
            yield to_record_batch(messages, schema, offset_range)
    finally:
        consumer.close()


def _consumed(ck: Any, consumer: Any, rng: OffsetRange, options: SourceOptions) -> Iterator[list]:
    """Yield lists of messages with offsets in `[rng.start, rng.until)`, in order.

    The end of the partition (an EOF event at the high-water mark, or the consumer position
    when nothing came) moves the read past gaps that hold no records.
    """
    offset_of = ck.Message.offset
    tp = ck.TopicPartition(rng.topic, rng.partition)
    next_offset = rng.start
    progressed = time.monotonic()
    while next_offset < rng.until:
        # consume() waits for as many messages as asked (or the timeout): never ask for more
        # than the range holds, or every range ending at the log's end would wait it out.
        wanted = min(kafka_python.ROWS_PER_BATCH, rng.until - next_offset)
        messages = consumer.consume(wanted, _POLL_SLICE_S)
        records = [m for m in messages if m.error() is None]
        reached = -1
        if len(records) < len(messages):
            next_offset, reached = _events(ck, consumer, rng, options, messages, next_offset)
        if records:
            if offset_of(records[-1]) >= rng.until:
                yield records[: bisect.bisect_left(records, rng.until, key=offset_of)]
                return
            yield records
            next_offset = offset_of(records[-1]) + 1
        else:
            reached = max(reached, consumer.position([tp])[0].offset)
        if records or reached > next_offset:
            next_offset = max(next_offset, reached)
            progressed = time.monotonic()
        elif (time.monotonic() - progressed) * 1000 > options.poll_timeout_ms:
            stalled(rng, next_offset, options)
            return


def _events(
    ck: Any, consumer: Any, rng: OffsetRange, options: SourceOptions, messages: list, offset: int
) -> tuple[int, int]:
    """Act on the error events of one consume().

    Returns where reading goes on, and the high-water mark of an end-of-partition event
    (-1 without one).
    """
    fatal_codes = {
        ck.KafkaError._AUTHENTICATION,
        ck.KafkaError._SSL,
        ck.KafkaError.TOPIC_AUTHORIZATION_FAILED,
        ck.KafkaError.SASL_AUTHENTICATION_FAILED,
    }
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
            offset = resume_after_loss(rng, offset, low, options)
            if offset < rng.until:
                consumer.assign([ck.TopicPartition(rng.topic, rng.partition, offset)])
            return offset, -1
        elif err.fatal() or err.code() in fatal_codes:
            msg = f"{where(rng, offset)}: Kafka read failed: {err}"
            raise SourceError(msg)
        else:  # transport errors and the like: librdkafka retries; no progress ends in `stalled`
            log.warning("%s: Kafka client reported %s; retrying", where(rng, offset), err)
    return offset, eof


def to_record_batch(messages: list, schema: pa.Schema, rng: OffsetRange) -> pa.RecordBatch:
    """Return `messages` (confluent-kafka Messages of `rng`'s partition) as one batch of `schema`.

    Columns are built whole, one C-level pass each (binary ones from joined buffers).
    librdkafka's timestamp types (0 none, 1 create, 2 log append) become Spark's (-1, 0, 1).
    No headers gives a null `headers`.
    """
    from confluent_kafka import Message

    n = len(messages)
    pairs = chain.from_iterable(map(Message.timestamp, messages))  # (type, millis) each
    stamps = np.fromiter(pairs, dtype=np.int64, count=2 * n).reshape(n, 2)
    arrays = [
        binary_column(list(map(Message.key, messages))),
        binary_column(list(map(Message.value, messages))),
        pa.repeat(pa.scalar(rng.topic, pa.string()), n),
        pa.repeat(pa.scalar(rng.partition, pa.int32()), n),
        pa.array(np.fromiter(map(Message.offset, messages), dtype=np.int64, count=n)),
        pa.array(stamps[:, 1] * 1000, schema.field("timestamp").type),
        pa.array((stamps[:, 0] - 1).astype(np.int32), pa.int32()),
    ]
    if "headers" in schema.names:
        headers = [h or None for h in map(Message.headers, messages)]
        arrays.append(pa.array(headers, schema.field("headers").type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
