"""Executor side of the Kafka source: read one offset range into Arrow record batches.

Each Spark task opens its own KafkaConsumer (no group, no commits), assigns the one
partition, seeks to the range start and polls until the range end. Offsets may have gaps
(compaction, transaction markers), so the read stops at the first record at or past the
end, or when the consumer's position reaches it. Records become Arrow columns directly
(a transpose of the polled records), never Python row tuples.
"""

import bisect
import logging
import time
from collections.abc import Iterator
from operator import attrgetter

import numpy as np
import pyarrow as pa
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.errors import KafkaError, OffsetOutOfRangeError

from stream_scorer.errors import SourceError
from stream_scorer.sources.metadata import consumer_settings
from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.options import SourceOptions
from stream_scorer.sources.readers.arrow import binary_column

log = logging.getLogger(__name__)

ROWS_PER_BATCH = 20_000
"""Rows per Arrow batch: large enough to amortise per-batch costs, small enough for memory."""
_POLL_SLICE_MS = 1_000  # one poll() call; the no-progress limit is the source option
_OFFSET, _TIMESTAMP, _TS_TYPE = (
    attrgetter("offset"),
    attrgetter("timestamp"),
    attrgetter("timestamp_type"),
)
_KEY, _VALUE, _HEADERS = attrgetter("key"), attrgetter("value"), attrgetter("headers")


def read_range(
    offset_range: OffsetRange, options: SourceOptions, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """Yield the records of `offset_range` as record batches of `schema` (Spark's Kafka schema).

    Raises
    ------
    SourceError
        If records are missing (out of range) or no progress is made for
        `kafkaConsumer.pollTimeoutMs`, unless failOnDataLoss=false (then the range is cut).
    """
    try:
        consumer = KafkaConsumer(**consumer_settings(options.kafka))
    except KafkaError as exc:
        msg = f"{where(offset_range, offset_range.start)}: cannot connect to Kafka: {exc!r}"
        raise SourceError(msg) from exc
    tp = KafkaTopicPartition(offset_range.topic, offset_range.partition)
    try:
        consumer.assign([tp])
        consumer.seek(tp, offset_range.start)
        for records in rebatched(_polled(consumer, tp, offset_range, options)):
            yield to_record_batch(records, schema)
    finally:
        consumer.close()


def rebatched(chunks: Iterator[list]) -> Iterator[list]:
    """Yield the items of `chunks` regrouped into lists of ROWS_PER_BATCH (the last shorter)."""
    pending: list = []
    for chunk in chunks:
        pending.extend(chunk)
        while len(pending) >= ROWS_PER_BATCH:
            yield pending[:ROWS_PER_BATCH]
            pending = pending[ROWS_PER_BATCH:]
    if pending:
        yield pending


def _polled(
    consumer: KafkaConsumer, tp: KafkaTopicPartition, rng: OffsetRange, options: SourceOptions
) -> Iterator[list]:
    """Yield lists of records with offsets in `[rng.start, rng.until)`, in order."""
    next_offset = rng.start
    progressed = time.monotonic()
    while next_offset < rng.until:
        try:
            records = consumer.poll(_POLL_SLICE_MS, max_records=ROWS_PER_BATCH).get(tp)
        except OffsetOutOfRangeError:
            next_offset = _skip_lost(consumer, tp, rng, next_offset, options)
            continue
        except KafkaError as exc:
            msg = f"{where(rng, next_offset)}: Kafka read failed: {exc!r}"
            raise SourceError(msg) from exc
        if records:
            if records[-1].offset >= rng.until:
                yield records[: bisect.bisect_left(records, rng.until, key=_OFFSET)]
                return
            yield records
            next_offset = records[-1].offset + 1
            progressed = time.monotonic()
            continue
        position = consumer.position(tp)  # moves past gaps that hold no records
        if position is not None and position > next_offset:
            next_offset, progressed = position, time.monotonic()
        elif (time.monotonic() - progressed) * 1000 > options.poll_timeout_ms:
            stalled(rng, next_offset, options)
            return


def _skip_lost(
    consumer: KafkaConsumer,
    tp: KafkaTopicPartition,
    rng: OffsetRange,
    offset: int,
    options: SourceOptions,
) -> int:
    """Handle records gone from the broker: raise, or continue at the earliest offset left."""
    resume = resume_after_loss(rng, offset, consumer.beginning_offsets([tp])[tp], options)
    if resume < rng.until:
        consumer.seek(tp, resume)
    return resume


def resume_after_loss(rng: OffsetRange, offset: int, earliest: int, options: SourceOptions) -> int:
    """Return where to go on after `offset` was found missing (earliest stored: `earliest`).

    Raises `SourceError` naming the range unless failOnDataLoss=false.
    """
    what = f"{where(rng, offset)}: offset {offset} is no longer stored (earliest {earliest})"
    if options.fail_on_data_loss:
        msg = f"{what}; some records were never read. Set failOnDataLoss=false to skip them."
        raise SourceError(msg)
    # Below the earliest offset: records aged out, go on from what is left. Otherwise the
    # log ends before `offset` (truncated or recreated): nothing of this range is left.
    resume = earliest if earliest > offset else rng.until
    log.warning("%s; failOnDataLoss=false: continuing at offset %d", what, resume)
    return resume


def stalled(rng: OffsetRange, offset: int, options: SourceOptions) -> None:
    """Handle a range that made no progress for `kafkaConsumer.pollTimeoutMs`.

    Raises `SourceError` naming the range and offset, or, with failOnDataLoss=false, logs
    that the rest of the range is skipped.
    """
    what = (
        f"{where(rng, offset)}: no records for kafkaConsumer.pollTimeoutMs="
        f"{options.poll_timeout_ms} ms"
    )
    if options.fail_on_data_loss:
        msg = (
            f"{what}; check the broker, raise kafkaConsumer.pollTimeoutMs, or set "
            "failOnDataLoss=false to skip the rest of the range"
        )
        raise SourceError(msg)
    log.warning("%s; failOnDataLoss=false: skipping offsets %d to %d", what, offset, rng.until)


def where(rng: OffsetRange, offset: int) -> str:
    """Return "topic 't' partition 0 range [a, b) at offset o", for messages."""
    return (
        f"topic '{rng.topic}' partition {rng.partition} range [{rng.start}, {rng.until}) "
        f"at offset {offset}"
    )


def to_record_batch(records: list, schema: pa.Schema) -> pa.RecordBatch:
    """Return `records` (kafka-python ConsumerRecords of one partition) as one batch of `schema`.

    Columns are built whole, one C-level pass each (binary ones from joined buffers); topic
    and partition are constants. No headers gives a null `headers`, as in Spark's Kafka source.
    """
    n = len(records)
    first = records[0]
    millis = np.fromiter(map(_TIMESTAMP, records), dtype=np.int64, count=n)
    arrays = [
        binary_column(list(map(_KEY, records))),
        binary_column(list(map(_VALUE, records))),
        pa.repeat(pa.scalar(first.topic, pa.string()), n),
        pa.repeat(pa.scalar(first.partition, pa.int32()), n),
        pa.array(np.fromiter(map(_OFFSET, records), dtype=np.int64, count=n)),
        pa.array(millis * 1000, schema.field("timestamp").type),
        pa.array(list(map(_TS_TYPE, records)), pa.int32()),
    ]
    if "headers" in schema.names:
        headers = [h or None for h in map(_HEADERS, records)]
        arrays.append(pa.array(headers, schema.field("headers").type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
