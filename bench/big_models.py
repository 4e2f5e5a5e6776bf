"""Big models: seed 001's broadcast KNN at 256 MB and 1 GB, served by 4 Python workers.

Each figure comes from a fresh `local[4]` Spark session in a child process, so every mode
starts with new workers. A child publishes a tiny KNN (2,000 rows), scores a batch with it
(workers start, imports paid), measures the workers, then publishes the big KNN (N rows x 32
float64 features, `algorithm="brute"`, as seed 001's `KNeighborsRegressor`), switches to it
with `ModelRegistry.refresh()`, scores the same batch `--repeats` times (rows/s) and measures
again. Memory = the Python workers' summed PSS and RSS (`bench.processes`), growth = big minus
tiny. Modes: `broadcast` (`model.mapped_above_mb: 2047`: artefact bytes broadcast and
deserialised in every worker, the path every model took before that setting) and `mapped`
(a per-machine cache file, memory-mapped by every worker). `--reloads N` publishes N big
versions in a row instead and records, after each has scored a batch and the retired one was
released, the workers' PSS and the cache directory's size.
Run: `python -m bench.big_models [--mb 256 1024] [--modes broadcast mapped] [--reloads 10]`.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from stream_scorer.versions.publish import publish_sklearn

MB = 1024 * 1024
FEATURES = 32
SCHEMA = {f"f{i}": "double" for i in range(FEATURES)}


def main(argv: list[str] | None = None) -> int:
    """Run the children, print the table, write bench/results/big_models.json."""
    args = _parse(argv)
    if args.child:
        print(json.dumps(_child(args)))
        return 0
    runs = []
    for mb in args.mb:
        for mode in args.modes:
            runs.append(_run_child(args, mode, mb))
            _print(runs[-1])
    from bench.stream_harness import save_result

    document = {"settings": vars(args), "load_average": os.getloadavg(), "runs": runs}
    document["summary"] = []
    print(f"wrote {save_result('big_models', document)}")
    return 0


def _run_child(args: argparse.Namespace, mode: str, mb: int) -> dict:
    command = [sys.executable, "-m", "bench.big_models", "--child", "--modes", mode]
    command += ["--mb", str(mb), "--rows", str(args.rows), "--repeats", str(args.repeats)]
    command += ["--workers", str(args.workers), "--reloads", str(args.reloads)]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        msg = f"child {mode} {mb} MB failed with exit code {done.returncode}"
        raise SystemExit(msg)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result | {"wall_s": time.monotonic() - started, "load_average": os.getloadavg()}


def _child(args: argparse.Namespace) -> dict:
    from stream_scorer.runtime.session import build_session

    mode, mb = args.modes[0], args.mb[0]
    spark = build_session(
        "bench-big-models",
        {"spark.master": f"local[{args.workers}]", "spark.driver.memory": "4g"},
    )
    spark.sparkContext.setLogLevel("ERROR")
    with tempfile.TemporaryDirectory(prefix="bench-big-models-") as tmp:
        try:
            if args.reloads:
                return _reloads(spark, Path(tmp), mode, mb, args)
            return _serve(spark, Path(tmp), mode, mb, args)
        finally:
            spark.stop()


def _serve(spark, tmp: Path, mode: str, mb: int, args: argparse.Namespace) -> dict:
    from stream_scorer.scoring.stage import score

    registry, features = _registry(spark, tmp, mode), _features()
    batch = _batch(spark, args.rows, args.workers)
    _publish(registry.source.store, tmp, 2_000, seed=0)

    def run(serving) -> None:
        score(batch, serving, features).write.format("noop").mode("overwrite").save()

    run(registry.refresh())
    tiny = _memory()
    size = _publish(registry.source.store, tmp, mb * MB // (FEATURES * 8), seed=1)
    started = time.monotonic()
    serving = registry.refresh()
    switch_s = time.monotonic() - started
    seconds = []
    for _ in range(args.repeats):
        started = time.monotonic()
        run(serving)
        seconds.append(time.monotonic() - started)
    big = _memory()
    return {
        "mode": mode,
        "model_mb": size / MB,
        "version": serving.version,
        "switch_s": switch_s,
        "first_run_s": seconds[0],
        "rows_per_s": args.rows / statistics.median(seconds[1:] or seconds),
        "runs_s": seconds,
        "tiny": tiny,
        "big": big,
        "workers_pss_growth_mb": (big["workers_pss"] - tiny["workers_pss"]) / MB,
        "workers_rss_growth_mb": (big["workers_rss"] - tiny["workers_rss"]) / MB,
        "jvm_rss_growth_mb": (big["jvm_rss"] - tiny["jvm_rss"]) / MB,
    }


def _reloads(spark, tmp: Path, mode: str, mb: int, args: argparse.Namespace) -> dict:
    from stream_scorer.scoring.stage import score

    registry, features = _registry(spark, tmp, mode), _features()
    batch = _batch(spark, args.workers * 8, args.workers)
    rows = mb * MB // (FEATURES * 8)
    samples = []
    for seed in range(args.reloads):
        size = _publish(registry.source.store, tmp, rows, seed=seed, same_points=True)
        serving = registry.refresh()
        score(batch, serving, features).write.format("noop").mode("overwrite").save()
        registry.release_retired()
        memory = _memory()
        samples.append(memory | {"version": serving.version, "cache_mb": _du(tmp / "cache") / MB})
        print(
            f"{serving.version}: workers PSS {memory['workers_pss'] / MB:.0f} MB, "
            f"cache {samples[-1]['cache_mb']:.0f} MB",
            file=sys.stderr,
        )
    return {"mode": mode, "model_mb": size / MB, "reloads": samples}


def _registry(spark, tmp: Path, mode: str):
    from stream_scorer.config.model_settings import ModelConfig
    from stream_scorer.serving.registry import ModelRegistry

    extra = {"mapped_above_mb": 2047}  # the most a broadcast may carry
    if mode == "mapped":
        extra = {"mapped_above_mb": 1, "cache_dir": str(tmp / "cache")}
    return ModelRegistry(ModelConfig(store=str(tmp / "models"), **extra), SCHEMA, spark)


def _features():
    from stream_scorer.config.settings import FeaturesConfig

    return FeaturesConfig(schema=SCHEMA, passthrough={"id": "long"})


def _publish(store, tmp: Path, rows: int, seed: int, same_points: bool = False) -> int:
    """Fit a brute-force KNN regressor on `rows` random points, publish it; return its size.

    `same_points`: the points of seed 0 with the targets of `seed` (cheaper to make; still a
    new artefact).
    """
    import joblib
    import numpy as np
    from sklearn.neighbors import KNeighborsRegressor

    points = np.random.default_rng(0 if same_points else seed).standard_normal((rows, FEATURES))
    target = np.random.default_rng(seed).standard_normal(rows)
    model = KNeighborsRegressor(n_neighbors=5, algorithm="brute").fit(points, target)
    path = tmp / "knn.joblib"
    joblib.dump(model, path)
    del model, points
    publish_sklearn(store, path, SCHEMA)
    size = path.stat().st_size
    path.unlink()
    return size


def _batch(spark, rows: int, partitions: int):
    """A cached Kafka-schema frame of `rows` JSON records, built in the JVM: no Python worker
    runs before the scoring UDF, so every worker measured is a scoring one."""
    from pyspark.sql import functions as F

    fields = [F.col("id")] + [F.randn(seed=i).alias(name) for i, name in enumerate(SCHEMA)]
    frame = spark.range(rows, numPartitions=partitions).select(
        F.lit(None).cast("binary").alias("key"),
        F.to_json(F.struct(*fields)).cast("binary").alias("value"),
        F.lit("features").alias("topic"),
        F.lit(0).alias("partition"),
        F.col("id").alias("offset"),
        F.lit(datetime(2024, 5, 1, 12, 0, 0)).alias("timestamp"),
        F.lit(0).alias("timestampType"),
    )
    frame = frame.cache()
    frame.count()
    return frame


def _memory() -> dict:
    from bench.processes import pss, rss, spark_processes

    found = spark_processes()
    workers = found["workers"]
    return {
        "workers": len(workers),
        "workers_pss": sum(pss(p) for p in workers),
        "workers_rss": sum(rss(p) for p in workers),
        "jvm_rss": sum(rss(p) for p in found["jvm"]),
        "driver_rss": rss(os.getpid()),
    }


def _du(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def _print(run: dict) -> None:
    if "reloads" in run:
        pss = [s["workers_pss"] / MB for s in run["reloads"]]
        cache = [s["cache_mb"] for s in run["reloads"]]
        print(
            f"{run['mode']} {run['model_mb']:.0f} MB x {len(pss)} reloads: workers PSS (MB) "
            f"{', '.join(f'{p:.0f}' for p in pss)}; cache (MB) "
            f"{', '.join(f'{c:.0f}' for c in cache)}"
        )
        return
    print(
        f"{run['mode']} {run['model_mb']:.0f} MB: workers {run['big']['workers']}, PSS growth "
        f"{run['workers_pss_growth_mb']:.0f} MB "
        f"({run['workers_pss_growth_mb'] / run['model_mb']:.1f}x), "
        f"RSS growth {run['workers_rss_growth_mb']:.0f} MB, JVM RSS growth "
        f"{run['jvm_rss_growth_mb']:.0f} MB; switch {run['switch_s']:.1f} s, first run "
        f"{run['first_run_s']:.1f} s, {run['rows_per_s']:.0f} rows/s "
        f"(load average {run['load_average'][0]:.1f})"
    )  # fmt: skip


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.big_models", description=__doc__)
    parser.add_argument("--mb", type=int, nargs="+", default=[256], help="model sizes (256)")
    parser.add_argument(
        "--modes", nargs="+", default=["broadcast", "mapped"], choices=["broadcast", "mapped"]
    )
    parser.add_argument("--rows", type=int, default=2_000, help="rows scored per run (2,000)")
    parser.add_argument("--repeats", type=int, default=4, help="runs; the first is left out (4)")
    parser.add_argument("--workers", type=int, default=4, help="local[N] (4)")
    parser.add_argument("--reloads", type=int, default=0, help="versions in a row (off)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
