"""The seed 003 approaches of `bench.images`, as functions Spark workers import (a closure
over a `__main__` module would pickle its session cache)."""

import io

import numpy as np
import pandas as pd
from PIL import Image
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.functions import PandasUDFType

SEED_BATCH_SIZE = 2
"""The seed predicts with `model.predict(images, batch_size=2)`."""
CLASSES = ("Cat", "Dog")
_sessions: dict[int, object] = {}


def make_images(count: int, size: int = 64, seed: int = 3) -> list[bytes]:
    """`count` `size` x `size` JPEGs (quality 90) of assorted colours, deterministic."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        base = rng.integers(0, 256, (1, 1, 3))
        pixels = np.clip(base + rng.integers(-40, 41, (size, size, 3)), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def preprocess(image: bytes, size: int) -> np.ndarray:
    """(3, size, size) float32 in [0, 1], as the seed's `preprocess_image` (decode, resize,
    / 255)."""
    with Image.open(io.BytesIO(image)) as opened:
        rgb = opened.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    return (np.asarray(rgb, dtype=np.float32) / 255.0).transpose(2, 0, 1)


def session(graph: bytes):
    """One onnxruntime session per process and graph, on one intra-op thread."""
    import onnxruntime

    key = hash(graph)
    if key not in _sessions:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        _sessions[key] = onnxruntime.InferenceSession(graph, options)
    return _sessions[key]


def predict(graph: bytes, batch: np.ndarray, batch_size: int) -> np.ndarray:
    """P(Dog) of every image, run `batch_size` images at a time."""
    run = session(graph).run
    logits = np.concatenate(
        [
            run(None, {"image": batch[i : i + batch_size]})[0]
            for i in range(0, len(batch), batch_size)
        ]
    )
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp[:, 1] / exp.sum(axis=1)


def labelled(scores: np.ndarray) -> list[tuple[str, float]]:
    return [(CLASSES[int(s >= 0.5)], float(s)) for s in scores]


def row_udf(df: DataFrame, graph: bytes, size: int) -> DataFrame:
    """The seed's row UDF: one image per call, 'Cat,<score>' or 'Dog, <score>'."""
    handle = df.sparkSession.sparkContext.broadcast(graph)

    @F.udf(T.StringType())
    def predict_one(image: bytes) -> str:
        ((label, score),) = labelled(predict(handle.value, preprocess(image, size)[np.newaxis], 1))
        return f"{label},{score}" if label == "Cat" else f"{label}, {score}"

    return df.withColumn("v2", predict_one("image"))


def pandas_udf(df: DataFrame, graph: bytes, size: int) -> DataFrame:
    """The seed's scalar pandas UDF returning `class string, score float` per Arrow batch."""
    handle = df.sparkSession.sparkContext.broadcast(graph)

    @F.pandas_udf("class string, score float", PandasUDFType.SCALAR)
    def predict_batch(image_batch: pd.Series) -> pd.DataFrame:
        processed = np.array([preprocess(img, size) for img in image_batch])
        scores = predict(handle.value, processed, SEED_BATCH_SIZE)
        return pd.DataFrame(labelled(scores), columns=["class", "score"])

    return df.withColumn("prediction", predict_batch("image"))


def plain_python(images: list[bytes], graph: bytes, size: int) -> list[tuple[str, float]]:
    """The seed's `process_batch_python`: preprocess all, predict with batch_size 2."""
    _sessions.clear()  # the seed loads the model inside the timed function
    processed = np.array([preprocess(image, size) for image in images])
    return labelled(predict(graph, processed, SEED_BATCH_SIZE))
