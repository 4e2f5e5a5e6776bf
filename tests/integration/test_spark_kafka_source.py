"""Spark's own Kafka connector behind `read_stream`, when its jar is on the classpath."""

import pytest

from stream_scorer.config.settings import SourceConfig
from stream_scorer.errors import ConfigError
from stream_scorer.sources.factory import read_stream, spark_kafka_available
from stream_scorer.sources.spark_kafka import connector_package
from tests.kafka_helpers import create_topic, produce_exact, spread

pytestmark = pytest.mark.integration

TIMEOUT_S = 180  # bound of the query wait; a healthy run takes a few seconds


@pytest.fixture
def spark_kafka(spark):
    if not spark_kafka_available(spark):
        pytest.skip(
            "Spark's Kafka connector jar (spark-sql-kafka-0-10) is not on the classpath; "
            f"add spark.jars.packages={connector_package(spark)}"
        )
    return spark


def source(bootstrap: str, topic: str, **extra: str) -> SourceConfig:
    options = {"kafka.bootstrap.servers": bootstrap, "subscribe": topic, **extra}
    return SourceConfig(kind="spark-kafka", options=options)


@pytest.mark.smoke
def test_missing_jar_is_a_config_error_naming_the_package(spark, bootstrap):
    if spark_kafka_available(spark):
        pytest.skip("Spark's Kafka connector is on the classpath here")
    with pytest.raises(ConfigError, match="spark-sql-kafka-0-10") as err:
        read_stream(spark, source(bootstrap, "any"))
    assert f"spark.jars.packages={connector_package(spark)} " in str(err.value)
    scala = "2.12" if spark.version.startswith("3.") else "2.13"  # pyspark's own builds
    assert connector_package(spark).endswith(f"_{scala}:{spark.version}")


def test_reads_every_offset_once(spark_kafka, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 3)
    data = spread([f"r-{i}".encode() for i in range(30)], 3)
    produce_exact(bootstrap, topic, data)
    got: list[tuple] = []

    def collect(df, batch_id):
        for r in df.select("topic", "partition", "offset", "value").collect():
            got.append((r.topic, r.partition, r.offset, bytes(r.value)))

    df = read_stream(spark_kafka, source(bootstrap, topic, startingOffsets="earliest"))
    query = (
        df.writeStream.foreachBatch(collect)
        .option("checkpointLocation", str(tmp_path))
        .trigger(availableNow=True)
        .start()
    )
    assert query.awaitTermination(TIMEOUT_S)
    want = {(topic, p, o, v) for p, vals in data.items() for o, v in enumerate(vals)}
    assert sorted(got) == sorted(want)
