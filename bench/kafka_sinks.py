"""Steady rate of the exactly-once Kafka sink against the Parquet and the at-least-once Kafka sink.

Pre-loads N JSON records (`id` + 4 double features) into a 4-partition topic on a fresh
embedded broker (`bench.e2e.load`), publishes the LR demo model, then times a run-once scorer
(`Scorer(config, once=True).run()`, in one Spark session warmed up by an untimed small run
per sink) writing its predictions to a Parquet sink, a Kafka sink (at least once: Spark's
writer job sends the batch) or a Kafka sink with `exactly_once: true` (on this local master
the scoring tasks send their rows in one transaction per input partition and batch), each run
to a fresh output (a 4-partition topic) and a fresh checkpoint; the sinks take turns round by
round. Each run's output is counted: the Parquet rows, the Kafka records read back with a
`read_committed` consumer (confluent-kafka). Prints each run, then the median rate per sink
and its ratio to Parquet's. Run:
`.venv/bin/python -m bench.kafka_sinks --records 1000000 [--rounds 3] [--per-batch 250000]`.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from bench.e2e import FEATURES, load
from stream_scorer.config.loader import parse_config
from stream_scorer.config.settings import ScorerConfig
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.runtime.session import build_session
from stream_scorer.testing.scorer_setup import raw_config
from stream_scorer.testing.topics import create_topic
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore

SINKS = ("parquet", "kafka", "kafka-eos")


def sink(kind: str, root: Path, tag: str, bootstrap: str) -> dict:
    """The sink config of `kind`, writing to a fresh output for `tag`."""
    if kind == "parquet":
        return {"kind": "parquet", "path": str(root / f"parquet-{tag}")}
    topic = create_topic(bootstrap, 4, f"out-{tag}")
    return {"kind": "kafka", "topic": topic, "exactly_once": kind == "kafka-eos"}


def config(root: Path, bootstrap: str, topic: str, kind: str, tag: str, per_batch: int):
    """A run-once scorer of `topic` into one sink of `kind`; dead letters to Parquet."""
    model = {"store": str(root / "models")}
    out = sink(kind, root, tag, bootstrap)
    raw = raw_config(root / tag, bootstrap, topic, FEATURES, model=model, sinks=[out])
    raw["source"]["options"]["maxOffsetsPerTrigger"] = str(per_batch)
    return parse_config(raw, "bench")


def written(cfg: ScorerConfig, bootstrap: str) -> int:
    """Rows the run's sink holds: Parquet rows, or the records a read_committed consumer reads."""
    out = cfg.sinks[0]
    if out.kind == "parquet":
        return pq.read_table(out.path, columns=["offset"]).num_rows
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"count-{out.topic}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    ends = {p: consumer.get_watermark_offsets(TopicPartition(out.topic, p))[1] for p in range(4)}
    consumer.assign([TopicPartition(out.topic, p, 0) for p in range(4)])
    count, deadline = 0, time.monotonic() + 600
    while time.monotonic() < deadline:
        messages = consumer.consume(10_000, timeout=1.0)
        count += sum(1 for m in messages if m.error() is None)
        positions = consumer.position([TopicPartition(out.topic, p) for p in range(4)])
        if all(tp.offset >= ends[tp.partition] for tp in positions):
            break
    consumer.close()
    return count


def timed(spark, cfg: ScorerConfig, records: int, bootstrap: str) -> float:
    """Wall seconds of one run-once scorer of `cfg`, its output counted."""
    began = time.perf_counter()
    Scorer(cfg, spark=spark, once=True).run()
    seconds = time.perf_counter() - began
    found = written(cfg, bootstrap)
    if found != records:
        msg = f"{cfg.sinks[0].kind}: wrote {found} predictions, expected {records}"
        raise RuntimeError(msg)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-batch", type=int, default=250_000, help="maxOffsetsPerTrigger")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        root, bootstrap = Path(tmp), broker.bootstrap_servers
        load(bootstrap, "warmup", 2_000)
        load(bootstrap, "bench", args.records)
        model = save_model(train_demo_model("binary", n_features=4), root / "lr.joblib")
        publish_sklearn(ModelStore(root / "models"), model, FEATURES)
        spark = build_session("kafka-sinks-bench", {"spark.master": args.master})
        spark.sparkContext.setLogLevel("ERROR")
        for kind in SINKS:
            warm = config(root, bootstrap, "warmup", kind, f"warm-{kind}", 1_000)
            timed(spark, warm, 2_000, bootstrap)
        rates: dict[str, list[float]] = {kind: [] for kind in SINKS}
        for run in range(args.rounds):  # the sinks take turns: drift spreads over all
            for kind in SINKS:
                cfg = config(root, bootstrap, "bench", kind, f"{kind}-{run}", args.per_batch)
                seconds = timed(spark, cfg, args.records, bootstrap)
                rates[kind].append(args.records / seconds)
                print(
                    f"round {run} {kind:9s} {args.records / seconds:10,.0f} records/s "
                    f"({seconds:.1f} s; load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        spark.stop()
    parquet = statistics.median(rates["parquet"])
    for kind, found in rates.items():
        median = statistics.median(found)
        print(f"median {kind:9s} {median:10,.0f} records/s  {median / parquet:.2f}x parquet")


if __name__ == "__main__":
    main()
