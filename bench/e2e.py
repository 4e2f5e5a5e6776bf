"""End to end from Kafka: `Scorer(config, once=True).run()` records/s, per Kafka client.

Pre-loads N JSON records (`id` + 4 double features) into a 4-partition topic on a fresh
embedded broker (each partition's load ends with a one-record batch: the broker reports a
partition's end as its last batch's base offset + 1), publishes the LR demo model, then
times a run-once scorer writing Parquet, `--repeats` times per client and split setting
(taking turns), in one Spark session warmed up first by a small run per client and one
untimed full run (`--cold`: none, so the first run pays for Python worker start-up and JIT
compilation, as `stream-scorer run --once` does). Run:
`.venv/bin/python -m bench.e2e --records 200000 [--clients kafka-python confluent-kafka]
[--repeats 3] [--max-records-per-partition 0 125000] [--master local[2]] [--conf k=v ...]`.
"""

import argparse
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pyarrow.parquet as pq
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from stream_scorer.config.loader import parse_config
from stream_scorer.devtools.broker import EmbeddedBroker, broker_binary
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.runtime import worker_daemon
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.runtime.session import build_session
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore

PARTITIONS = 4
BROKER = Path(broker_binary()).name
FEATURES = {"f0": "double", "f1": "double", "f2": "double", "f3": "double"}


def load(
    bootstrap: str,
    topic: str,
    records: int,
    keys: int = 0,
    features: int = 4,
    encode: Callable[[dict], bytes] = orjson.dumps,
) -> None:
    """Write `records` records (`id`, `f0`... `features` doubles), JSON unless `encode`
    says otherwise, round-robin; each partition ends with a one-record batch.

    With `keys`, each record also has `store`: 'k0000'... , `keys` distinct values, each
    partition holding every one of them in turn.
    """
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=512 * 1024)
    tail = {}
    for i in range(records):
        record = {"id": i, **{f"f{j}": (i % 997) * 0.01 - j for j in range(features)}}
        store = {"store": f"k{i // PARTITIONS % keys:04d}"} if keys else {}
        value = encode(record | store)
        if i >= records - PARTITIONS:
            tail[i % PARTITIONS] = value
        else:
            producer.send(topic, value=value, partition=i % PARTITIONS)
    producer.flush()
    for partition, value in tail.items():
        producer.send(topic, value=value, partition=partition)
        producer.flush()
    producer.close()


def config(
    root: Path,
    bootstrap: str,
    topic: str,
    client: str,
    max_records: int,
    run: int = 0,
    store: str = "models",
    route_by: str | None = None,
):
    """A run-once scorer config for `topic`, Parquet sinks under `root` (one set per run);
    with `route_by` (a string passthrough field), the store holds a per-key family."""
    options = {
        "kafka.bootstrap.servers": bootstrap,
        "subscribe": topic,
        "startingOffsets": "earliest",
        "kafkaClient": client,
    }
    if max_records:
        options["maxRecordsPerPartition"] = str(max_records)
    tag = f"{topic}-{client}-{max_records}-{run}-{store}"
    passthrough = {"id": "long"} | ({route_by: "string"} if route_by else {})
    raw = {
        "source": {"kind": "python-kafka", "options": options},
        "features": {"schema": FEATURES, "passthrough": passthrough},
        "model": {"store": str(root / store), "route_by": route_by},
        "checkpoint": str(root / f"checkpoint-{tag}"),
        "sinks": [{"kind": "parquet", "path": str(root / f"out-{tag}")}],
        "dead_letter": {"kind": "parquet", "path": str(root / f"dead-{tag}")},
    }
    return parse_config(raw, "bench")


