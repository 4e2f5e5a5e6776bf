"""Where an image's time goes, in one process without Spark: CPU ms per image of each phase of
the seed's pandas UDF body (`bench.image_baselines`) and of stream-scorer's (`scoring.udf`'s
`_score_batch`: the image decoder, the ONNX predictor, the output frame), then Arrow.

Phases of the seed, each over the whole batch: Arrow to pandas (the UDF's input), Pillow's
open (header), load (decode), convert to RGB, resize, the per-image float/255 and transpose,
the stack, `session.run` with the seed's batch of 2, the labelled frame, pandas to Arrow.
Phases of stream-scorer: the decoder (open, decode, resize and normalise per 16-row chunk),
the predictor (`session.run` per 512 KiB of input), the rest of `_score_batch` (the output
frame), pandas to Arrow; with `--threads 2` the decoder again on 2 threads (wall and CPU).
Medians of `--rounds`; CPU time (`time.process_time`), which the machine's other load
inflates less than wall time. `--cprofile` prints `_score_batch`'s top functions.

Run: `.venv/bin/python -m bench.image_profile [--size 224] [--images 1500]`.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
from PIL import Image

from bench.image_baselines import SEED_BATCH_SIZE, labelled, make_images, predict
from bench.image_stream import OPTIONS
from bench.images import graph_for
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.features.factory import build_decoder
from stream_scorer.flavors.onnx.describe import describe_onnx
from stream_scorer.flavors.onnx.predictor import load
from stream_scorer.scoring.udf import _score_batch


def seed_phases(values: pa.Array, graph: bytes, size: int) -> dict[str, float]:
    """CPU seconds of each phase of the seed's pandas UDF over `values`."""
    t: dict[str, float] = {}
    series = _timed(t, "arrow to pandas", values.to_pandas)
    opened = _timed(t, "open (header)", lambda: [Image.open(io.BytesIO(v)) for v in series])
    _timed(t, "load (decode)", lambda: [image.load() for image in opened])
    rgb = _timed(t, "convert RGB", lambda: [image.convert("RGB") for image in opened])
    resize = Image.Resampling.BILINEAR
    resized = _timed(t, "resize", lambda: [image.resize((size, size), resize) for image in rgb])
    floats = _timed(t, "float /255, transpose", lambda: [_seed_float(i) for i in resized])
    batch = _timed(t, "stack", lambda: np.array(floats))
    scores = _timed(t, "session.run", lambda: predict(graph, batch, SEED_BATCH_SIZE))
    frame = _timed(
        t, "output frame", lambda: pd.DataFrame(labelled(scores), columns=["class", "score"])
    )
    _timed(t, "pandas to Arrow", lambda: pa.RecordBatch.from_pandas(frame))
    return t


def our_phases(values: pa.Array, graph: bytes, threads: int) -> dict[str, float]:
    """CPU seconds of stream-scorer's phases over `values` (and wall, with threads)."""
    features = FeaturesConfig(format="image")
    manifest = describe_onnx(graph, features, OPTIONS)
    predictor, decoder = load(graph, manifest), build_decoder(features, manifest)
    t: dict[str, float] = {}
    series = _timed(t, "arrow to pandas", values.to_pandas)
    decoded = _timed(t, "decode, resize, normalise", lambda: decoder.decode(series))
    _timed(t, "session.run", lambda: predictor.predict(decoded.features))
    frame = _score_batch(predictor, decoder, series)
    began = time.process_time()
    _score_batch(predictor, decoder, series)
    t["output frame"] = time.process_time() - began - t["decode, resize, normalise"]
    t["output frame"] -= t["session.run"]
    _timed(t, "pandas to Arrow", lambda: pa.RecordBatch.from_pandas(frame))
    if threads > 1:
        decoder.threads = threads
        wall = time.perf_counter()
        _timed(t, f"decode on {threads} threads (CPU)", lambda: decoder.decode(series))
        t[f"decode on {threads} threads (wall)"] = time.perf_counter() - wall
    return t


def _seed_float(image: Image.Image) -> np.ndarray:
    return (np.asarray(image, dtype=np.float32) / 255.0).transpose(2, 0, 1)


def _timed(phases: dict[str, float], name: str, step: Callable[[], object]):
    began = time.process_time()
    result = step()
    phases[name] = time.process_time() - began
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--images", type=int, default=1500, help="one Arrow batch of them")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    values = pa.array(make_images(args.images, args.size), pa.binary())
    graph = graph_for(args.size)
    seed_phases(values, graph, args.size), our_phases(values, graph, 1)  # warm-up
    rounds = [
        (seed_phases(values, graph, args.size), our_phases(values, graph, args.threads))
        for _ in range(args.rounds)
    ]
    print(
        f"{args.images} images {args.size}x{args.size}, CPU ms per image, median of "
        f"{args.rounds}; load average {os.getloadavg()[0]:.1f}"
    )
    for k, title in enumerate(("seed pandas UDF", "stream-scorer")):
        print(title)
        for name in rounds[0][k]:
            ms = statistics.median(r[k][name] for r in rounds) / args.images * 1000
            print(f"  {name:<32} {ms:8.3f}")
        totals = [sum(v for n, v in r[k].items() if "threads" not in n) for r in rounds]
        total = statistics.median(totals)
        print(f"  {'total':<32} {total / args.images * 1000:8.3f}")
    if args.cprofile:
        features = FeaturesConfig(format="image")
        manifest = describe_onnx(graph, features, OPTIONS)
        predictor, decoder = load(graph, manifest), build_decoder(features, manifest)
        series = values.to_pandas()
        profile = cProfile.Profile()
        profile.runcall(_score_batch, predictor, decoder, series)
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
