"""What every executor-side reader does: read one exact offset range into Arrow record batches.

A `RangeReader` reads the offsets `[start, until)` of one topic-partition, whatever Kafka
client fetches them. Offsets may have gaps (compaction, transaction markers), so a read stops
at the first record at or past the end, or when the client reports its position (or the end
of the partition) at or past it. Records become Arrow columns directly, never Python row
tuples. Records gone from the broker and reads that make no progress raise `SourceError`
naming the range, unless failOnDataLoss=false (then the read goes on from what is left).
A client adds how it opens a consumer, fetches, and exposes record fields.
"""

import bisect
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from stream_scorer.errors import SourceError
from stream_scorer.kafka.source_options import SourceOptions
from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.readers.arrow import binary_column

log = logging.getLogger(__name__)

ROWS_PER_BATCH = 20_000
"""Rows per Arrow batch: large enough to amortise per-batch costs, small enough for memory."""


@dataclass(frozen=True)
class RecordFields:
    """The fields of a list of records, one sequence per field, in record order."""

    keys: list[bytes | None]
    values: list[bytes | None]
    offsets: np.ndarray
    timestamps_ms: np.ndarray
    timestamp_types: np.ndarray
    """Spark's timestamp types: 0 create time, 1 log append time, -1 none."""


class RangeReader(ABC):
    """Reads offset ranges of `options`' topics as record batches of `schema` (Spark's Kafka).

    One reader per Spark task; each `read` opens its own consumer, which joins no consumer
    group, commits nothing, and is closed when the read ends or fails.
    """

    offset_of: Callable[[Any], int]
    """The offset of one record of the client (a static method)."""

    def __init__(
        self, options: SourceOptions, schema: pa.Schema, rows_per_batch: int = ROWS_PER_BATCH
    ) -> None:
        self.options = options
        self.schema = schema
        self.rows_per_batch = rows_per_batch

    def read(self, rng: OffsetRange) -> Iterator[pa.RecordBatch]:
        """Yield the records of `rng` in batches of at most `rows_per_batch` rows.

        Raises
        ------
        ConfigError
            If the client refuses a `kafka.*` option.
        SourceError
            If records are missing, the broker refuses access, or no progress is made for
            `kafkaConsumer.pollTimeoutMs`, unless failOnDataLoss=false (then the range is cut).
        """
        for records in self.fetch(rng):
            yield self.to_record_batch(records, rng)

    def fetch(self, rng: OffsetRange) -> Iterator[list]:
        """Yield the client's records of `rng` in lists of at most `rows_per_batch` (see
        `read`, which raises the same); `fields` gives their columns."""
        consumer = self._connect(rng)
        try:
            self._assign(consumer, rng)
            yield from rebatched(self._chunks(consumer, rng), self.rows_per_batch)
        finally:
            consumer.close()

    def fields(self, records: list) -> RecordFields:
        """Return the fields of `records` (from `fetch`), each as one sequence."""
        return self._fields(records)

    def to_record_batch(self, records: list, rng: OffsetRange) -> pa.RecordBatch:
        """Return `records` (of `rng`'s partition) as one record batch of the schema.

        Columns are built whole, one C-level pass each (binary ones from joined buffers);
        topic and partition are constants. No headers give a null `headers`, as in Spark.
        """
        fields = self._fields(records)
        arrays = [
            binary_column(fields.keys),
            binary_column(fields.values),
            *coordinates(fields, rng, self.schema.field("timestamp").type),
            pa.array(fields.timestamp_types, pa.int32()),
        ]
        if "headers" in self.schema.names:
            headers = [h or None for h in self._headers(records)]
            arrays.append(pa.array(headers, self.schema.field("headers").type))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _chunks(self, consumer: Any, rng: OffsetRange) -> Iterator[list]:
        """Yield lists of records with offsets in `[rng.start, rng.until)`, in order."""
        offset_of = self.offset_of
        next_offset = rng.start
        progressed = time.monotonic()
        while next_offset < rng.until:
            records, reached = self._fetch(consumer, rng, next_offset)
            if records:
                last = offset_of(records[-1])
                if last >= rng.until:
                    yield records[: bisect.bisect_left(records, rng.until, key=offset_of)]
                    return
                yield records
                reached = max(reached, last + 1)
            if reached > next_offset:
                next_offset, progressed = reached, time.monotonic()
            elif (time.monotonic() - progressed) * 1000 > self.options.poll_timeout_ms:
                stalled(rng, next_offset, self.options)
                return

    @abstractmethod
    def _connect(self, rng: OffsetRange) -> Any:
        """Return a new consumer; `ConfigError` or `SourceError` naming `rng` if it fails."""

    @abstractmethod
    def _assign(self, consumer: Any, rng: OffsetRange) -> None:
        """Assign `rng`'s partition to `consumer`, positioned at `rng.start`."""

    @abstractmethod
    def _fetch(self, consumer: Any, rng: OffsetRange, offset: int) -> tuple[list, int]:
        """Fetch once from `offset` on: the records, in order, and the offset known reached.

        The offset reached is the client's position or end of partition when no record came
        (it moves the read past gaps), where reading resumes after lost records, or -1.
        """

    @abstractmethod
    def _fields(self, records: list) -> RecordFields:
        """Return the fields of `records`, each as one sequence."""

    @abstractmethod
    def _headers(self, records: list) -> Iterator[list | None]:
        """Yield the headers of each record: (key, value) pairs, empty or None for none."""


def coordinates(fields: RecordFields, rng: OffsetRange, timestamp: pa.DataType) -> list[pa.Array]:
    """The `topic, partition, offset, timestamp` columns of records of `rng` (`timestamp`:
    the Arrow type of the timestamp column)."""
    n = len(fields.offsets)
    return [
        pa.repeat(pa.scalar(rng.topic, pa.string()), n),
        pa.repeat(pa.scalar(rng.partition, pa.int32()), n),
        pa.array(fields.offsets),
        pa.array(fields.timestamps_ms * 1000, timestamp),
    ]


def rebatched(chunks: Iterator[list], size: int = ROWS_PER_BATCH) -> Iterator[list]:
    """Yield the items of `chunks` regrouped into lists of `size` (the last shorter)."""
    pending: list = []
    for chunk in chunks:
        pending.extend(chunk)
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


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
