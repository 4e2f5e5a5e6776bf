"""Time the Kafka sink: `python -m bench.kafka_sink_quick [--rows N] [--option kafka.k=v ...]`.

Starts the embedded broker and a local[2] SparkSession, caches `--rows` prediction-shaped
rows in 4 partitions, then times `KafkaSink.write` (JSON encoding, sends, flush, marker) on
one batch id, once per `--runs`, each run into a fresh topic. Prints rows/s per run.
"""

import argparse
import tempfile
import time

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.runtime.session import build_session
from stream_scorer.sinks import KafkaSink
from stream_scorer.testing.topics import create_topic

PARTITIONS = 4


def predictions(spark: SparkSession, rows: int) -> DataFrame:
    """Return `rows` cached, materialised rows shaped like the scorer's predictions."""
    df = (
        spark.range(rows, numPartitions=PARTITIONS)
        .select(
            F.lit("in").alias("topic"),
            (F.col("id") % 8).cast("int").alias("partition"),
            F.col("id").alias("offset"),
            F.timestamp_seconds(F.lit(1_714_550_400) + F.col("id")).alias("timestamp"),
            F.concat(F.lit("id-"), F.col("id").cast("string")).alias("id"),
            (F.col("id") % 2).cast("double").alias("prediction"),
            F.rand(1).alias("probability"),
        )
        .withColumn(
            "probabilities",
            F.create_map(F.lit("0"), 1 - F.col("probability"), F.lit("1"), F.col("probability")),
        )
        .withColumn("model_version", F.lit("v0001"))
        .withColumn("scored_at", F.current_timestamp())
        .cache()
    )
    df.count()
    return df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--option", action="append", default=[], help="kafka.k=v producer option")
    args = parser.parse_args()
    extra = dict(option.split("=", 1) for option in args.option)
    spark = build_session("kafka-sink-bench", {"spark.master": "local[2]"})
    spark.sparkContext.setLogLevel("ERROR")
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as state:
        df = predictions(spark, args.rows)
        options = {"kafka.bootstrap.servers": broker.bootstrap_servers, **extra}
        for run in range(args.runs):
            topic = create_topic(broker.bootstrap_servers, PARTITIONS)
            sink = KafkaSink(topic, options, f"{state}/{run}")
            sink.open(spark)
            start = time.perf_counter()
            sent = sink.write(df, 0)
            seconds = time.perf_counter() - start
            print(f"run {run}: {sent} rows in {seconds:.2f}s = {sent / seconds:,.0f} rows/s")
    spark.stop()


if __name__ == "__main__":
    main()
