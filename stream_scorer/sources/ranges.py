"""The python-kafka source as the scorer reads it: offset ranges, not records.

Planning is the Kafka source's own (offsets in Spark's checkpoint, `maxOffsetsPerTrigger`,
`availableNow`, data loss, splitting), but each input partition yields one small row,
`topic, partition, start, until`, and the records are fetched later, in the Python pass that
also parses and scores them (`scoring.one_pass`). Records then cross from Python to the JVM
once, as predictions, instead of as raw records that go back to Python for the UDF.
"""

from collections.abc import Iterator

from pyspark.sql.datasource import InputPartition
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.python_kafka import KafkaDataSource, KafkaStreamReader

RANGES_SCHEMA = StructType(
    [
        StructField("topic", StringType()),
        StructField("partition", IntegerType()),
        StructField("start", LongType()),
        StructField("until", LongType()),
    ]
)
"""One row per input partition: the offsets `[start, until)` of one topic-partition."""


class KafkaRangesDataSource(KafkaDataSource):
    """`spark.readStream.format("stream_scorer_kafka_ranges")`: the Kafka source's options,
    one `RANGES_SCHEMA` row per planned offset range."""

    @classmethod
    def name(cls) -> str:
        """Return the format name, `stream_scorer_kafka_ranges`."""
        return "stream_scorer_kafka_ranges"

    def schema(self) -> StructType:
        """Return `RANGES_SCHEMA`."""
        return RANGES_SCHEMA

    def streamReader(self, schema: StructType) -> "RangesStreamReader":
        """Return the stream reader for these options."""
        return RangesStreamReader(self._source_options, schema)


class RangesStreamReader(KafkaStreamReader):
    """Plans as the Kafka source does; reads nothing from Kafka."""

    def read(self, partition: InputPartition) -> Iterator[tuple[str, int, int, int]]:
        """Yield the input partition's offset range as one row."""
        rng: OffsetRange = partition.value
        yield rng.topic, rng.partition, rng.start, rng.until
