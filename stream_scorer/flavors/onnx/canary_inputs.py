"""Synthetic canary inputs for an ONNX model, when publish is given none.

Deterministic, so a re-publish of the same graph records the same canary. Image and tensor
rows hold a record value base64-encoded under 'value' (a manifest is JSON); the predictor
decodes them as it would a Kafka record.
"""

import base64
import io

import numpy as np

from stream_scorer.contract.manifest import Manifest
from stream_scorer.flavors.sklearn.describe import synthetic_rows
from stream_scorer.types import Scalar

ROWS = 3


def synthetic_canary(manifest: Manifest) -> list[dict[str, Scalar]]:
    """Three canary rows for `manifest.onnx.input_format`: feature values (json), PNG images
    of the graph's input size (image), or float32 tensors (tensor)."""
    spec = manifest.onnx
    if spec is None or spec.input_format == "json":
        return synthetic_rows(manifest.feature_types)
    rng = np.random.default_rng(0)
    if spec.input_format == "image":
        height, width = spec.image_size
        images = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(ROWS)]
        return [{"value": _base64(_png(pixels))} for pixels in images]
    shape = tuple(spec.tensor_shape or [])
    tensors = [rng.standard_normal(shape).astype("<f4") for _ in range(ROWS)]
    return [{"value": _base64(t.tobytes())} for t in tensors]


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
