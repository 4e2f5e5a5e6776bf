"""Parquet files, one directory per micro-batch, written once per batch id."""

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from stream_scorer.errors import SinkError
from stream_scorer.sinks.base import Sink
from stream_scorer.sinks.task_files import (
    DISTINCT_VALUED,
    BatchDirectory,
    FileOptions,
    local_path,
)

COMMITS_DIR = "_commits"
"""Marker directory under the sink's path; the leading '_' hides it from Spark's readers."""


def plain_encoded(schema: T.StructType) -> dict[str, str]:
    """Writer options that turn Parquet's dictionary encoding off for the columns of
    `DISTINCT_VALUED` types (and arrays of them), keeping it for strings, ints and booleans.

    Parquet tries a dictionary per column chunk until it outgrows its page (1 MB): on a
    column of distinct values that is a hash lookup per value for no gain, and it was the
    largest single cost of writing a scored batch.
    """
    options = {}
    for field in schema.fields:
        kind, path = field.dataType, field.name
        if isinstance(kind, T.ArrayType):
            kind, path = kind.elementType, f"{path}.list.element"
        if isinstance(kind, DISTINCT_VALUED):
            options[f"parquet.enable.dictionary#{path}"] = "false"
    return options


class ParquetSink(Sink):
    """Writes batch `N` to `<path>/batch_id=N/`, then marks it in `<path>/_commits/N`.

    `spark.read.parquet(path)` reads every batch, with a `batch_id` column from the
    directory names. Guarantee: exactly once per batch id. A committed batch is skipped on
    replay; a batch whose write failed half-way has no marker, and its replay overwrites
    the partial directory.
    """

    def __init__(self, path: str) -> None:
        self.path = path.rstrip("/")
        super().__init__(self.path, f"{self.path}/{COMMITS_DIR}")
        self._file_options = FileOptions()

    def open(self, spark: SparkSession) -> None:
        """Attach the markers and take the session's Parquet options for task-written files."""
        super().open(spark)
        self._file_options = FileOptions.of(spark)

    def task_writes(self, batch_id: int) -> BatchDirectory | None:
        """The directory of batch `batch_id`, for tasks that write its files themselves
        (`sinks.task_files`); None unless the sink is on the local filesystem, in a codec
        pyarrow writes."""
        path = local_path(f"{self.path}/batch_id={batch_id}")
        if path is None or not self._file_options.writable:
            return None
        return BatchDirectory(path, self._file_options)

    def _write_batch(self, df: DataFrame, batch_id: int) -> int:
        """Write the batch to `<path>/batch_id=N/`, replacing what a failed attempt left.

        Raises
        ------
        SinkError
            If Spark could not write the files; the batch stays uncommitted and its replay
            rewrites the directory from scratch.
        """
        target = f"{self.path}/batch_id={batch_id}"
        rows = Observation()
        writer = df.observe(rows, F.count(F.lit(1)).alias("rows")).write.mode("overwrite")
        try:
            writer.options(**plain_encoded(df.schema)).parquet(target)
        except (PySparkException, Py4JJavaError) as exc:
            msg = f"cannot write batch {batch_id} to {target}: {exc}"
            raise SinkError(msg) from exc
        return int(rows.get["rows"])
