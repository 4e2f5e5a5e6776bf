"""End to end from Kafka: a stream spread over 1,000 keys, scored by a per-key family of
LogisticRegression models against the same stream scored by one LogisticRegression.

One topic of N records (`bench.e2e.load`, `store` cycling over the keys) is scored by
`Scorer(config, once=True).run()` into Parquet, the configs taking turns, `--repeats` times
each, after a warm-up run of each: the single model and the family with Arrow batches of
10,000 rows (the default), and the family with batches of 50,000 (`--arrow`). The single
model is the demo binary LR; the family holds one LR per key, each fitted on 100 rows of its
own weights. Target: the family's records/s at least 0.9x the single model's (issue 29;
0.5x before linear members were scored stacked).
Run: `python -m bench.family_score [--records 200000] [--keys 1000] [--repeats 3] [--root DIR]`
(`--root`: publish both stores there once and reuse them; checkpoints and outputs stay in a
temporary directory).
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from sklearn.linear_model import LogisticRegression

from bench.e2e import BROKER, FEATURES, config, load, timed_run
from bench.stream_harness import save_result, target_row
from stream_scorer.config.settings import ScoringConfig
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.flavors.family.build import build_family
from stream_scorer.runtime.session import build_session
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.family_helpers import fit_locally, keyed_frame

CLIENT = "confluent-kafka"


def publish_both(root: Path, keys: int) -> None:
    """The single demo LR into `root/single`, a family of `keys` LRs into `root/family`."""
    model = save_model(train_demo_model("binary", n_features=4), root / "lr.joblib")
    publish_sklearn(ModelStore(root / "single"), model, FEATURES)
    began = time.perf_counter()
    spec, fitted, _ = fit_locally(keyed_frame(keys, 100), LogisticRegression, target="label")
    payload, manifest = build_family(spec, fitted, {})
    ModelStore(root / "family").add(manifest, payload)
    print(f"family of {keys} keys fitted and published in {time.perf_counter() - began:.1f} s "
          f"({len(payload):,} bytes)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Load the topic, run both configs in turns, print and save records/s and the ratio."""
    args = _parse(argv)
    kinds = {"single": (None, args.arrow[0])}
    kinds |= {f"family@{size}": ("store", size) for size in args.arrow}
    rates: dict[str, list[float]] = {kind: [] for kind in kinds}
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        root, bootstrap = Path(tmp), broker.bootstrap_servers
        load(bootstrap, "warmup", 2_000, keys=args.keys)
        load(bootstrap, "bench", args.records, keys=args.keys)
        if args.root:  # stores published by an earlier run: no refit
            kept = Path(args.root)
            if not (kept / "family").exists():
                kept.mkdir(parents=True, exist_ok=True)
                publish_both(kept, args.keys)
            for store in ("single", "family"):
                (root / store).symlink_to(kept.resolve() / store)
        else:
            publish_both(root, args.keys)
        conf = {"spark.master": "local[2]", "spark.driver.memory": "2g"}
        spark = build_session("bench-family-score", conf)
        spark.sparkContext.setLogLevel("ERROR")

        def cfg(topic: str, kind: str, run: int):
            """The config of `kind`, with its own checkpoint and outputs for each run."""
            route_by, arrow = kinds[kind]
            store = "family" if route_by else "single"
            tag = run * len(kinds) + list(kinds).index(kind)
            found = config(root, bootstrap, topic, CLIENT, 0, tag, store, route_by)
            return found.model_copy(update={"scoring": ScoringConfig(arrow_batch_size=arrow)})

        for kind in kinds:  # Python workers start; the family's workers load every key
            timed_run(spark, cfg("warmup", kind, -1), 2_000, BROKER)
        for run in range(args.repeats):
            for kind in kinds:
                seconds, cpu, _ = timed_run(spark, cfg("bench", kind, run), args.records, BROKER)
                rates[kind].append(args.records / seconds)
                print(f"{kind:13s} {rates[kind][-1]:10,.0f} records/s ({seconds:.1f} s, CPU s "
                      f"{sum(cpu.values()):.1f}; load average {os.getloadavg()[0]:.1f})",
                      flush=True)  # fmt: skip
        spark.stop()
    medians = {kind: statistics.median(found) for kind, found in rates.items()}
    ratios = {kind: medians[kind] / medians["single"] for kind in kinds if kind != "single"}
    ratio = ratios[f"family@{args.arrow[0]}"]
    document = {
        "settings": vars(args),
        "records_per_s": rates,
        "median_records_per_s": medians,
        "family_vs_single": ratios,
        "load_average": os.getloadavg(),
        "summary": [
            target_row(f"family of {args.keys} keys vs one model, end to end", ratio, "x",
                       ">= 0.9", ratio >= 0.9),
            *(target_row(f"the same, Arrow batches of {kind[7:]}", r, "x", "(info)", None)
              for kind, r in ratios.items() if kind != f"family@{args.arrow[0]}"),
        ],
    }  # fmt: skip
    print(f"medians: {medians}; family / single: {ratios}")
    print(f"wrote {save_result('family_score', document)}")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.family_score", description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--arrow", type=int, nargs="+", default=[10_000, 50_000],
                        help="Arrow batch sizes: first for both, others family only")  # fmt: skip
    parser.add_argument("--root", help="stores published by an earlier run (kept), to reuse")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
