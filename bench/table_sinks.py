"""Steady rate of each table sink against the Parquet sink, on the same records.

Pre-loads N JSON records (`id` + 4 double features) into a 4-partition topic on a fresh
embedded broker (`bench.e2e.load`), publishes the LR demo model, then times a run-once scorer
(`Scorer(config, once=True).run()`, in one Spark session warmed up by an untimed small run
per sink) writing its predictions to a Parquet sink, a Delta table or an Iceberg table (SQL
catalog on SQLite), each run to fresh outputs and a fresh checkpoint; the sinks take turns
round by round. On a local master the scoring tasks write every sink's data files; the
table sinks add their table commit per batch (`maxOffsetsPerTrigger` sets the batches). Each
run's output is read back and counted. Prints each run, then the median rate per sink and
its ratio to Parquet's. Run:
`.venv/bin/python -m bench.table_sinks --records 1000000 [--rounds 3] [--per-batch 250000]`.
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
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore

SINKS = ("parquet", "delta", "iceberg")


def sink(kind: str, root: Path, tag: str) -> dict:
    """The sink config of `kind`, writing under `root` (fresh for `tag`)."""
    if kind == "parquet":
        return {"kind": "parquet", "path": str(root / f"parquet-{tag}")}
    if kind == "delta":
        return {"kind": "delta", "path": str(root / f"delta-{tag}")}
    catalog = {"type": "sql", "uri": f"sqlite:///{root}/catalog.db", "warehouse": f"file://{root}"}
    return {"kind": "iceberg", "catalog": catalog, "table": f"bench.t_{tag.replace('-', '_')}"}


def config(root: Path, bootstrap: str, topic: str, kind: str, tag: str, per_batch: int):
    """A run-once scorer of `topic` into one sink of `kind`; dead letters to Parquet."""
    model = {"store": str(root / "models")}
    raw = raw_config(
        root / tag, bootstrap, topic, FEATURES, model=model, sinks=[sink(kind, root, tag)]
    )
    raw["source"]["options"]["maxOffsetsPerTrigger"] = str(per_batch)
    return parse_config(raw, "bench")


def written(cfg: ScorerConfig) -> int:
    """Rows the run's sink holds, read back with its own reader."""
    out = cfg.sinks[0]
    if out.kind == "parquet":
        return pq.read_table(out.path, columns=["offset"]).num_rows
    if out.kind == "delta":
        from deltalake import DeltaTable

        return DeltaTable(out.path).to_pyarrow_table(columns=["offset"]).num_rows
    from pyiceberg.catalog import load_catalog

    table = load_catalog("default", **out.catalog).load_table(out.table)
    return table.scan(selected_fields=("offset",)).to_arrow().num_rows


def timed(spark, cfg: ScorerConfig, records: int) -> float:
    """Wall seconds of one run-once scorer of `cfg`, its output counted."""
    began = time.perf_counter()
    Scorer(cfg, spark=spark, once=True).run()
    seconds = time.perf_counter() - began
    if written(cfg) != records:
        msg = f"{cfg.sinks[0].kind}: wrote {written(cfg)} predictions, expected {records}"
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
        spark = build_session("table-sinks-bench", {"spark.master": args.master})
        spark.sparkContext.setLogLevel("ERROR")
        for kind in SINKS:
            timed(spark, config(root, bootstrap, "warmup", kind, f"warm-{kind}", 1_000), 2_000)
        rates: dict[str, list[float]] = {kind: [] for kind in SINKS}
        for run in range(args.rounds):  # the sinks take turns: drift spreads over all
            for kind in SINKS:
                cfg = config(root, bootstrap, "bench", kind, f"{kind}-{run}", args.per_batch)
                seconds = timed(spark, cfg, args.records)
                rates[kind].append(args.records / seconds)
                print(
                    f"round {run} {kind:8s} {args.records / seconds:10,.0f} records/s "
                    f"({seconds:.1f} s; load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        spark.stop()
    parquet = statistics.median(rates["parquet"])
    for kind, found in rates.items():
        median = statistics.median(found)
        print(f"median {kind:8s} {median:10,.0f} records/s  {median / parquet:.2f}x parquet")


if __name__ == "__main__":
    main()
