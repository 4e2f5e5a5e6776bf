"""A 10,000-key family: publish time, broadcast size, worker RSS once every key was used, and
what a reload of the whole family costs.

1. Fit two versions of 10,000 Ridge keys (`--rows` rows each) in this process, then time
   `build_family` + `ModelStore.add` of the first (assemble, load every key back
   and predict its canary rows, write): the publish time. The artefact is what each version
   broadcasts.
2. Driver side of a reload: a `ModelRegistry` serving v0001 is timed on `refresh()` to
   v0002 (read, sha256, load, canary rows of every key, broadcast).
3. A streaming `Scorer` (1 s trigger, local[2], serving v0001 again) scores a warm-up topic
   with one key (RSS baseline), then twice `--passes` records per key over every key (each
   partition holds every key: keys load in the first batch and are cached in the second;
   RSS after all keys were used); then CURRENT flips to v0002 and the same again (each key's
   model is deserialised again on first use; RSS with both versions cached).
Run: `python -m bench.family_scale [--keys 10000] [--rows 20] [--passes 3]`.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import orjson
from pyspark.sql import functions as F
from sklearn.linear_model import Ridge

from bench.e2e import FEATURES, config, load
from bench.memory import process_rss
from bench.stream_harness import save_result, target_row
from stream_scorer.config.model_settings import ModelConfig
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.flavors.family.build import build_family
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.runtime.session import build_session
from stream_scorer.serving.registry import ModelRegistry
from stream_scorer.versions.store import ModelStore
from tests.family_helpers import fit_locally, keyed_frame
from tests.kafka_helpers import produce_exact, spread

MB = 1024 * 1024


def keyed_values(keys: int, passes: int, start: int) -> list[bytes]:
    """`passes` records per key, ids from `start`; dealt round-robin over the topic's 4
    partitions, each partition gets every key."""
    return [
        orjson.dumps({"id": start + i, "store": f"k{i // 4 % keys:04d}",
                      **{f: (i % 997) * 0.01 - j for j, f in enumerate(FEATURES)}})
        for i in range(keys * passes)
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the three measurements, print them, write bench/results/family_scale.json."""
    args = _parse(argv)
    doc: dict = {"settings": vars(args)}
    began = time.perf_counter()
    (spec, first, _), (_, second, _) = (
        fit_locally(keyed_frame(args.keys, args.rows, seed), Ridge) for seed in (0, 1)
    )
    print(f"fitted 2 x {args.keys} keys in {time.perf_counter() - began:.1f} s", flush=True)
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        root, bootstrap = Path(tmp), broker.bootstrap_servers
        store = ModelStore(root / "family")
        began = time.perf_counter()
        payload, manifest = build_family(spec, first, {})
        store.add(manifest, payload)
        doc["publish_s"] = time.perf_counter() - began
        doc["broadcast_mb"] = len(payload) / MB
        doc["manifest_mb"] = (store.root / "v0001" / "manifest.json").stat().st_size / MB
        payload, manifest = build_family(spec, second, {})
        conf = {"spark.master": "local[2]", "spark.driver.memory": "3g"}
        spark = build_session("bench-family-scale", conf)
        spark.sparkContext.setLogLevel("ERROR")
        model = ModelConfig(store=str(store.root), route_by="store")
        registry = ModelRegistry(model, FEATURES, spark)
        registry.refresh()
        store.add(manifest, payload)
        began = time.perf_counter()
        registry.refresh()
        doc["driver_reload_s"] = time.perf_counter() - began
        print({k: v for k, v in doc.items() if k != "settings"}, flush=True)
        store.set_current("v0001")
        doc |= stream(spark, root, bootstrap, store, args)
        spark.stop()
    doc["load_average"] = os.getloadavg()
    doc["summary"] = [
        target_row(f"publish, {args.keys} keys", doc["publish_s"], "s", "(info)", None),
        target_row("broadcast per version", doc["broadcast_mb"], "MB", "(info)", None),
        target_row("driver reload", doc["driver_reload_s"], "s", "(info)", None),
    ]
    for key, value in doc.items():
        print(f"{key}: {value}")
    print(f"wrote {save_result('family_scale', doc)}")
    return 0


def stream(spark, root: Path, bootstrap: str, store: ModelStore, args) -> dict:
    """RSS baseline, RSS after every key, then a v2 reload mid-stream; figures as a dict."""
    load(bootstrap, "warmup", 2_000, keys=1)
    Scorer(_config(root, bootstrap, "warmup"), spark=spark, once=True).run()
    baseline = process_rss()
    load(bootstrap, "stream", 4, keys=1)
    cfg = _config(root, bootstrap, "stream")
    scorer = Scorer(cfg, spark=spark)
    query = scorer.start()
    try:
        size = args.keys * args.passes
        for phase in range(2):  # keys load in the first, are cached in the second
            produce_exact(
                bootstrap, "stream", spread(keyed_values(args.keys, args.passes, phase * size), 4)
            )
            query.processAllAvailable()
        after_v1 = process_rss()
        published = time.time()
        store.set_current("v0002")
        produce_exact(
            bootstrap, "stream", spread(keyed_values(args.keys, args.passes, 2 * size), 4)
        )
        query.processAllAvailable()
        after_v2 = process_rss()
    finally:
        query.stop()
    rows = spark.read.parquet(cfg.sinks[0].path).groupBy("model_version")
    first = {r[0]: r[1].timestamp() for r in rows.agg(F.min("scored_at")).collect()}
    stats = scorer.pipeline.stats  # Spark's numInputRows counts offset ranges, not records
    batches = [(p["batchId"], batch.input_rows, p["durationMs"]["triggerExecution"] / 1e3)
               for p in query.recentProgress
               if p["numInputRows"] and (batch := stats.batch(p["batchId"]))]  # fmt: skip

    def workers(sample: dict) -> dict:
        return {str(pid): round(rss / MB, 1) for pid, rss in sample["workers"].items()}

    return {
        "worker_rss_mb": {"one_key": workers(baseline), "every_key_v1": workers(after_v1),
                          "every_key_v1_and_v2": workers(after_v2)},
        "batches": batches,
        "publish_to_first_v2_row_s": first.get("v0002", float("nan")) - published,
    }  # fmt: skip


def _config(root: Path, bootstrap: str, topic: str):
    return config(root, bootstrap, topic, "confluent-kafka", 0, 0, "family", "store")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.family_scale", description=__doc__)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=20, help="training rows per key")
    parser.add_argument("--passes", type=int, default=3, help="records per key per phase")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
