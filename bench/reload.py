"""Hot-reload time: from publishing a model version to the first row it scores, mid-stream.

A `SteadyProducer` streams 5k records/s; 5 times (quick: 3) a new demo model version is
published and timed from `publish_sklearn` returning (CURRENT flipped) to the smallest
`scored_at` of a row with that `model_version`. Target: every reload <= 1 trigger interval +
the median batch time. Also checked: every produced offset is scored exactly once, and every
micro-batch is scored by one model version. Run: `python -m bench.reload [--quick]`.
"""

import argparse
import random
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.steady_producer import Produced
from bench.stream_harness import TRIGGER_S, StreamBench, exactly_once, save_result, target_row
from stream_scorer.testing.scorer_setup import NUMERIC, publish


def main(argv: list[str] | None = None) -> int:
    """Run the reload bench, print the figures, write bench/results/reload.json."""
    args = _parse(argv)
    published: dict[str, float] = {}
    jitter = random.Random(0)
    with (
        tempfile.TemporaryDirectory(prefix="bench-reload-") as tmp,
        StreamBench(Path(tmp), NUMERIC) as bench,
    ):
        publish(bench.store.root, "binary", NUMERIC, seed=0)
        bench.start()
        bench.warm_up()
        steady = bench.stream(args.rate)
        for seed in range(1, args.reloads + 1):
            time.sleep(args.settle + jitter.uniform(0, TRIGGER_S))  # publish at any trigger phase
            version = publish(bench.store.root, "binary", NUMERIC, seed=seed)
            published[version] = time.time()
            bench.wait_scored_by(version, timeout_s=120)
            print(f"published {version}; serving", flush=True)
        time.sleep(args.settle)
        produced = bench.finish(steady)
        frame, batches = bench.outputs(), bench.batches()
    document = analyse(frame, batches, produced, published)
    document["settings"] = vars(args) | {"trigger_s": TRIGGER_S}
    _print(document)
    print(f"wrote {save_result('reload', document)}")
    return 0


def analyse(
    frame: pd.DataFrame, batches: pd.DataFrame, produced: Produced, published: dict[str, float]
) -> dict:
    """Seconds from publish to first scored row per version, the target, row checks."""
    first = frame.groupby("model_version")["scored"].min()
    reloads = {version: float(first[version] - at) for version, at in published.items()}
    batch_s = float(batches["seconds"].median())
    target = TRIGGER_S + batch_s
    versions_per_batch = frame.groupby("batch_id")["model_version"].nunique()
    worst = max(reloads.values())
    document = {
        "reload_s": reloads,
        "batches": {"count": len(batches), "median_s": batch_s,
                    "p95_s": float(batches["seconds"].quantile(0.95))},
        "target_s": target,
        "batches_with_two_versions": int((versions_per_batch > 1).sum()),
        "rows_by_version": frame["model_version"].value_counts().sort_index().to_dict(),
        "producer": {"rate": produced.rate, "records": produced.count},
        "exactly_once": exactly_once(frame, produced),
    }  # fmt: skip
    rows = document["exactly_once"]
    intact = rows["lost"] == rows["duplicated"] == rows["unexpected"] == 0
    document["summary"] = [
        target_row(f"reload, worst of {len(reloads)}", worst, "s",
                   f"<= {target:.2f} s (trigger + median batch)", worst <= target),
        target_row("reload rows lost + duplicated", rows["lost"] + rows["duplicated"], "rows",
                   "0", intact),
    ]  # fmt: skip
    return document


def _print(doc: dict) -> None:
    times = "  ".join(f"{v} {s:.2f}" for v, s in doc["reload_s"].items())
    print(f"publish -> first scored row (s): {times}")
    print(
        f"target: <= {doc['target_s']:.2f} s (trigger {TRIGGER_S} s + median batch "
        f"{doc['batches']['median_s']:.2f} s over {doc['batches']['count']} batches)"
    )
    print(
        f"batches scored by two versions: {doc['batches_with_two_versions']}; rows by version: "
        f"{doc['rows_by_version']}"
    )
    print(f"producer {doc['producer']['rate']:,.0f}/s; rows: {doc['exactly_once']}")  # fmt: skip


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reload", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 reloads instead of 5")
    parser.add_argument("--rate", type=float, default=5_000, help="records/s (5,000)")
    parser.add_argument("--reloads", type=int, help="model versions published (5; quick 3)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds between reloads (3)")
    args = parser.parse_args(argv)
    args.reloads = args.reloads or (3 if args.quick else 5)
    return args


if __name__ == "__main__":
    raise SystemExit(main())
