"""Start a local master's Python workers while the streaming query starts.

Spark starts the worker daemon on the first Python task, and the daemon imports scikit-learn,
SciPy, pandas and pyarrow (~1.4 s) before its first fork. A fresh scorer's first task is the
first batch's, which so waits for the data source planners and then for those imports, one
after the other. A no-op job of one Python task per core, run in the background before the
query starts, has the daemon up and its workers forked (and reused by the batch's tasks) while
the query's planners run.
"""

import logging
import threading
from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


def warm_workers(spark: SparkSession) -> threading.Thread:
    """Fork one Python worker per core of `spark`'s local master in a background thread;
    return the thread (it ends with the no-op job; a failure is logged, not raised)."""
    thread = threading.Thread(target=_run, args=(spark,), name="warm-workers", daemon=True)
    thread.start()
    return thread


def _run(spark: SparkSession) -> None:
    cores = spark.sparkContext.defaultParallelism
    try:
        frame = spark.range(0, cores, 1, cores).mapInArrow(_unchanged, "id long")
        frame.write.format("noop").mode("overwrite").save()
    except Exception as exc:
        log.debug("warming the Python workers failed: %s", exc)


def _unchanged(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield from batches
