"""Parquet files, one directory per micro-batch, written once per batch id."""

import logging

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from stream_scorer.errors import SinkError
from stream_scorer.sinks.base import BatchMarkers, Sink
from stream_scorer.testing.faults import fault_point

log = logging.getLogger(__name__)

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
        self._markers: BatchMarkers | None = None

    def open(self, spark: SparkSession) -> None:
        """Attach the commit markers in `<path>/_commits` (created on first commit)."""
        self._markers = BatchMarkers(spark, f"{self.path}/{COMMITS_DIR}")

    def write(self, df: DataFrame, batch_id: int) -> int:
        """Write the batch unless already committed; return rows written (0 for a replay).

        Called once per micro-batch on the driver; idempotent for a batch_id.

        Raises
        ------
        SinkError
            If `open` was not called, or Spark could not write the files or the marker. The
            batch stays uncommitted and its replay rewrites the directory from scratch.
        """
        if self._markers is None:
            msg = f"parquet sink {self.path}: write() called before open(spark)"
            raise SinkError(msg)
        if self._markers.is_committed(batch_id):
            log.info("batch %d already committed to %s; replay skipped", batch_id, self.path)
            return 0
        target = f"{self.path}/batch_id={batch_id}"
        rows = Observation()
        try:
            df.observe(rows, F.count(F.lit(1)).alias("rows")).write.mode("overwrite").parquet(
                target
            )
        except (PySparkException, Py4JJavaError) as exc:
            msg = f"cannot write batch {batch_id} to {target}: {exc}"
            raise SinkError(msg) from exc
        fault_point("parquet-write", batch_id)
        self._markers.mark_committed(batch_id)
        return int(rows.get["rows"])
