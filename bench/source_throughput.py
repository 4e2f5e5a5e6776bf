"""Records/s of the python-kafka source against a bare kafka-python consumer.

Pre-loads N JSON records into a 4-partition topic on a fresh embedded broker, then times
(a) one KafkaConsumer reading every partition to its end, and (b) our source through Spark:
an availableNow query into a counting foreachBatch (after a warm-up query, so session and
worker start-up are not counted). Run: `.venv/bin/python -m bench.source_throughput`.
"""

import argparse
import tempfile
import time

import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from stream_scorer.config.settings import SourceConfig
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.runtime.session import build_session
from stream_scorer.sources.factory import read_stream
from stream_scorer.sources.metadata import consumer_settings

TOPIC_PARTITIONS = 4


def load(bootstrap: str, topic: str, records: int) -> None:
    """Write `records` JSON records round-robin; each partition ends with a one-record batch
    (the embedded broker reports a partition's end as its last batch's base offset + 1)."""
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, TOPIC_PARTITIONS, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=256 * 1024)
    body = records - TOPIC_PARTITIONS
    for i in range(body):
        value = orjson.dumps({"id": i, "f0": i * 0.5, "f1": -i * 0.25, "label": "x" * 16})
        producer.send(topic, value=value, partition=i % TOPIC_PARTITIONS)
    producer.flush()
    for p in range(TOPIC_PARTITIONS):
        producer.send(topic, value=b'{"id": -1}', partition=p)
        producer.flush()
    producer.close()


def bare_consumer(bootstrap: str, topic: str, records: int) -> float:
    """Return records/s of one kafka-python consumer reading all partitions to the end."""
    settings = consumer_settings({"kafka.bootstrap.servers": bootstrap})
    consumer = KafkaConsumer(**settings)
    tps = [TopicPartition(topic, p) for p in range(TOPIC_PARTITIONS)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    seen, began = 0, time.perf_counter()
    while seen < records:
        seen += sum(len(batch) for batch in consumer.poll(1000, max_records=20_000).values())
    elapsed = time.perf_counter() - began
    consumer.close()
    return seen / elapsed


def spark_source(spark, bootstrap: str, topic: str, records: int) -> tuple[float, float]:
    """Return records/s of an availableNow query of our source counting every micro-batch:
    end to end (query start to stop), and while reading (rows / Spark's addBatch time)."""
    counted: list[int] = []
    options = {
        "kafka.bootstrap.servers": bootstrap,
        "subscribe": topic,
        "startingOffsets": "earliest",
    }
    df = read_stream(spark, SourceConfig(options=options))
    with tempfile.TemporaryDirectory() as checkpoint:
        query = (
            df.writeStream.foreachBatch(lambda batch, _id: counted.append(batch.count()))
            .option("checkpointLocation", checkpoint)
            .trigger(availableNow=True)
        )
        began = time.perf_counter()
        running = query.start()
        running.awaitTermination(600)
        elapsed = time.perf_counter() - began
    if sum(counted) != records:
        msg = f"source read {sum(counted)} records, expected {records}"
        raise RuntimeError(msg)
    reading_ms = sum(p["durationMs"].get("addBatch", 0) for p in running.recentProgress)
    return records / elapsed, records / (reading_ms / 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    with EmbeddedBroker() as broker:
        bootstrap = broker.bootstrap_servers
        load(bootstrap, "warmup", 2_000)
        load(bootstrap, "bench", args.records)
        print(f"loaded {args.records:,} records into 4 partitions")
        consumer_rate = bare_consumer(bootstrap, "bench", args.records)
        print(f"(a) bare kafka-python consumer: {consumer_rate:,.0f} records/s")
        conf = {"spark.master": args.master, "spark.ui.showConsoleProgress": "false"}
        spark = build_session("source-throughput", conf)
        spark.sparkContext.setLogLevel("ERROR")
        spark_source(spark, bootstrap, "warmup", 2_000)
        source_rate, reading_rate = spark_source(spark, bootstrap, "bench", args.records)
        print(f"(b) python-kafka source via Spark ({args.master}): {source_rate:,.0f} records/s")
        print(f"    while reading (addBatch only): {reading_rate:,.0f} records/s")
        print(
            f"    ratio (b)/(a): {source_rate / consumer_rate:.2f} end to end, "
            f"{reading_rate / consumer_rate:.2f} while reading"
        )
        spark.stop()


if __name__ == "__main__":
    main()
