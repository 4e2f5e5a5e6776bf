"""Spark's Python worker daemon, with the scorer's heavy imports done once, before it forks.

Spark starts one daemon per executor (`spark.python.daemon.module`, set by `spark_session`)
and forks a worker from it for each Python task slot. `pyspark.daemon` imports nothing
heavy, so every forked worker used to pay for pandas, pyarrow, scikit-learn and the Kafka
client on its first task (about 1.8 CPU-seconds each, four workers or more per executor).
Imported here, they are paid once and every worker starts warm.

Spark also puts its bundled `pyspark.zip`, `py4j-*.zip` and the spark-core jar first on the
workers' path; every new worker's first task re-read them (0.4-0.7 CPU-seconds). When they
duplicate the installed pyspark, the daemon drops them before importing anything
(`bundled_archives`), so it and its workers import from site-packages.

Garbage collection: a reused worker runs `gc.collect()` after every task, and a full
collection walks every object the preloading created (~170k: 55 ms a task, and it writes to
every page the worker shares with the daemon, so each worker copies them). The daemon
freezes them (`gc.freeze()`) just before it starts forking: collections skip them and the
pages stay shared. A trivial 4-task `mapInArrow` job takes 140 ms instead of 400.

Fork safety: Spark sets OMP_NUM_THREADS to the task's cores for its Python workers, so with
one core numpy's BLAS starts no thread pool; the only thread left is pyarrow's jemalloc
background thread, which jemalloc's own fork handlers take care of.
"""

import gc
import importlib
import sys

from stream_scorer.runtime.bundled_archives import drop_bundled_archives

MODULE = "stream_scorer.runtime.worker_daemon"
"""This module's name, the value of `spark.python.daemon.module`."""

PRELOADED = (
    "pyspark.worker",
    "stream_scorer.scoring.udf",  # pandas, pyarrow, orjson
    "stream_scorer.flavors.sklearn.predictor",  # loaded by model kind, on first use
    "stream_scorer.sources.readers.clients",  # both readers, kafka-python
    "confluent_kafka",  # imported lazily by its reader
    "stream_scorer.features.avro",  # fastavro (features.format avro)
    "confluent_kafka.schema_registry",  # its registry client: httpx, authlib (0.3 s)
    "joblib",
    "sklearn.base",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.pipeline",
    "sklearn.preprocessing",
)
"""Modules the scorer's task workers import, each with its own imports; one that is not
installed is skipped. (Data source planners run from Spark's own daemon, not this one.)"""


def preload(modules: tuple[str, ...] = PRELOADED) -> list[str]:
    """Import `modules`, skipping those not installed; return the ones imported."""
    imported = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        imported.append(name)
    return imported


if __name__ == "__main__":
    drop_bundled_archives(sys.path)
    preload()
    from pyspark import daemon

    gc.freeze()
    daemon.manager()
