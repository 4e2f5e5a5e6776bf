"""Running a small function once in each task slot of the executors, from the driver."""

import socket
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import SparkSession

Failure = tuple[str, str]
"""(error class name, message) a task reports instead of raising."""


def on_executors(
    spark: "SparkSession", task: Callable[[], Failure | None]
) -> list[tuple[str, Failure | None]]:
    """Run `task` in `defaultParallelism` tasks; return (host name, what it reported) of each.

    The tasks run as a `mapInPandas` job, so in the Python workers that run the scoring UDF
    (an RDD job would fork workers of its own). Spark spreads the tasks over the executors'
    slots, so with a static cluster every executor usually runs one; nothing guarantees it
    (dynamic allocation, busy executors), so what `task` prepares must also happen on
    demand where it is used.
    """
    slots = spark.sparkContext.defaultParallelism

    def run(batches: Iterator["pd.DataFrame"]) -> Iterator["pd.DataFrame"]:
        import pandas as pd

        for _ in batches:
            pass
        kind, reason = task() or (None, None)
        yield pd.DataFrame({"host": [socket.gethostname()], "kind": [kind], "reason": [reason]})

    frame = spark.range(slots, numPartitions=slots).mapInPandas(
        run, "host string, kind string, reason string"
    )
    return [
        (row.host, None if row.kind is None else (row.kind, row.reason)) for row in frame.collect()
    ]
