"""Spark's Python worker daemon, with the scorer's heavy imports done once, before it forks.

Spark starts one daemon per executor (`spark.python.daemon.module`, set by `spark_session`)
and forks a worker from it for each Python task slot. `pyspark.daemon` imports nothing
heavy, so every forked worker used to pay for pandas, pyarrow, scikit-learn and the Kafka
client on its first task (about 1.8 CPU-seconds each, four workers or more per executor).
Imported here, they are paid once and every worker starts warm.

Spark also puts its bundled `pyspark.zip`, `py4j-*.zip` and the spark-core jar first on the
workers' path. Python compiles a module imported from a zip on every import (no bytecode
cache), and every new worker's first task calls `importlib.invalidate_caches()`, which on
Python 3.11 makes each zip importer re-read its archive's directory (the jar alone lists
~6,000 files): 0.4-0.7 CPU-seconds per worker on its first task. When those archives are
the ones inside the installed `pyspark` package (a pip install: the same files), the daemon
drops them before importing anything, so it and its workers import from site-packages.

Fork safety: Spark sets OMP_NUM_THREADS to the task's cores for its Python workers, so with
one core numpy's BLAS starts no thread pool; the only thread left is pyarrow's jemalloc
background thread, which jemalloc's own fork handlers take care of.
"""

import importlib
import importlib.machinery
import importlib.metadata
import sys
import zipfile
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


def drop_bundled_archives(path: list[str], importers: dict | None = None) -> list[str]:
    """Remove from `path` the archives Spark adds that duplicate the installed pyspark.

    Spark puts its `python/lib/pyspark.zip`, `py4j-*-src.zip` and the jar of spark-core
    (`SparkContext.jarOfObject`) on its Python workers' path. Removed, when they sit inside
    the installed `pyspark` package that the rest of `path` finds: `pyspark.zip` (the same
    release), the py4j zip if its name carries the installed py4j's version, and jars that
    hold no Python file. Their importers are dropped from `importers` (default
    `sys.path_importer_cache`) too, or `importlib.invalidate_caches()` would still re-read
    them. Any other entry stays. Returns the removed entries.
    """
    importers = sys.path_importer_cache if importers is None else importers
    rest = [entry for entry in path if not entry.endswith((".zip", ".jar"))]
    spec = importlib.machinery.PathFinder.find_spec("pyspark", rest)
    if spec is None or spec.origin is None:
        return []
    installed = Path(spec.origin).parent
    try:
        py4j = f"py4j-{importlib.metadata.version('py4j')}-src.zip"
    except importlib.metadata.PackageNotFoundError:
        py4j = None
    dropped = []
    for entry in dict.fromkeys(path):  # Spark may list an entry twice
        archive = Path(entry)
        bundled = archive.parent == installed / "python" / "lib" and archive.name in (
            "pyspark.zip",
            py4j,
        )
        if bundled or (archive.parent == installed / "jars" and _holds_no_python(archive)):
            path[:] = [other for other in path if other != entry]
            for key in [k for k in importers if k == entry or k.startswith(entry + "/")]:
                del importers[key]
            dropped.append(entry)
    return dropped


def _holds_no_python(jar: Path) -> bool:
    if jar.suffix != ".jar":
        return False
    try:
        with zipfile.ZipFile(jar) as archive:
            return not any(name.endswith((".py", ".pyc")) for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


if __name__ == "__main__":
    drop_bundled_archives(sys.path)
    preload()
    from pyspark import daemon

    daemon.manager()
