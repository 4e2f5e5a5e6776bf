"""Seed 003's comparison on images, redone with one small CNN in ONNX Runtime: images/s of a
row UDF, the seed's pandas UDF, plain Python, and stream-scorer end to end from Kafka.

Data: `--images` (3,000) generated 64x64 JPEGs (fixed seed, assorted colours), classified by
`devtools.onnx_models.small_cnn` (2 convolutions, 2 classes, seeded weights; no download).
Every approach decodes the JPEG bytes with Pillow, converts to RGB, scales to [0, 1], feeds
NCHW float32 to one onnxruntime session per Python process on one intra-op thread, and
returns a class and a score.

- `row_udf` (seed's `predict` UDF): one image per call, the session built once per worker
  from a broadcast of the graph bytes (the seed broadcasts Keras weights into a model its
  closure holds; an InferenceSession cannot be pickled, so it is built on first use).
- `pandas_udf` (seed's `keras_model_udf`): a scalar pandas UDF returning `class, score`; each
  Arrow batch preprocessed image by image, then predicted with `batch_size=2` as the seed does.
- `python` (seed's `process_batch_python`): one process, load, preprocess all, predict with
  `batch_size=2`.
- `stream_scorer`: the images pre-loaded into a 2-partition topic of a fresh embedded broker,
  the graph published with `model publish` semantics, then `Scorer(config, once=True).run()`
  writing Parquet; one untimed warm-up run first.
Spark approaches run in one `local[2]` session over the same cached DataFrame (2 partitions)
into the noop sink. Run: `.venv/bin/python -m bench.images [--images 3000] [--repeats 3]`.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pyspark.sql import SparkSession

from bench.image_baselines import SIZE, make_images, pandas_udf, plain_python, row_udf
from bench.image_stream import stage, stream_scorer_seconds

RESULTS = Path(__file__).parent / "results" / "images.json"


def timed(run: Callable[[], object], repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - began)
    return seconds


def spark_runs(images: list[bytes], graph: bytes, repeats: int) -> Iterator[tuple[str, list]]:
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("bench-images")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
    rows = [(i, image) for i, image in enumerate(images)]
    df = spark.createDataFrame(rows, "id long, image binary").repartition(2).cache()
    df.count()
    for name, approach in (("row_udf", row_udf), ("pandas_udf", pandas_udf), ("stage", stage)):
        write = lambda a=approach: a(df, graph).write.format("noop").mode("overwrite").save()  # noqa: E731
        write()  # warm-up: Python workers start, sessions built
        yield name, timed(write, repeats)
    df.unpersist()
    yield "stream_scorer", stream_scorer_seconds(spark, images, graph, repeats)
    spark.stop()


def main() -> None:
    from stream_scorer.devtools.onnx_models import small_cnn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    images, graph = make_images(args.images), small_cnn((SIZE, SIZE), classes=2, seed=1)
    load = [os.getloadavg()[0]]
    seconds = {"python": timed(lambda: plain_python(images, graph), args.repeats)}
    for name, runs in spark_runs(images, graph, args.repeats):
        seconds[name] = runs
        load.append(os.getloadavg()[0])
    base = statistics.median(seconds["row_udf"])
    print(f"{args.images} images 64x64, median of {args.repeats}; load average {load}")
    print(f"{'approach':<15} {'median s':>9} {'images/s':>9} {'x row UDF':>10}")
    for name, runs in seconds.items():
        median = statistics.median(runs)
        print(f"{name:<15} {median:>9.2f} {args.images / median:>9.0f} {base / median:>10.2f}")
    RESULTS.parent.mkdir(exist_ok=True)
    document = {
        "images": args.images,
        "seconds": seconds,
        "load_average": load,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus",
    }
    RESULTS.write_text(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
