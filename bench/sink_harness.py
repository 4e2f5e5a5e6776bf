"""What the sink benchmarks share: one sink against the Parquet sink, on the same records.

Pre-loads N JSON records (`id` + 4 double features) into a 4-partition topic on a fresh
embedded broker (`bench.e2e.load`), publishes the LR demo model, then times a run-once scorer
(`Scorer(config, once=True).run()`, in one Spark session warmed up by an untimed small run
per sink) writing its predictions to one sink of each kind in turn, each run to a fresh
output and a fresh checkpoint; the sinks take turns round by round. Each run's output is
read back and counted. Prints each run with the machine's load, then the median rate per
sink and its ratio to Parquet's. A benchmark names its sinks (`SinkBench`) and calls `main`.
"""

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from collections.abc import Callable
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
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore

PARQUET = "parquet"


@dataclasses.dataclass(frozen=True)
class SinkBench:
    """The sinks one benchmark times against Parquet's."""

    name: str
    """The Spark application's name."""
    kinds: tuple[str, ...]
    """The contenders, Parquet's first."""
    sink: Callable[[str, Path, str, str], dict]
    """`(kind, root, tag, bootstrap)`: the sink config of `kind`, a fresh output for `tag`."""
    written: Callable[[ScorerConfig, str], int]
    """`(config, bootstrap)`: rows the run's sink holds, read back with its own reader."""


def parquet_rows(cfg: ScorerConfig) -> int:
    """Rows of the run's Parquet sink."""
    return pq.read_table(cfg.sinks[0].path, columns=["offset"]).num_rows


def config(
    bench: SinkBench, root: Path, bootstrap: str, topic: str, kind: str, tag: str, per_batch: int
) -> ScorerConfig:
    """A run-once scorer of `topic` into one sink of `kind`; dead letters to Parquet."""
    model = {"store": str(root / "models")}
    out = bench.sink(kind, root, tag, bootstrap)
    raw = raw_config(root / tag, bootstrap, topic, FEATURES, model=model, sinks=[out])
    raw["source"]["options"]["maxOffsetsPerTrigger"] = str(per_batch)
    return parse_config(raw, "bench")


def timed(bench: SinkBench, spark, cfg: ScorerConfig, records: int, bootstrap: str) -> float:
    """Wall seconds of one run-once scorer of `cfg`, its output counted."""
    began = time.perf_counter()
    Scorer(cfg, spark=spark, once=True).run()
    seconds = time.perf_counter() - began
    found = bench.written(cfg, bootstrap)
    if found != records:
        msg = f"{cfg.sinks[0].kind}: wrote {found} predictions, expected {records}"
        raise RuntimeError(msg)
    return seconds


def main(bench: SinkBench, description: str) -> None:
    """Parse the command line (`--records`, `--rounds`, `--per-batch`, `--master`) and run."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-batch", type=int, default=250_000, help="maxOffsetsPerTrigger")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    width = max(map(len, bench.kinds))
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        root, bootstrap = Path(tmp), broker.bootstrap_servers
        load(bootstrap, "warmup", 2_000)
        load(bootstrap, "bench", args.records)
        model = save_model(train_demo_model("binary", n_features=4), root / "lr.joblib")
        publish_sklearn(ModelStore(root / "models"), model, FEATURES)
        spark = build_session(bench.name, {"spark.master": args.master})
        spark.sparkContext.setLogLevel("ERROR")
        for kind in bench.kinds:
            warm = config(bench, root, bootstrap, "warmup", kind, f"warm-{kind}", 1_000)
            timed(bench, spark, warm, 2_000, bootstrap)
        rates: dict[str, list[float]] = {kind: [] for kind in bench.kinds}
        for run in range(args.rounds):  # the sinks take turns: drift spreads over all
            for kind in bench.kinds:
                tag = f"{kind}-{run}"
                cfg = config(bench, root, bootstrap, "bench", kind, tag, args.per_batch)
                seconds = timed(bench, spark, cfg, args.records, bootstrap)
                rates[kind].append(args.records / seconds)
                print(
                    f"round {run} {kind:{width}s} {args.records / seconds:10,.0f} records/s "
                    f"({seconds:.1f} s; load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        spark.stop()
    parquet = statistics.median(rates[PARQUET])
    for kind, found in rates.items():
        median = statistics.median(found)
        print(f"median {kind:{width}s} {median:10,.0f} records/s  {median / parquet:.2f}x parquet")
