"""Test-side helpers for ONNX models: generated images, truncated and oversized ones, and the
reference prediction of a direct onnxruntime run on one input."""

import base64
import io
import struct
import zlib

import numpy as np
import onnxruntime
from PIL import Image

SIZE = (64, 64)
CLASSES = ["cat", "dog"]


def images(count: int, seed: int = 0, fmt: str = "PNG") -> list[bytes]:
    """`count` encoded images of assorted sizes (48-80 px) and colours, deterministic."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        height, width = rng.integers(48, 81, 2)
        base = rng.integers(0, 256, (1, 1, 3))
        noise = rng.integers(-40, 41, (height, width, 3))
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format=fmt)
        out.append(buffer.getvalue())
    return out


def truncated(image: bytes) -> bytes:
    """The first half of an encoded image."""
    return image[: len(image) // 2]


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares `width` x `height` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * (width * 3 + 1) * 4)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def reference_input(image: bytes, size: tuple[int, int] = SIZE) -> np.ndarray:
    """(1, 3, H, W) float32: RGB, bilinear resize, pixel / 255, channels first."""
    with Image.open(io.BytesIO(image)) as opened:
        rgb = opened.convert("RGB").resize((size[1], size[0]), Image.Resampling.BILINEAR)
    pixels = np.asarray(rgb, dtype=np.float32) * np.float32(1 / 255)
    return pixels.transpose(2, 0, 1)[np.newaxis]


def direct_run(graph: bytes, inputs: list[np.ndarray], name: str) -> np.ndarray:
    """Scores of each input run alone through a fresh onnxruntime session, stacked."""
    session = onnxruntime.InferenceSession(graph, providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(None, {name: x})[0] for x in inputs])


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
