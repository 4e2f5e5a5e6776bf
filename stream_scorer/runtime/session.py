"""Builds the SparkSession a scorer runs in."""

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

from stream_scorer.config.settings import ScorerConfig
from stream_scorer.config.sink_settings import ParquetSinkConfig
from stream_scorer.runtime import worker_daemon
from stream_scorer.runtime.logs import stderr_to
from stream_scorer.sinks.task_files import local_path

DEFAULT_CONF: Mapping[str, str] = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.streaming.stopGracefullyOnShutdown": "true",
    # Python workers talk to the JVM over Unix domain sockets, not loopback TCP, where small
    # writes wait on delayed acknowledgements: ~50 ms per Python task, a 4-task mapInArrow
    # job 146-182 ms against 79-87 (a JVM-only one: 37-76).
    "spark.python.unix.domain.socket.enabled": "true",
}
DAEMON_MODULE = "spark.python.daemon.module"
PYTHON_PATH = "spark.executorEnv.PYTHONPATH"
BOOT_DIR = str(Path(__file__).resolve().parent / "boot")
"""Holds the `sitecustomize` that Spark's Python processes of a local master run first."""
ARROW_BATCH_SIZE = "spark.sql.execution.arrow.maxRecordsPerBatch"
JAVA_OPTIONS = "spark.driver.extraJavaOptions"
QUICK_JIT = "-XX:TieredStopAtLevel=1"
"""The JVM compiles with C1 only: quick to compile, slower code (see `scorer_settings`)."""


def scorer_settings(config: ScorerConfig) -> dict[str, str]:
    """The Spark settings of `config`'s session: its `spark` section, and, where the scored
    rows never reach the JVM, `QUICK_JIT` for a driver JVM started here (unless the section
    sets `spark.driver.extraJavaOptions`).

    The rows stay in Python on the one-pass path of a local master with only Parquet sinks
    on local paths and no shadow (the tasks write the files, `sinks.task_files`): the JVM
    then only plans, schedules and commits, and C2's compiler threads were the largest
    consumer of its CPU. Measured in-process on 1M records (`bench.e2e`): 227k against 192k
    records/s; where the JVM handles every row (the scoring UDF) C1-only code is ~18% slower.
    """
    settings = dict(config.spark)
    master = settings.get("spark.master", "local")
    in_python = (
        config.source.kind == "python-kafka"
        and config.scoring.one_pass
        and config.model.shadow is None
        and master.startswith("local")
        and all(
            isinstance(sink, ParquetSinkConfig) and local_path(str(sink.path)) is not None
            for sink in config.sinks
        )
    )
    if in_python:
        settings.setdefault(JAVA_OPTIONS, QUICK_JIT)
    return settings


def build_session(
    app_name: str = "stream-scorer",
    conf: Mapping[str, str] | None = None,
    jvm_log: Path | None = None,
) -> SparkSession:
    """Return the active SparkSession or build one.

    The master comes from `conf`, else from spark-submit (`--master`), else `local[*]`.
    Python workers run this interpreter (`sys.executable`) unless PYSPARK_PYTHON says
    otherwise, so they import the same packages as the driver. With a local master they
    fork from `worker_daemon`, which has the heavy imports done, and every Python process
    Spark starts (the data source planners too) imports pyspark from site-packages, not
    from Spark's bundled zip (`boot/sitecustomize.py`); on a cluster both need
    stream-scorer installed on the executors, so they are left to the user's settings.
    With `jvm_log`, a JVM started here writes its stderr there for life (log4j's console,
    the launcher's warnings, the Python workers' stderr); a JVM spark-submit started keeps
    the stderr spark-submit gave it.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    settings = {**DEFAULT_CONF, **(conf or {})}
    master = settings.get("spark.master") or _submitted_master() or "local[*]"
    settings.setdefault("spark.master", master)
    if master.startswith("local"):
        settings.setdefault(DAEMON_MODULE, worker_daemon.MODULE)
        settings[PYTHON_PATH] = os.pathsep.join(filter(None, [BOOT_DIR, settings.get(PYTHON_PATH)]))
    for key, value in settings.items():
        builder = builder.config(key, value)
    with stderr_to(jvm_log if SparkContext._gateway is None else None):
        return builder.getOrCreate()


def _submitted_master() -> str | None:
    """The master spark-submit started this driver with, or None.

    Only then does a JVM exist already (PYSPARK_GATEWAY_PORT); starting one here would fix
    its heap before the builder's `spark.driver.memory` applies.
    """
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return None
    SparkContext._ensure_initialized()
    return SparkConf().get("spark.master", None)
