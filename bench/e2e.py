"""End to end from Kafka: `Scorer(config, once=True).run()` records/s, per Kafka client.

Pre-loads N JSON records (`id` + 4 double features) into a 4-partition topic on a fresh
embedded broker (each partition's load ends with a one-record batch: the broker reports a
partition's end as its last batch's base offset + 1), publishes the LR demo model, then
times a run-once scorer writing Parquet, once per client and split setting, in one Spark
session warmed up by a small run first. Run:
`.venv/bin/python -m bench.e2e --records 200000 [--clients kafka-python confluent-kafka]
[--max-records-per-partition 0 125000] [--master local[2]]`.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import orjson
import pyarrow.parquet as pq
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from stream_scorer.app import Scorer
from stream_scorer.broker import EmbeddedBroker
from stream_scorer.config.loader import parse_config
from stream_scorer.demo_models import save_model, train_demo_model
from stream_scorer.models.store import ModelStore
from stream_scorer.spark_session import build_session

PARTITIONS = 4
FEATURES = {"f0": "double", "f1": "double", "f2": "double", "f3": "double"}


def load(bootstrap: str, topic: str, records: int) -> None:
    """Write `records` JSON records round-robin; each partition ends with a one-record batch."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=512 * 1024)
    tail = {}
    for i in range(records):
        value = orjson.dumps({"id": i, **{f"f{j}": (i % 997) * 0.01 - j for j in range(4)}})
        if i >= records - PARTITIONS:
            tail[i % PARTITIONS] = value
        else:
            producer.send(topic, value=value, partition=i % PARTITIONS)
    producer.flush()
    for partition, value in tail.items():
        producer.send(topic, value=value, partition=partition)
        producer.flush()
    producer.close()


def config(root: Path, bootstrap: str, topic: str, client: str, max_records: int):
    """A run-once scorer config for `topic`, Parquet sinks under `root`."""
    options = {
        "kafka.bootstrap.servers": bootstrap,
        "subscribe": topic,
        "startingOffsets": "earliest",
        "kafkaClient": client,
    }
    if max_records:
        options["maxRecordsPerPartition"] = str(max_records)
    raw = {
        "source": {"kind": "python-kafka", "options": options},
        "features": {"schema": FEATURES, "passthrough": {"id": "long"}},
        "model": {"store": str(root / "models")},
        "checkpoint": str(root / f"checkpoint-{topic}-{client}-{max_records}"),
        "sinks": [{"kind": "parquet", "path": str(root / f"out-{topic}-{client}-{max_records}")}],
        "dead_letter": {"kind": "parquet", "path": str(root / f"dead-{topic}-{client}")},
    }
    return parse_config(raw, "bench")


def timed_run(spark, cfg, records: int) -> tuple[float, dict[str, int]]:
    """Return seconds of one run-once scorer and Spark's summed durations by phase (ms)."""
    scorer = Scorer(cfg, spark=spark, once=True)
    began = time.perf_counter()
    scorer.run()
    seconds = time.perf_counter() - began
    written = pq.read_table(cfg.sinks[0].path, columns=["offset"]).num_rows
    if written != records:
        msg = f"scorer wrote {written} predictions, expected {records}"
        raise RuntimeError(msg)
    phases: dict[str, int] = {}
    for progress in scorer.query.recentProgress:
        for phase, ms in progress["durationMs"].items():
            phases[phase] = phases.get(phase, 0) + ms
    return seconds, phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--clients", nargs="+", default=["kafka-python", "confluent-kafka"])
    parser.add_argument("--max-records-per-partition", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        root, bootstrap = Path(tmp), broker.bootstrap_servers
        load(bootstrap, "warmup", 2_000)
        began = time.perf_counter()
        load(bootstrap, "bench", args.records)
        print(f"loaded {args.records:,} records in {time.perf_counter() - began:.0f} s")
        model = save_model(train_demo_model("binary", n_features=4), root / "lr.joblib")
        ModelStore(root / "models").publish(model, FEATURES)
        spark = build_session("e2e-bench", {"spark.master": args.master})
        spark.sparkContext.setLogLevel("ERROR")
        print(f"driver pid {os.getpid()}, load average {os.getloadavg()[0]:.1f}")
        for client in args.clients:
            timed_run(spark, config(root, bootstrap, "warmup", client, 0), 2_000)
            for max_records in args.max_records_per_partition:
                cfg = config(root, bootstrap, "bench", client, max_records)
                seconds, phases = timed_run(spark, cfg, args.records)
                split = f"maxRecordsPerPartition={max_records or 'unset'}"
                print(
                    f"{client:16s} {split:30s} {args.records / seconds:10,.0f} records/s "
                    f"({seconds:.1f} s; addBatch {phases.get('addBatch', 0) / 1000:.1f} s; "
                    f"load average {os.getloadavg()[0]:.1f})"
                )
        spark.stop()


if __name__ == "__main__":
    main()
