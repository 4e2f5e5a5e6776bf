"""The scorer's own path: read, parse and score a micro-batch in one Python pass.

The batch holds offset ranges (`sources.ranges`). `score_ranges` maps each range, in the
task Spark planned for it, to Arrow batches of scored rows: the worker fetches the range
with the source's Kafka client, decodes and predicts as the scoring UDF does
(`udf.BatchScoring`), and yields the record coordinates with the scored struct. Records
cross from Python to the JVM once, as predictions; the raw key and value come along only
for rows that failed (the dead letter keeps them), or the key for every row when the output
includes it. The result has `stage.score`'s columns, so `predictions` and `dead_letters`
apply unchanged.
"""

import dataclasses
from collections.abc import Callable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import StructField, StructType

from stream_scorer.config.settings import FeaturesConfig, OutputConfig
from stream_scorer.errors import ScorerError
from stream_scorer.kafka.schema import KAFKA_SCHEMA
from stream_scorer.kafka.source_options import SourceOptions
from stream_scorer.models.serving import ServingModel
from stream_scorer.scoring.stage import SCORED, SOURCE_COLUMNS, scored_columns
from stream_scorer.scoring.udf import BatchScoring
from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.python_kafka import READERS

_RECORDS = to_arrow_schema(KAFKA_SCHEMA, timezone="UTC")
"""Arrow schema of the records a range reader yields."""


@dataclasses.dataclass(frozen=True)
class RangeScoring:
    """What each task needs to score its ranges (shipped in the mapInArrow closure)."""

    scoring: BatchScoring
    source: SourceOptions
    rows_per_batch: int
    keep_keys: bool
    schema: pa.Schema
    """Arrow schema of the yielded batches: `SOURCE_COLUMNS`, then `SCORED`."""

    def __call__(self, ranges: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Score every record of the `ranges` rows (topic, partition, start, until)."""
        score = self.scoring.open()
        reader = READERS[self.source.kafka_client](self.source, _RECORDS, self.rows_per_batch)
        for batch in ranges:
            for row in batch.to_pylist():
                for records in reader.read(OffsetRange(**row)):
                    yield self._scored(records, score)

    def _scored(
        self, records: pa.RecordBatch, score: Callable[[pd.Series], pd.DataFrame]
    ) -> pa.RecordBatch:
        values = records.column("value")
        columns = score(values.to_pandas())
        struct_type = self.schema.field(SCORED).type
        fields = [struct_type.field(i) for i in range(struct_type.num_fields)]
        arrays = [_arrow(columns[f.name], f) for f in fields]
        scored = pa.StructArray.from_arrays(arrays, fields=fields)
        failed = scored.field("error").is_valid()
        key = records.column("key")
        return pa.RecordBatch.from_arrays(
            [
                key if self.keep_keys else _where(failed, key),
                _where(failed, values),
                *(records.column(name) for name in SOURCE_COLUMNS[2:]),
                scored,
            ],
            schema=self.schema,
        )


def score_ranges(
    ranges: DataFrame,
    serving: ServingModel,
    features: FeaturesConfig,
    cache_capacity: int = 2,
    shadow: ServingModel | None = None,
    with_shadow: bool = False,
    output: OutputConfig | None = None,
    *,
    source: SourceOptions,
    rows_per_batch: int = 10_000,
) -> DataFrame:
    """`stage.score` of the records in `ranges` (rows of `sources.ranges.RANGES_SCHEMA`),
    fetched with `source`'s options, in Arrow batches of at most `rows_per_batch` records.

    Same columns, same guarantees, except that `value` is null on scored rows and `key` too
    unless `output.include_key`. Lazy: each evaluation fetches the ranges again (same
    offsets, same records), so persist before reading it twice. Raises what the range
    readers raise (`SourceError` on lost records) inside the Spark job.
    """
    output = output or OutputConfig()
    scoring = BatchScoring.of(
        serving, features, cache_capacity, shadow, with_shadow, output.include_features
    )
    kafka = {f.name: f for f in KAFKA_SCHEMA.fields}
    schema = StructType(
        [*(kafka[name] for name in SOURCE_COLUMNS), StructField(SCORED, scoring.struct)]
    )
    task = RangeScoring(
        scoring,
        source,
        rows_per_batch,
        output.include_key,
        to_arrow_schema(schema, timezone="UTC"),
    )
    scored = ranges.mapInArrow(task, schema)
    return scored_columns(scored, serving, features, shadow, with_shadow, output)


def _arrow(column: pd.Series, field: pa.Field) -> pa.Array:
    """`column` as `field`'s Arrow type; a ScorerError in the words of Spark's pandas UDF
    conversion if it does not fit (a model that returns values of another type)."""
    try:
        return pa.Array.from_pandas(column, type=field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        msg = (
            f"Failed to convert the value of the column '{field.name}' with type "
            f"'{column.dtype}' to Arrow type '{field.type}': {exc}"
        )
        raise ScorerError(msg) from exc


def _where(keep: pa.Array, column: pa.Array) -> pa.Array:
    """`column` where `keep` is true, null elsewhere."""
    return pc.if_else(keep, column, pa.scalar(None, column.type))
