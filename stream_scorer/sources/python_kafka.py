"""The jar-free Kafka source: a PySpark Python Data Source stream reader.

Offsets per topic-partition live in Spark's checkpoint (the offset dicts in the JSON shape
of Spark's Kafka source), so a restarted query resumes exactly where its last committed
batch ended; consumer-group offsets are never read. With `kafka.group.id` set, each
committed batch's end offsets are written to that group, for lag tools only. Each
micro-batch reads exact offset ranges, at least one Spark task per Kafka partition with
records, with librdkafka (confluent-kafka, the default) or (`kafkaClient=kafka-python`)
kafka-python.
"""

import logging
from collections.abc import Iterator, Sequence
from functools import cached_property

import pyarrow as pa
from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition
from pyspark.sql.types import StructType

from stream_scorer.errors import SourceError
from stream_scorer.kafka.options import redact
from stream_scorer.kafka.schema import kafka_schema
from stream_scorer.kafka.source_options import SourceOptions, parse_options
from stream_scorer.sources.group_offsets import GroupOffsetCommitter
from stream_scorer.sources.metadata import KafkaMetadata
from stream_scorer.sources.offsets import (
    DataLoss,
    OffsetRange,
    Offsets,
    find_data_loss,
    from_json_dict,
    lost_new_partitions,
    rate_limit,
    resolve_starting,
    split_ranges,
    to_json_dict,
)
from stream_scorer.sources.readers.clients import READERS
from stream_scorer.sources.spark_api import (
    ADMISSION_CONTROL,
    ReadAllAvailable,
    ReadLimit,
    ReadMaxRows,
    SupportsTriggerAvailableNow,
)
from stream_scorer.types import arrow_schema

log = logging.getLogger(__name__)


class KafkaDataSource(DataSource):
    """`spark.readStream.format("stream_scorer_kafka")`: Spark's Kafka source options and schema.

    Spark hands the options lower-cased; they are parsed once per data source, with the
    config's rules. A bad one raises `ConfigError`.
    """

    @cached_property
    def _source_options(self) -> SourceOptions:
        return parse_options(self.options)

    @classmethod
    def name(cls) -> str:
        """Return the format name, `stream_scorer_kafka`."""
        return "stream_scorer_kafka"

    def schema(self) -> StructType:
        """Return Spark's Kafka source schema, with `headers` if `includeHeaders` is true."""
        return kafka_schema(self._source_options.include_headers)

    def streamReader(self, schema: StructType) -> "KafkaStreamReader":
        """Return the stream reader for these options."""
        return KafkaStreamReader(self._source_options, schema)


class KafkaStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """Plans micro-batches as offset ranges (driver) and reads them (executors).

    Admission control: `maxOffsetsPerTrigger` is the default read limit; whatever limit the
    engine passes is honoured. With `trigger(availableNow=True)` the query stops at the
    offsets that were latest when it started. Data loss (topic recreated, records aged out,
    partition gone) raises `SourceError` unless failOnDataLoss=false.

    Without admission control (pyspark 4.0, 4.1: `sources.spark_api`) Spark passes no start
    offset: the reader starts from the end of the batch it planned last, from the end Spark
    commits first after a restart, or from `startingOffsets` in a new query (as PySpark's own
    simple-reader wrapper does there). A batch planned from a wrong guess would have an end
    before its start: that fails as data loss, never reads an offset twice.
    """

    def __init__(self, options: SourceOptions, schema: StructType) -> None:
        self._options = options
        self._schema = schema
        self._metadata = KafkaMetadata(options)
        self._group = GroupOffsetCommitter(options)
        self._target: Offsets | None = None  # availableNow: latest offsets at query start
        self._broker_latest: Offsets | None = None  # from the last latestOffset, for lag
        self._position: Offsets | None = None  # without admission control: the planned end

    def initialOffset(self) -> dict:
        """Resolve `startingOffsets` to numbers for a query without a checkpoint."""
        log.info("Kafka source starting with options %s", redact(self._options.kafka))
        parts = self._metadata.partitions()
        earliest, latest = self._metadata.earliest(parts), self._metadata.latest(parts)
        initial = resolve_starting(self._options.starting, earliest, latest)
        self._position = initial
        return to_json_dict(initial)

    def getDefaultReadLimit(self) -> ReadLimit:
        """Return `ReadMaxRows(maxOffsetsPerTrigger)` when that option is set."""
        budget = self._options.max_offsets_per_trigger
        return ReadMaxRows(budget) if budget else ReadAllAvailable()

    def prepareForTriggerAvailableNow(self) -> None:
        """Remember today's latest offsets: the query reads up to them and no further."""
        parts = self._metadata.partitions()
        self._target = self._metadata.latest(parts)

    def latestOffset(self, start: dict | None = None, limit: ReadLimit | None = None) -> dict:
        """Return the end offsets of the next micro-batch, within `limit`.

        New partitions start from their earliest offset. Raises `SourceError` on data loss
        with failOnDataLoss=true; with false, logs it and goes on from what exists. Without
        admission control (no `start`, no `limit`), from the reader's own position and
        within `maxOffsetsPerTrigger`.
        """
        if start is None:
            if self._position is None:  # a new query: Spark asks before initialOffset
                self._position = from_json_dict(self.initialOffset())
            end = self._latest_from(self._position, self.getDefaultReadLimit())
            self._position = from_json_dict(end)
            return end
        self._group.commit(from_json_dict(start))  # Spark asks once that batch is done
        return self._latest_from(from_json_dict(start), limit or ReadAllAvailable())

    def _latest_from(self, begin: Offsets, limit: ReadLimit) -> dict:
        parts = self._metadata.partitions()
        earliest, latest = self._metadata.earliest(parts), self._metadata.latest(parts)
        self._broker_latest = latest
        for loss in find_data_loss(begin, earliest, latest):
            self._data_loss(loss)
            tp = (loss.topic, loss.partition)
            if loss.resume is None:
                del begin[tp]
            else:
                begin[tp] = loss.resume
        new = {tp: earliest[tp] for tp in parts if tp not in begin}
        for loss in lost_new_partitions(new):
            self._data_loss(loss)
        begin.update(new)
        available = latest
        if self._target is not None:
            available = {
                tp: max(begin[tp], min(latest[tp], end))
                for tp, end in self._target.items()
                if tp in begin
            }
        if isinstance(limit, ReadAllAvailable):
            return to_json_dict(available)
        if isinstance(limit, ReadMaxRows):
            return to_json_dict(rate_limit(begin, available, limit.max_rows))
        msg = f"Kafka source supports ReadAllAvailable and ReadMaxRows limits, not {limit!r}"
        raise SourceError(msg)

    def reportLatestOffset(self) -> dict:
        """Return the broker's latest offsets of every subscribed partition (for lag).

        Spark asks right after `latestOffset`, which has just fetched them (as Spark's own
        Kafka source does, they are reused rather than fetched twice).
        """
        latest = self._broker_latest
        if latest is None:
            latest = self._metadata.latest(self._metadata.partitions())
        return to_json_dict(latest)

    def partitions(self, start: dict, end: dict) -> Sequence[InputPartition]:
        """Return one input partition per Kafka partition with records (more when split)."""
        begin, until = from_json_dict(start), from_json_dict(end)
        if not ADMISSION_CONTROL:
            self._position = dict(until)  # a replayed batch moves the reader on to its end
        new = [tp for tp in until if tp not in begin]
        begin.update(self._metadata.earliest(new))
        for tp in [tp for tp, u in until.items() if u < begin[tp]]:  # planned with no start
            why = f"offsets went backwards to {until[tp]} (topic deleted and recreated?)"
            self._data_loss(DataLoss(tp[0], tp[1], begin[tp], until[tp], why))
            begin[tp] = until[tp]
        ranges = [OffsetRange(t, p, begin[(t, p)], u) for (t, p), u in sorted(until.items())]
        opts = self._options
        split = split_ranges(ranges, opts.min_partitions, opts.max_records_per_partition)
        return [InputPartition(r) for r in split]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        """Yield the records of one offset range as Arrow record batches (executor side)."""
        schema = arrow_schema(self._schema)
        reader = READERS[self._options.kafka_client](self._options, schema)
        return reader.read(partition.value)

    def commit(self, end: dict) -> None:
        """Write `end` to the consumer group `kafka.group.id`, if set (Spark committed it).

        For lag tools only: positions come from the checkpoint. A failed write is logged.
        Without admission control the first commit after a restart is the reader's position.
        """
        committed = from_json_dict(end)
        if self._position is None:
            self._position = committed
        self._group.commit(committed)

    def stop(self) -> None:
        """Close the driver-side clients."""
        self._metadata.close()
        self._group.close()

    def _data_loss(self, loss: DataLoss) -> None:
        if self._options.fail_on_data_loss:
            msg = f"Kafka source lost data on {loss}; set failOnDataLoss=false to skip"
            raise SourceError(msg)
        resume = "dropping the partition" if loss.resume is None else f"at {loss.resume}"
        log.warning("Kafka source lost data on %s; failOnDataLoss=false: going on %s", loss, resume)
