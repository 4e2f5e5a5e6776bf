"""Builds the streaming DataFrame of a scorer's source, whichever kind its config names.

Both kinds give Spark's Kafka source schema (`key, value, topic, partition, offset,
timestamp, timestampType`, and `headers` with includeHeaders=true).
"""

import weakref

from pyspark.sql import DataFrame, SparkSession

from stream_scorer.config.settings import SourceConfig
from stream_scorer.errors import ConfigError
from stream_scorer.sources.spark_api import STREAM_SOURCE, check_source_runs
from stream_scorer.sources.spark_kafka import (
    PROVIDER_CLASS,
    connector_package,
    provider_loads,
    read_kafka_stream,
)

_registered: "weakref.WeakSet[SparkSession]" = weakref.WeakSet()


def read_stream(spark: SparkSession, source: SourceConfig, ranges: bool = False) -> DataFrame:
    """Return the streaming DataFrame of `source` in `spark`.

    `python-kafka` registers the Python data sources once per session; its options were
    validated when the config loaded. With `ranges` (python-kafka only), the frame holds the
    offset ranges of each micro-batch (`sources.ranges`), not its records.

    Raises
    ------
    ConfigError
        If `spark-kafka` is asked for without its jar, or `python-kafka` on a pyspark
        without Python streaming sources (`sources.spark_api.check_source_runs`).
    """
    if source.kind == "spark-kafka":
        if not spark_kafka_available(spark):
            package = connector_package(spark)
            msg = (
                f"source kind 'spark-kafka' needs {PROVIDER_CLASS} on the classpath: add "
                f"spark.jars.packages={package} to the config's spark: section"
            )
            if STREAM_SOURCE:  # pyspark >= 4.0
                msg += " or use kind 'python-kafka'"
            raise ConfigError(msg)
        return read_kafka_stream(spark, source.options)
    check_source_runs(source, available_now=False)
    # pyspark >= 4.0 only: the data source API is imported once it is known to be there
    from stream_scorer.sources.python_kafka import KafkaDataSource
    from stream_scorer.sources.ranges import KafkaRangesDataSource

    if spark not in _registered:
        spark.dataSource.register(KafkaDataSource)
        spark.dataSource.register(KafkaRangesDataSource)
        _registered.add(spark)
    name = (KafkaRangesDataSource if ranges else KafkaDataSource).name()
    return spark.readStream.format(name).options(**source.options).load()


def spark_kafka_available(spark: SparkSession) -> bool:
    """Return True if Spark's Kafka connector (spark-sql-kafka-0-10) is on the classpath."""
    return provider_loads(spark)
