"""Parquet files, one directory per micro-batch, written once per batch id."""

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from stream_scorer.errors import SinkError
from stream_scorer.sinks.base import Sink

COMMITS_DIR = "_commits"
"""Marker directory under the sink's path; the leading '_' hides it from Spark's readers."""


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
        try:
            df.observe(rows, F.count(F.lit(1)).alias("rows")).write.mode("overwrite").parquet(
                target
            )
        except (PySparkException, Py4JJavaError) as exc:
            msg = f"cannot write batch {batch_id} to {target}: {exc}"
            raise SinkError(msg) from exc
        return int(rows.get["rows"])
