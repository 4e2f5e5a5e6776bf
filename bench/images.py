"""Seed 003's comparison on images, redone with a CNN in ONNX Runtime: images/s and CPU per
image of a row UDF, the seed's pandas UDF, plain Python, stream-scorer's scoring stage and
stream-scorer end to end from Kafka.

Data: `--images` generated `--size` x `--size` JPEGs (fixed seed, assorted colours, quality
90). At 64 (default) the CNN is `devtools.onnx_models.small_cnn` (2 convolutions); at 224 it
is `resnet_cnn` (ResNet-18's depth: 20 convolutions, a quarter of its width). 2 classes,
seeded weights, nothing downloaded. Every approach decodes the JPEG bytes with Pillow,
converts to RGB, scales to [0, 1], feeds NCHW float32 to one onnxruntime session per Python
process on one intra-op thread, and returns a class and a score.

- `row_udf` (seed's `predict` UDF): one image per call, the session built once per worker
  from a broadcast of the graph bytes (the seed broadcasts Keras weights into a model its
  closure holds; an InferenceSession cannot be pickled, so it is built on first use).
- `pandas_udf` (seed's `keras_model_udf`): a scalar pandas UDF returning `class, score`; each
  Arrow batch preprocessed image by image, then predicted with `batch_size=2` as the seed does.
- `python` (seed's `process_batch_python`): one process, load, preprocess all, predict with
  `batch_size=2`.
- `stage`: `scoring.stage.score` on a Kafka-schema frame of the images (`stage_threads2`: with
  `features.image_decode_threads: 2`).
- `stream_scorer`: the images pre-loaded into a 2-partition topic of a fresh embedded broker,
  the graph published with `model publish` semantics, then `Scorer(config, once=True).run()`
  writing Parquet, a fresh checkpoint each run; `stream_scorer addBatch` is the seconds its
  batches spent in `addBatch` (read Kafka, score, write), without the query's fixed costs.
Spark approaches run in one `local[2]` session over the same cached DataFrame (2 partitions)
into the noop sink. Every approach runs once untimed, then the contenders alternate for
`--rounds` rounds (the order rotating each round); medians, ratios to the pandas UDF, the CPU
seconds of this process and every process under it (JVM, Python workers) per image, and the
load average. Run: `.venv/bin/python -m bench.images [--size 224] [--images N] [--rounds 3]`.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from pyspark.sql import SparkSession

from bench.image_baselines import make_images, pandas_udf, plain_python, row_udf
from bench.image_stream import stage, stream_runs
from bench.processes import cpu_seconds

RESULTS = Path(__file__).parent / "results"
APPROACHES = ("python", "row_udf", "pandas_udf", "stage", "stage_threads2", "stream_scorer")
BASE = "pandas_udf"


def graph_for(size: int) -> bytes:
    """The CNN of a size: `small_cnn` at 64, `resnet_cnn` otherwise."""
    from stream_scorer.devtools import onnx_models

    if size == 64:
        return onnx_models.small_cnn((size, size), classes=2, seed=1)
    return onnx_models.resnet_cnn((size, size), classes=2, seed=1)


def contenders(
    spark: SparkSession, stack: ExitStack, images: list[bytes], graph: bytes, size: int, names
) -> dict[str, Callable[[], object]]:
    """One callable per approach in `names`, each running it over every image once."""
    rows = [(i, image) for i, image in enumerate(images)]
    df = spark.createDataFrame(rows, "id long, image binary").repartition(2).cache()
    df.count()
    frames = {
        "row_udf": lambda: row_udf(df, graph, size),
        "pandas_udf": lambda: pandas_udf(df, graph, size),
        "stage": lambda: stage(df, graph, size),
        "stage_threads2": lambda: stage(df, graph, size, threads=2),
    }
    runs: dict[str, Callable[[], object]] = {
        "python": lambda: plain_python(images, graph, size),
        **{
            name: lambda f=frame: f().write.format("noop").mode("overwrite").save()
            for name, frame in frames.items()
        },
    }
    if "stream_scorer" in names:
        runs["stream_scorer"] = stack.enter_context(stream_runs(spark, images, graph))
    return {name: runs[name] for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="image side; 224: resnet_cnn")
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=APPROACHES, default=list(APPROACHES))
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    images, graph = make_images(args.images, args.size), graph_for(args.size)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("bench-images")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.python.worker.reuse", "true")
        # A Python worker has 15 s to connect back by default; at load 15-20 on 2 cores the
        # streaming source's planner did not, failing the end-to-end run.
        .config("spark.python.authenticate.socketTimeout", "120s")
        .getOrCreate()
    )
    seconds: dict[str, list[float]] = {name: [] for name in args.only}
    cpu: dict[str, list[float]] = {name: [] for name in args.only}
    load = [os.getloadavg()[0]]
    with ExitStack() as stack:
        runs = contenders(spark, stack, images, graph, args.size, args.only)
        for run in runs.values():
            run()  # warm-up: Python workers start, sessions built, JIT
        names = list(runs)
        for r in range(args.rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                began, cpu_began = time.perf_counter(), cpu_seconds()
                within = runs[name]()
                seconds[name].append(time.perf_counter() - began)
                cpu[name].append(cpu_seconds() - cpu_began)
                if isinstance(within, float):  # the scorer's addBatch seconds
                    seconds.setdefault(f"{name} addBatch", []).append(within)
            load.append(os.getloadavg()[0])
    spark.stop()
    report(args, seconds, cpu, load)


def report(args, seconds: dict, cpu: dict, load: list[float]) -> None:
    """Print the table and write bench/results/images-SIZE.json."""
    n = args.images
    base = statistics.median(seconds[BASE]) if BASE in seconds else None
    print(
        f"{n} images {args.size}x{args.size}, median of {args.rounds} alternating rounds; "
        f"load average {[round(x, 1) for x in load]}"
    )
    print(f"{'approach':<15} {'median s':>9} {'images/s':>9} {'x pandas':>9} {'CPU ms/img':>11}")
    for name, runs in seconds.items():
        median = statistics.median(runs)
        ratio = f"{base / median:>9.2f}" if base else f"{'-':>9}"
        per_image = f"{statistics.median(cpu[name]) / n * 1000:>11.2f}" if name in cpu else ""
        print(f"{name:<15} {median:>9.2f} {n / median:>9.0f} {ratio} {per_image}")
    RESULTS.mkdir(exist_ok=True)
    document = {
        "images": n,
        "size": args.size,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "load_average": load,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus",
    }
    (RESULTS / f"images-{args.size}.json").write_text(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
