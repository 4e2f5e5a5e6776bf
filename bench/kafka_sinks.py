"""Steady rate of the Kafka sinks (at least once, exactly once) against the Parquet sink.

The harness of `bench.sink_harness` (N JSON records in a 4-partition topic, the LR demo
model, run-once scorers in one warm session, the sinks in turns, each run to a fresh output
and checkpoint) with three sinks: Parquet, a Kafka sink (at least once, with the dedup key)
and a Kafka sink with `exactly_once: true`, each Kafka run into a fresh 4-partition topic. On
this local master the scoring tasks send their rows themselves with librdkafka producers, in
one transaction per input partition and batch for exactly once. The Kafka output is counted
with a `read_committed` consumer (confluent-kafka). Run:
`.venv/bin/python -m bench.kafka_sinks --records 1000000 [--rounds 3] [--per-batch 250000]`.
"""

import time
from pathlib import Path

from bench.sink_harness import PARQUET, SinkBench, main, parquet_rows
from stream_scorer.config.settings import ScorerConfig
from stream_scorer.testing.topics import create_topic


def sink(kind: str, root: Path, tag: str, bootstrap: str) -> dict:
    """The sink config of `kind`, writing to a fresh output for `tag`."""
    if kind == PARQUET:
        return {"kind": "parquet", "path": str(root / f"parquet-{tag}")}
    topic = create_topic(bootstrap, 4, f"out-{tag}")
    return {"kind": "kafka", "topic": topic, "exactly_once": kind == "kafka-eos"}


def written(cfg: ScorerConfig, bootstrap: str) -> int:
    """Rows the run's sink holds: Parquet rows, or the records a read_committed consumer reads."""
    out = cfg.sinks[0]
    if out.kind == PARQUET:
        return parquet_rows(cfg)
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


BENCH = SinkBench("kafka-sinks-bench", (PARQUET, "kafka", "kafka-eos"), sink, written)

if __name__ == "__main__":
    main(BENCH, __doc__.splitlines()[0])
