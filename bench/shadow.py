"""The cost of shadow scoring: end-to-end records/s with a challenger, against without.

Pre-loads N JSON records into a 4-partition topic on a fresh embedded broker, publishes two
LogisticRegression demo models (v0001 served, v0002 with `--no-promote`), then times run-once
scorers writing Parquet, taking turns: without `model.shadow`, and with `model.shadow:
latest` (v0002 scored on the same rows, its columns written, its agreement observed). One
Spark session, warmed up by one untimed run of each. Run:
`.venv/bin/python -m bench.shadow --records 100000 --repeats 3`.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.e2e import BROKER, FEATURES, config, load, timed_run
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.runtime.session import build_session
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore

CLIENT = "confluent-kafka"


def shadow_config(root: Path, bootstrap: str, topic: str, run: int, shadow: bool):
    """`bench.e2e.config`, with `model.shadow: latest` when `shadow`."""
    cfg = config(root, bootstrap, topic, CLIENT, 0, run * 2 + shadow)
    if not shadow:
        return cfg
    return cfg.model_copy(update={"model": cfg.model.model_copy(update={"shadow": "latest"})})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per setting")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        root, bootstrap = Path(tmp), broker.bootstrap_servers
        load(bootstrap, "bench", args.records)
        store = ModelStore(root / "models")
        for seed in (0, 1):
            path = save_model(
                train_demo_model("binary", n_features=4, seed=seed), root / "m.joblib"
            )
            publish_sklearn(store, path, FEATURES, advance=seed == 0)
            path.unlink()
        spark = build_session("shadow-bench", {"spark.master": args.master})
        spark.sparkContext.setLogLevel("ERROR")
        for shadow in (False, True):  # warm-up: workers start, JIT, both models cached
            timed_run(spark, shadow_config(root, bootstrap, "bench", -1, shadow), args.records)
        rates: dict[bool, list[float]] = {False: [], True: []}
        for run in range(args.repeats):
            for shadow in (False, True):  # taking turns spreads a shared machine's drift
                cfg = shadow_config(root, bootstrap, "bench", run, shadow)
                seconds = timed_run(spark, cfg, args.records, BROKER)[0]
                rates[shadow].append(args.records / seconds)
                print(
                    f"{'with shadow' if shadow else 'no shadow':12s} "
                    f"{args.records / seconds:10,.0f} records/s ({seconds:.1f} s, "
                    f"load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        spark.stop()
    without, with_shadow = (statistics.median(rates[s]) for s in (False, True))
    print(f"{time.strftime('%Y-%m-%d')}, {args.records:,} records, median of {args.repeats}:")
    print(f"  no shadow   {without:10,.0f} records/s")
    print(f"  with shadow {with_shadow:10,.0f} records/s ({with_shadow / without:.2f}x)")


if __name__ == "__main__":
    main()
