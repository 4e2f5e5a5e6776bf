"""Python worker memory across many hot reloads of a large model.

The RF benchmark model (100 trees, depth 10, `bench.data.train_models`) is published 50 times
(quick: 8) while 2k records/s stream; after each version has scored a batch, the resident
memory (RSS, from /proc) of Spark's Python workers is recorded. Each worker keeps
`model.worker_cache_versions` (2) models and the driver unpersists retired broadcasts, so
worker RSS should level off after the first reloads. Growth = least-squares slope of the
workers' total RSS over the second half of the reloads; it counts as growth above half the
pickled model per reload (one leaked copy in one worker adds more). Linux only (/proc).
Run: `python -m bench.memory [--quick]`.
"""

import argparse
import pickle
import tempfile
from pathlib import Path

import joblib
import numpy as np

from bench.data import FEATURES, train_models
from bench.processes import rss, spark_processes
from bench.stream_harness import StreamBench, exactly_once, save_result, target_row
from stream_scorer.versions.publish import publish_sklearn

SCHEMA = dict.fromkeys(FEATURES, "double")
CACHE_VERSIONS = 2
"""`model.worker_cache_versions` default: at least this many reloads are left out of the fit."""
MB = 1024 * 1024


def main(argv: list[str] | None = None) -> int:
    """Run the memory bench, print the figures, write bench/results/memory.json."""
    args = _parse(argv)
    model = train_models()["RF"]
    samples = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp,
        StreamBench(Path(tmp), SCHEMA) as bench,
    ):
        artefact = Path(tmp) / "rf.joblib"
        joblib.dump(model, artefact)
        publish_sklearn(bench.store, artefact, SCHEMA)
        bench.start()
        bench.warm_up()
        steady = bench.stream(args.rate)
        samples.append({"version": bench.scorer.registry.serving_version, **process_rss()})
        for _ in range(args.versions):
            version = publish_sklearn(bench.store, artefact, SCHEMA, force=True).version
            bench.wait_scored_by(version, timeout_s=120)
            samples.append({"version": version, **process_rss()})
            print(f"{version}: workers {_mb(samples[-1]['workers'])}", flush=True)
        produced = bench.finish(steady)
        rows = exactly_once(bench.outputs(), produced)
    document = analyse(samples, len(pickle.dumps(model)) / MB)
    document |= {"settings": vars(args), "exactly_once": rows}
    _print(document)
    print(f"wrote {save_result('memory', document)}")
    return 0


def process_rss(root: int | None = None) -> dict:
    """RSS in bytes of the Spark JVM below `root` (this process) and its Python workers.

    The worker daemon is reported apart, the data source planners' daemons not at all (see
    `bench.processes`). Returns {"jvm", "daemon", "workers": {pid: rss}}.
    """
    found = spark_processes(root)
    return {
        "jvm": sum(rss(p) for p in found["jvm"]),
        "daemon": sum(rss(p) for p in found["daemon"]),
        "workers": {p: rss(p) for p in found["workers"]},
    }


def analyse(samples: list[dict], model_mb: float) -> dict:
    """First/last/max total worker RSS, the growth slope over the second half, the verdict."""
    totals = np.array([sum(s["workers"].values()) / MB for s in samples])
    jvm = np.array([s["jvm"] / MB for s in samples])
    steady = totals[max(CACHE_VERSIONS + 1, len(totals) // 2) :]
    slope = float(np.polyfit(np.arange(len(steady)), steady, 1)[0]) if len(steady) > 2 else 0.0
    limit = model_mb / 2
    pids = [sorted(s["workers"]) for s in samples]
    document = {
        "model_pickle_mb": model_mb,
        "workers_total_mb": {"first": totals[0], "last": totals[-1], "max": totals.max()},
        "jvm_mb": {"first": jvm[0], "last": jvm[-1], "max": jvm.max()},
        "growth_mb_per_reload": slope,
        "growth_limit_mb": limit,
        "grows": slope > limit,
        "workers_first_last": [len(pids[0]), len(pids[-1])],
        "worker_pids_changed": any(p != pids[0] for p in pids),
        "samples": [
            {"version": s["version"], "jvm_mb": s["jvm"] / MB, "daemon_mb": s["daemon"] / MB,
             "workers_mb": {str(p): rss / MB for p, rss in s["workers"].items()}}
            for s in samples
        ],
    }  # fmt: skip
    document["summary"] = [
        target_row("worker RSS growth per reload", slope, "MB",
                   f"<= {limit:.1f} MB (half a model: flat)", slope <= limit),
        target_row("worker RSS, last / first", totals[-1] / totals[0], "x", "(info)", None),
    ]  # fmt: skip
    return document


def _print(doc: dict) -> None:
    mb = doc["workers_total_mb"]
    print(f"RF model: {doc['model_pickle_mb']:.1f} MB pickled; {len(doc['samples']) - 1} reloads")
    print(
        f"Python workers, total RSS (MB): first {mb['first']:.0f}, last {mb['last']:.0f}, "
        f"max {mb['max']:.0f}; growth over the second half "
        f"{doc['growth_mb_per_reload']:+.2f} MB/reload -> "
        f"{'GROWS' if doc['grows'] else 'flat'}; workers first/last "
        f"{doc['workers_first_last']}, pids changed: {doc['worker_pids_changed']}"
    )
    jvm = doc["jvm_mb"]
    print(f"JVM RSS (MB): first {jvm['first']:.0f}, last {jvm['last']:.0f}, max {jvm['max']:.0f}")
    print(f"rows: {doc['exactly_once']}")  # fmt: skip


def _mb(workers: dict[int, int]) -> str:
    return ", ".join(f"{pid}: {rss / MB:.0f} MB" for pid, rss in workers.items()) or "none"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="8 versions instead of 50")
    parser.add_argument("--versions", type=int, help="versions published (50; quick 8)")
    parser.add_argument("--rate", type=float, default=2_000, help="records/s (2,000)")
    args = parser.parse_args(argv)
    args.versions = args.versions or (8 if args.quick else 50)
    return args


if __name__ == "__main__":
    raise SystemExit(main())
