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
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.streaming.datasource import (
    ReadAllAvailable,
    ReadLimit,
    ReadMaxRows,
    SupportsTriggerAvailableNow,
)
from pyspark.sql.types import StructType

from stream_scorer.errors import SourceError
from stream_scorer.kafka.options import redact
from stream_scorer.kafka.schema import kafka_schema
from stream_scorer.kafka.source_options import KafkaClient, SourceOptions, parse_options
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
from stream_scorer.sources.readers.base import RangeReader
from stream_scorer.sources.readers.confluent import ConfluentReader
from stream_scorer.sources.readers.kafka_python import KafkaPythonReader

log = logging.getLogger(__name__)

READERS: dict[KafkaClient, type[RangeReader]] = {
    "confluent-kafka": ConfluentReader,
    "kafka-python": KafkaPythonReader,
}
"""The range reader of each `kafkaClient`."""


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
    """

    def __init__(self, options: SourceOptions, schema: StructType) -> None:
        self._options = options
        self._schema = schema
        self._metadata = KafkaMetadata(options)
        self._group = GroupOffsetCommitter(options)
        self._target: Offsets | None = None  # availableNow: latest offsets at query start
        self._broker_latest: Offsets | None = None  # from the last latestOffset, for lag

    def initialOffset(self) -> dict:
        """Resolve `startingOffsets` to numbers for a query without a checkpoint."""
        log.info("Kafka source starting with options %s", redact(self._options.kafka))
        parts = self._metadata.partitions()
        earliest, latest = self._metadata.earliest(parts), self._metadata.latest(parts)
        return to_json_dict(resolve_starting(self._options.starting, earliest, latest))

    def getDefaultReadLimit(self) -> ReadLimit:
        """Return `ReadMaxRows(maxOffsetsPerTrigger)` when that option is set."""
        budget = self._options.max_offsets_per_trigger
        return ReadMaxRows(budget) if budget else ReadAllAvailable()

    def prepareForTriggerAvailableNow(self) -> None:
        """Remember today's latest offsets: the query reads up to them and no further."""
        parts = self._metadata.partitions()
        self._target = self._metadata.latest(parts)

    def latestOffset(self, start: dict, limit: ReadLimit) -> dict:
        """Return the end offsets of the next micro-batch, within `limit`.

        New partitions start from their earliest offset. Raises `SourceError` on data loss
        with failOnDataLoss=true; with false, logs it and goes on from what exists.
        """
        begin = from_json_dict(start)
        self._group.commit(begin)  # Spark asks once the batch ending at `start` is done
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
        new = [tp for tp in until if tp not in begin]
        begin.update(self._metadata.earliest(new))
        ranges = [OffsetRange(t, p, begin[(t, p)], u) for (t, p), u in sorted(until.items())]
        opts = self._options
        split = split_ranges(ranges, opts.min_partitions, opts.max_records_per_partition)
        return [InputPartition(r) for r in split]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        """Yield the records of one offset range as Arrow record batches (executor side)."""
        arrow_schema = to_arrow_schema(self._schema, timezone="UTC")
        reader = READERS[self._options.kafka_client](self._options, arrow_schema)
        return reader.read(partition.value)

    def commit(self, end: dict) -> None:
        """Write `end` to the consumer group `kafka.group.id`, if set (Spark committed it).

        For lag tools only: positions come from the checkpoint. A failed write is logged.
        """
        self._group.commit(from_json_dict(end))

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