def cpu_seconds(skip: str) -> dict[str, float]:
    """Return CPU seconds used by this process and its descendants, by kind (driver, JVM,
    Python workers), leaving out processes named `skip` (the broker). Reaped children count
    via their parent."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        name, fields = text.partition("(")[2].rpartition(")")[0], text.rpartition(")")[2].split()
        if name != skip[:15]:  # the kernel keeps 15 characters of a process name
            cpu = sum(map(int, fields[11:15])) / tick
            stats[int(stat.parent.name)] = (int(fields[1]), cpu, _kind(name, cmdline))
    found: dict[str, float] = {}
    seen, frontier = set(), [os.getpid()]
    while frontier:
        pid = frontier.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        found[stats[pid][2]] = found.get(stats[pid][2], 0.0) + stats[pid][1]
        frontier += [child for child, (parent, *_) in stats.items() if parent == pid]
    return found


def _kind(name: str, cmdline: bytes) -> str:
    if name == "java":
        return "JVM"
    daemons = ("pyspark.daemon", worker_daemon.MODULE)
    return "Python workers" if any(d.encode() in cmdline for d in daemons) else "driver"


def timed_run(spark, cfg, records: int, skip: str = "tansu") -> tuple[float, dict, dict]:
    """Return wall seconds of one run-once scorer, CPU seconds by process kind and Spark's
    durations by phase (ms)."""
    scorer = Scorer(cfg, spark=spark, once=True)
    began, before = time.perf_counter(), cpu_seconds(skip)
    scorer.run()
    seconds, after = time.perf_counter() - began, cpu_seconds(skip)
    cpu = {kind: after.get(kind, 0.0) - before.get(kind, 0.0) for kind in after}
    written = pq.read_table(cfg.sinks[0].path, columns=["offset"]).num_rows
    if written != records:
        msg = f"scorer wrote {written} predictions, expected {records}"
        raise RuntimeError(msg)
    phases: dict[str, int] = {}
    for progress in scorer.query.recentProgress:
        for phase, ms in progress["durationMs"].items():
            phases[phase] = phases.get(phase, 0) + ms
    return seconds, cpu, phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--clients", nargs="+", default=["kafka-python", "confluent-kafka"])
    parser.add_argument("--max-records-per-partition", type=int, nargs="+", default=[0])
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per setting")
    parser.add_argument("--cold", action="store_true", help="no warm-up runs")
    parser.add_argument("--conf", nargs="*", default=[], help="extra Spark settings key=value")
    args = parser.parse_args()
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        root, bootstrap = Path(tmp), broker.bootstrap_servers
        load(bootstrap, "warmup", 2_000)
        began = time.perf_counter()
        load(bootstrap, "bench", args.records)
        print(f"loaded {args.records:,} records in {time.perf_counter() - began:.0f} s")
        model = save_model(train_demo_model("binary", n_features=4), root / "lr.joblib")
        publish_sklearn(ModelStore(root / "models"), model, FEATURES)
        conf = dict(kv.split("=", 1) for kv in args.conf)
        rates: dict[tuple[str, str], list[float]] = {}
        spark = build_session("e2e-bench", {"spark.master": args.master, **conf})
        spark.sparkContext.setLogLevel("ERROR")
        print(f"driver pid {os.getpid()}, load average {os.getloadavg()[0]:.1f}")
        if not args.cold:  # Python workers start, and the JVM's JIT compiles the hot paths
            for client in args.clients:
                timed_run(spark, config(root, bootstrap, "warmup", client, 0), 2_000, BROKER)
            cfg = config(root, bootstrap, "bench", args.clients[0], 0, -1)
            print(f"warm-up run: {args.records / timed_run(spark, cfg, args.records)[0]:,.0f}")
        # Settings take turns run by run, so drift on a shared machine spreads over all of them.
        for run, client, max_records in itertools.product(
            range(args.repeats), args.clients, args.max_records_per_partition
        ):
            cfg = config(root, bootstrap, "bench", client, max_records, run)
            seconds, cpu, phases = timed_run(spark, cfg, args.records, BROKER)
            split = f"maxRecordsPerPartition={max_records or 'unset'}"
            rates.setdefault((client, split), []).append(args.records / seconds)
            print(
                f"{client:16s} {split:30s} {args.records / seconds:10,.0f} records/s "
                f"({seconds:.1f} s; addBatch {phases.get('addBatch', 0) / 1000:.1f} s; "
                f"load average {os.getloadavg()[0]:.1f})\n    CPU seconds: "
                + ", ".join(f"{kind} {sec:.1f}" for kind, sec in sorted(cpu.items()))
                + f"; {args.records / sum(cpu.values()):,.0f} records per CPU-second"
                + "\n    Spark phases (s): "
                + ", ".join(f"{k} {ms / 1000:.2f}" for k, ms in phases.items() if ms >= 50),
                flush=True,
            )
        spark.stop()
    for (client, split), found in rates.items():
        print(f"median {client:16s} {split:30s} {statistics.median(found):10,.0f} records/s")


if __name__ == "__main__":
    main()
