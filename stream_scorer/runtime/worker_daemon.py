"""Spark's Python worker daemon, with the scorer's heavy imports done once, before it forks.

Spark starts one daemon per executor (`spark.python.daemon.module`, set by `spark_session`)
and forks a worker from it for each Python task slot. `pyspark.daemon` imports nothing
heavy, so every forked worker used to pay for pandas, pyarrow, scikit-learn and the Kafka
client on its first task (about 1.8 CPU-seconds each, four workers or more per executor).
Imported here, they are paid once and every worker starts warm.

Spark also puts its bundled `pyspark.zip` and `py4j-*.zip` first on the workers' path. Python
compiles a module imported from a zip on every import (no bytecode cache), and every new
worker's first task calls `importlib.invalidate_caches()`, which on Python 3.11 makes each
zip importer (one per package) re-read the 4 MB archive's directory: about 0.5 CPU-seconds
per worker on its first task. When those zips are the ones inside the installed `pyspark`
package (a pip install: the same files), the daemon drops them before importing anything,
so the daemon and its workers import pyspark and py4j from site-packages.

Fork safety: Spark sets OMP_NUM_THREADS to the task's cores for its Python workers, so with
one core numpy's BLAS starts no thread pool; the only thread left is pyarrow's jemalloc
background thread, which jemalloc's own fork handlers take care of.
"""

import importlib
import importlib.machinery
import importlib.metadata
import sys
from pathlib import Path

MODULE = "stream_scorer.runtime.worker_daemon"
"""This module's name, the value of `spark.python.daemon.module`."""

PRELOADED = (
    "pyspark.worker",
    "stream_scorer.scoring.udf",  # pandas, pyarrow, orjson
    "stream_scorer.predictors.sklearn",  # loaded by model kind, on first use
    "stream_scorer.sources.python_kafka",  # both readers, kafka-python
    "confluent_kafka",  # imported lazily by its reader
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


def drop_bundled_zips(path: list[str]) -> list[str]:
    """Remove from `path` Spark's pyspark and py4j zips that duplicate installed packages.

    The pyspark zip goes when it is `<pyspark package>/python/lib/pyspark.zip` of the
    pyspark that the rest of `path` finds (so the same release); the py4j zip when its name
    carries the installed py4j's version. Any other entry stays. Returns the removed ones.
    """
    zips = [entry for entry in path if entry.endswith(".zip")]
    rest = [entry for entry in path if not entry.endswith(".zip")]
    spec = importlib.machinery.PathFinder.find_spec("pyspark", rest)
    if not zips or spec is None or spec.origin is None:
        return []
    installed = Path(spec.origin).parent
    try:
        py4j = f"py4j-{importlib.metadata.version('py4j')}-src.zip"
    except importlib.metadata.PackageNotFoundError:
        py4j = None
    dropped = []
    for entry in zips:
        zipped = Path(entry)
        if zipped.parent == installed / "python" / "lib" and zipped.name in ("pyspark.zip", py4j):
            path.remove(entry)
            dropped.append(entry)
    return dropped


if __name__ == "__main__":
    drop_bundled_zips(sys.path)
    preload()
    from pyspark import daemon

    daemon.manager()
