"""Spark's own Kafka connector (`format("kafka")`), for clusters with its jar on the classpath.

The jar is `org.apache.spark:spark-sql-kafka-0-10_2.13:<spark version>`, usually added with
`spark.jars.packages`. Options are passed verbatim: both sources share Spark's option names.
"""

from collections.abc import Mapping

from pyspark.sql import DataFrame, SparkSession

PROVIDER_CLASS = "org.apache.spark.sql.kafka010.KafkaSourceProvider"


def read_kafka_stream(spark: SparkSession, options: Mapping[str, str]) -> DataFrame:
    """Return a streaming DataFrame from Spark's Kafka source with `options` as given."""
    return spark.readStream.format("kafka").options(**options).load()


def connector_package(spark: SparkSession) -> str:
    """Return the connector's Maven coordinates for this session's Spark and Scala versions.

    `org.apache.spark:spark-sql-kafka-0-10_2.13:4.0.5` on pyspark 4.x, `_2.12:3.5.9` on 3.5.
    """
    scala = "2.13"
    jvm = getattr(spark, "_jvm", None)
    if jvm is not None:
        scala = ".".join(jvm.scala.util.Properties.versionNumberString().split(".")[:2])
    return f"org.apache.spark:spark-sql-kafka-0-10_{scala}:{spark.version}"


def provider_loads(spark: SparkSession) -> bool:
    """Return True if the JVM can load Spark's Kafka source provider class."""
    jvm = getattr(spark, "_jvm", None)
    if jvm is None:  # Spark Connect: no JVM on this side to ask
        return False
    from py4j.protocol import Py4JError

    try:
        loader = jvm.org.apache.spark.util.Utils.getContextOrSparkClassLoader()
        jvm.java.lang.Class.forName(PROVIDER_CLASS, False, loader)
    except Py4JError:
        return False
    return True
