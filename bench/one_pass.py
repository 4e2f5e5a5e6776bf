"""End to end, side by side: `run --once` against the 2-process read + parse ceiling and
against another checkout of the scorer, on one topic, in one run.

Loads N JSON records (`id` + 8 double features) into a 4-partition topic on an embedded
broker, publishes a LogisticRegression, then for `--rounds` rounds, in turn:

- **ceiling**: two processes, each with 2 of the partitions, read them with confluent-kafka
  and parse every value with orjson into its 8 floats; nothing else. Records / wall time.
- **each scorer tree** (this checkout, and `--baseline` if given, e.g. a `git worktree` of
  an older commit): `python -m stream_scorer run --once` as a fresh process into Parquet,
  with `maxOffsetsPerTrigger` (default 200k), then the same on an empty topic. Figures:
  *steady*, the rows over the summed `batch_duration_ms` of batches 1 onwards, from the
  scorer's own per-batch JSON lines (batch 0 pays the Python workers' start-up); *net*, N
  over the wall time minus the empty drain's.

Prints each run, then medians and the ratios; writes `bench/results/one_pass.json`. Run:
`.venv/bin/python -m bench.one_pass --records 1000000 --rounds 3 --baseline ../wt-old`.
"""

import argparse
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import yaml
from confluent_kafka import Consumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from bench.e2e import PARTITIONS, load
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.testing.scorer_setup import raw_config
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore

N_FEATURES = 8
FEATURES = {f"f{j}": "double" for j in range(N_FEATURES)}
RESULTS = Path(__file__).parent / "results" / "one_pass.json"
_BATCH_LINE = re.compile(r'(\{"batch_duration_ms".*"event": "batch".*\})')


def read_and_parse(bootstrap: str, topic: str, partitions: list[int], ends: list[int]) -> int:
    """Read `partitions` of `topic` to `ends` with confluent-kafka, orjson-parse every value
    into its features; return the records read."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "ceiling", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    left = dict(zip(partitions, ends, strict=True))
    names = list(FEATURES)
    count = 0
    while left:
        for message in consumer.consume(10_000, 1.0):
            record = orjson.loads(message.value())
            [record[name] for name in names]
            count += 1
            if message.offset() + 1 >= left.get(message.partition(), 1 << 62):
                del left[message.partition()]
    consumer.close()
    return count


def ceiling(bootstrap: str, topic: str, ends: dict[int, int]) -> float:
    """Records/s of two processes reading and parsing half the partitions each."""
    halves = [sorted(ends)[i::2] for i in range(2)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        pool.apply(len, ([],))  # both processes are up before the clock starts
        began = time.perf_counter()
        jobs = [
            pool.apply_async(read_and_parse, (bootstrap, topic, half, [ends[p] for p in half]))
            for half in halves
        ]
        count = sum(job.get() for job in jobs)
        return count / (time.perf_counter() - began)


def scorer_run(tree: Path, config: Path) -> tuple[float, list[dict]]:
    """Run `stream-scorer run --once` from `tree`; return wall seconds and its batch lines."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYSPARK_PYTHON": sys.executable}
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "stream_scorer", "run", "--once", "--config", str(config)],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"scorer in {tree} failed:\n{done.stderr[-3000:]}")
    batches = [json.loads(m) for m in _BATCH_LINE.findall(done.stderr + done.stdout)]
    return seconds, batches


def steady_rate(batches: list[dict]) -> float | None:
    """Rows per second of batches 1 onwards, by their own durations."""
    later = [b for b in batches if b["batch_id"] >= 1 and b["input_rows"]]
    seconds = sum(b["batch_duration_ms"] for b in later) / 1000
    return sum(b["input_rows"] for b in later) / seconds if seconds else None


def write_config(root: Path, name: str, bootstrap: str, topic: str, budget: int) -> Path:
    """A run-once config reading `topic` into Parquet under `root/name`."""
    raw = raw_config(root / name, bootstrap, topic, FEATURES, model={"store": str(root / "models")})
    raw["source"]["options"]["maxOffsetsPerTrigger"] = str(budget)
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=200_000, help="maxOffsetsPerTrigger")
    parser.add_argument("--baseline", type=Path, help="another checkout to run side by side")
    args = parser.parse_args()
    trees = {"scorer": Path(__file__).resolve().parents[1]}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    figures: dict[str, list[float]] = {}
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        root, bootstrap = Path(tmp), broker.bootstrap_servers
        load(bootstrap, "bench", args.records, features=N_FEATURES)
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic("empty", PARTITIONS, 1)])
        admin.close()
        ends = {p: _end(args.records, p) for p in range(PARTITIONS)}
        model = save_model(train_demo_model("binary", n_features=N_FEATURES), root / "lr.joblib")
        publish_sklearn(ModelStore(root / "models"), model, FEATURES)
        for rnd in range(args.rounds):
            rate = ceiling(bootstrap, "bench", ends)
            figures.setdefault("ceiling", []).append(rate)
            print(f"round {rnd} ceiling {rate:,.0f} rec/s (load {os.getloadavg()[0]:.1f})")
            for name, tree in trees.items():
                full = write_config(root, f"{name}-{rnd}", bootstrap, "bench", args.budget)
                empty = write_config(root, f"{name}-{rnd}-empty", bootstrap, "empty", args.budget)
                seconds, batches = scorer_run(tree, full)
                empty_seconds, _ = scorer_run(tree, empty)
                steady = steady_rate(batches)
                net = args.records / max(seconds - empty_seconds, 1e-9)
                figures.setdefault(f"{name} steady", []).append(steady or 0.0)
                figures.setdefault(f"{name} net", []).append(net)
                figures.setdefault(f"{name} empty drain s", []).append(empty_seconds)
                print(
                    f"round {rnd} {name}: {seconds:.1f} s, empty drain {empty_seconds:.1f} s, "
                    f"net {net:,.0f} rec/s, steady {steady or 0:,.0f} rec/s over "
                    f"{len(batches)} batches (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    medians = {name: statistics.median(values) for name, values in figures.items()}
    for name, value in medians.items():
        print(f"median {name:28s} {value:12,.1f}")
    ratios = {}
    for name in trees:
        for kind in ("steady", "net"):
            ratios[f"{name} {kind} / ceiling"] = medians[f"{name} {kind}"] / medians["ceiling"]
            if name != "baseline" and "baseline" in trees:
                base = medians[f"baseline {kind}"]
                ratios[f"{name} {kind} / baseline"] = medians[f"{name} {kind}"] / base
    for name, value in ratios.items():
        print(f"ratio {name:34s} {value:6.2f}")
    RESULTS.parent.mkdir(exist_ok=True)
    report = {"records": args.records, "figures": figures, "medians": medians, "ratios": ratios}
    RESULTS.write_text(json.dumps(report, indent=2))


def _end(records: int, partition: int) -> int:
    """Records `load` writes to `partition` (round-robin), hence its end offset."""
    return len(range(partition, records, PARTITIONS))


if __name__ == "__main__":
    main()
