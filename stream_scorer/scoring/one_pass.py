"""The scorer's own path: read, parse and score a micro-batch in one Python pass.

The batch holds offset ranges (`sources.ranges`). `score_ranges` maps each range, in the
task Spark planned for it, to Arrow batches of scored rows: the worker fetches the range
with the source's Kafka client, decodes and predicts as the scoring UDF does
(`udf.BatchScoring`), and yields the record coordinates with the scored struct. Records
cross from Python to the JVM once, as predictions; the raw key and value come along only
for rows that failed (the dead letter keeps them), or the key for every row when the output
includes it. The result has `stage.score`'s columns, so `predictions` and `dead_letters`
apply unchanged.

Given the batch directories of sinks (`sinks.task_files`: Parquet and table files, Kafka
records), the tasks also write the prediction rows there themselves
(`prediction_rows.PredictionRows`), and the result holds only the rows that failed: the
scored rows never cross to the JVM at all.
"""

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark import TaskContext
from pyspark.sql import DataFrame
from pyspark.sql.types import StructField, StructType

from stream_scorer.config.settings import FeaturesConfig, OutputConfig
from stream_scorer.errors import ScorerError
from stream_scorer.kafka.schema import KAFKA_SCHEMA
from stream_scorer.kafka.source_options import SourceOptions
from stream_scorer.monitoring.counts import DRIFT, BatchCounts
from stream_scorer.scoring.prediction_rows import PredictionRows
from stream_scorer.scoring.stage import (
    SCORED,
    SOURCE_COLUMNS,
    failure_columns,
    predictions_schema,
    scored_columns,
)
from stream_scorer.scoring.udf import BatchScoring
from stream_scorer.serving.model import ServingModel
from stream_scorer.sinks.task_files import BatchDirectory, TaskFiles
from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.readers.arrow import binary_column
from stream_scorer.sources.readers.base import RecordFields, coordinates
from stream_scorer.sources.readers.clients import READERS
from stream_scorer.types import arrow_schema

_RECORDS = arrow_schema(KAFKA_SCHEMA)
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
    files: tuple[TaskFiles, ...] = ()
    """Where the task writes its prediction rows itself; it then yields only failed rows."""
    rows: PredictionRows | None = None
    """The prediction rows of a scored batch, for `files`."""

    def __call__(self, ranges: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Score every record of the `ranges` rows (topic, partition, start, until)."""
        if not self.files or self.rows is None:
            yield from self._score(ranges)
            return
        project = self.rows
        context = TaskContext.get()
        partition = context.partitionId() if context is not None else 0
        with contextlib.ExitStack() as stack:
            files = [stack.enter_context(target.open(partition)) for target in self.files]
            for scored in self._score(ranges):
                rows = project(scored)
                for file in files:
                    file.write(rows)
                failed = scored.filter(self._kept(scored.column(SCORED)))
                if failed.num_rows:
                    yield failed
            for file in files:
                if file.rows:
                    file.commit()

    def _kept(self, struct: pa.StructArray) -> pa.Array:
        """The rows the JVM gets when the task writes the scored ones: the failed rows, and
        the row carrying the batch's monitoring measures (`DRIFT`), if any."""
        failed = struct.field("error").is_valid()
        if self.scoring.counts is None:
            return failed
        return pc.or_(failed, struct.field(DRIFT).is_valid())

    def _score(self, ranges: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        score = self.scoring.open()
        reader = READERS[self.source.kafka_client](self.source, _RECORDS, self.rows_per_batch)
        for batch in ranges:
            for row in batch.to_pylist():
                rng = OffsetRange(**row)
                for records in reader.fetch(rng):
                    yield self._scored(reader.fields(records), rng, score)

    def _scored(
        self, fields: RecordFields, rng: OffsetRange, score: Callable[[list], pd.DataFrame]
    ) -> pa.RecordBatch:
        """The scored batch of one fetch: coordinates, the key and value where kept, and the
        scored struct."""
        columns = score(fields.values)
        struct_type = self.schema.field(SCORED).type
        struct_fields = [struct_type.field(i) for i in range(struct_type.num_fields)]
        arrays = [_arrow(columns[f.name], f) for f in struct_fields]
        scored = pa.StructArray.from_arrays(arrays, fields=struct_fields)
        failed = np.flatnonzero(scored.field("error").is_valid().to_numpy(zero_copy_only=False))
        timestamp = self.schema.field("timestamp").type
        return pa.RecordBatch.from_arrays(
            [
                binary_column(fields.keys) if self.keep_keys else _only(fields.keys, failed),
                _only(fields.values, failed),
                *coordinates(fields, rng, timestamp),
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
    files: Sequence[BatchDirectory] = (),
    counts: BatchCounts | None = None,
) -> DataFrame:
    """`stage.score` of the records in `ranges` (rows of `sources.ranges.RANGES_SCHEMA`),
    fetched with `source`'s options, in Arrow batches of at most `rows_per_batch` records.

    Same columns, same guarantees, except that `value` is null on scored rows and `key` too
    unless `output.include_key`. Lazy: each evaluation fetches the ranges again (same
    offsets, same records), so persist before reading it twice. Raises what the range
    readers raise (`SourceError` on lost records) inside the Spark job.

    With `files` (prepared batch directories, not with a shadow), each evaluation writes the
    prediction rows to every directory from the tasks, and the frame holds the failed rows
    only, in the columns `stage.dead_letters` reads (`stage.failure_columns`), and with
    monitoring `counts` each Arrow batch's row carrying its measures (`stage.score`).
    """
    output = output or OutputConfig()
    scoring = BatchScoring.of(
        serving, features, cache_capacity, shadow, with_shadow, output.include_features, counts
    )
    schema = StructType(
        [*(KAFKA_SCHEMA[name] for name in SOURCE_COLUMNS), StructField(SCORED, scoring.struct)]
    )
    task = RangeScoring(
        scoring,
        source,
        rows_per_batch,
        output.include_key,
        arrow_schema(schema),
    )
    if files and with_shadow:
        msg = "the tasks write no files beside a shadow: score_ranges(files=...) without it"
        raise ValueError(msg)
    if not files:
        scored = ranges.mapInArrow(task, schema)
        measured = counts is not None
        return scored_columns(scored, serving, features, shadow, with_shadow, output, measured)
    written = predictions_schema(serving, features, output)
    writers = tuple(directory.writer(written) for directory in files)
    rows = PredictionRows.of(serving, writers[0].schema)
    task = dataclasses.replace(task, files=writers, rows=rows)
    return failure_columns(ranges.mapInArrow(task, schema), serving, counts is not None)


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


def _only(items: list, rows: np.ndarray) -> pa.Array:
    """A binary column holding `items` at `rows`, null elsewhere (a dead letter's raw bytes)."""
    if not len(rows):
        return pa.nulls(len(items), pa.binary())
    kept: list = [None] * len(items)
    for i in rows.tolist():
        kept[i] = items[i]
    return binary_column(kept)
