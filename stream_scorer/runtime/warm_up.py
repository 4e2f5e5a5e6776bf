"""Starts Spark's Python processes in the background while the scorer starts up.

A fresh scorer's first batch waits on Python processes Spark starts only when asked:
- the lookup of installed Python data sources, which Spark runs once per JVM, in a Python
  process of its own, the first time a data source is registered (at query start);
- the Python worker daemon (`worker_daemon`: pandas, pyarrow, scikit-learn and the Kafka
  client imported once), started by the first batch's first task, and a worker forked per
  task slot: 1-2 s of the first batch.
Meanwhile the driver spends seconds on start-time checks and on Spark's data source
planners, one process at a time, which leaves a core idle. A background thread started
once the session is up asks for the lookup, then runs a job of no-ops with one task per
slot; Spark keeps its workers for reuse (`spark.python.worker.reuse`, on by default), so the
first batch finds them ready.

Workers are warmed only with a local master, where the daemon is ours and the slots are
this machine's cores. Neither step reads or writes data; if one fails, the query starts
that process itself as before, and the failure is logged at DEBUG.
"""

import logging
import re
import threading
from collections.abc import Iterator

from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

REUSE = "spark.python.worker.reuse"
JOB_GROUP = "stream-scorer-warm-up"


def local_slots(master: str, cores: int) -> int:
    """Return the task slots of a local `master` (`local`, `local[N]`, `local[*]`,
    `local[N,F]`), `cores` standing for `*`; 0 for any other master."""
    found = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\d+)?\])?", master)
    if found is None:
        return 0
    slots = found.group(1) or "1"
    return cores if slots == "*" else int(slots)


def warm_up(spark: SparkSession) -> threading.Thread:
    """Start, in a daemon thread, Spark's data source lookup and, with a local master and
    worker reuse, one Python worker per task slot. Returns the thread."""
    sc = spark.sparkContext
    slots = local_slots(sc.master, sc.defaultParallelism)
    if sc.getConf().get(REUSE, "true").lower() != "true":
        slots = 0  # a worker would exit after its task: nothing to keep warm
    thread = threading.Thread(target=_run, args=(spark, slots), name=JOB_GROUP, daemon=True)
    thread.start()
    return thread


def _run(spark: SparkSession, slots: int) -> None:
    try:
        # Internal API: the lookup runs once per JVM, on first use of the data source
        # manager; asking now has the query's registration find it done.
        spark._jsparkSession.sessionState().dataSourceManager().dataSourceExists("")
    except Exception as exc:  # the query's registration runs it instead
        log.debug("Python data source lookup ahead of the query failed: %r", exc)
    if slots == 0:
        return
    try:
        sc = spark.sparkContext
        sc.setJobGroup(JOB_GROUP, "start the Python workers before the first batch")
        # A SQL job, not an RDD one: Spark keys its worker pools by environment, and only
        # the SQL runners (the data source read, the scoring UDF) share one.
        rows = spark.range(0, slots, 1, slots).mapInArrow(_pass_through, "id long")
        rows.write.format("noop").mode("overwrite").save()
    except Exception as exc:  # the first batch starts the workers instead
        log.debug("Python worker warm-up failed: %r", exc)
    else:
        log.debug("%d Python workers started ahead of the first batch", slots)


def _pass_through(batches: Iterator) -> Iterator:
    """A task that only needs a Python worker."""
    yield from batches
