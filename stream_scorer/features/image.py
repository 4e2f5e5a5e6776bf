"""Encoded images (PNG, JPEG) -> one float32 batch for the graph, with a reason per bad row.

A value is the image itself, or a JSON object whose `image_field` holds it base64-encoded
(its passthrough fields are read from the same object). Each image is decoded with Pillow
and resized to the graph's input size into a uint8 slot of a chunk of `CHUNK_ROWS` rows (in
a small thread pool with `threads` > 1: Pillow releases the GIL while it decodes), then the
chunk is preprocessed as the model's manifest says in one vectorised step into the batch's
float input, so the chunk's pixels are still in the cache when they are normalised.
"""

import base64
import binascii
import functools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import numpy as np
import pandas as pd

from stream_scorer.contract.onnx_spec import ImagePreprocessing
from stream_scorer.features.base import DecodedBatch, Decoder
from stream_scorer.features.json_parser import parse_json
from stream_scorer.features.pixels import (
    DEFAULT_MAX_SIDE,
    ImageError,
    bomb_warnings_silenced,
    read_pixels,
    to_input,
)
from stream_scorer.types import FieldType

CHUNK_ROWS = 16
"""Rows decoded before their chunk is normalised: 16 RGB images of 224 x 224 are 2.4 MB of
pixels and 9.6 MB of input, within the last-level cache (bench/README.md, Images)."""


class ImageDecoder(Decoder):
    """Images -> float32 (n, C, H, W) or (n, H, W, C) as `preprocessing.layout` says.

    Parameters
    ----------
    preprocessing
        Color, scale, mean, std and layout, from the model's manifest.
    size
        (height, width) of the graph input.
    max_pixels
        Images declaring more pixels are refused before decoding.
    max_side
        Images declaring a longer side are refused before decoding.
    threads
        Decoding threads of this process (1: none), `features.image_decode_threads`.
    image_field
        JSON field holding the base64 image; None when the value is the image.
    passthrough
        Fields copied from the JSON object (only with `image_field`).
    """

    def __init__(
        self,
        preprocessing: ImagePreprocessing,
        size: tuple[int, int],
        max_pixels: int,
        image_field: str | None = None,
        passthrough: dict[str, FieldType] | None = None,
        max_side: int = DEFAULT_MAX_SIDE,
        threads: int = 1,
    ) -> None:
        self.preprocessing = preprocessing
        self.size = size
        self.max_pixels = max_pixels
        self.max_side = max_side
        self.image_field = image_field
        self.passthrough = passthrough or {}
        self.threads = max(threads, 1)

    def decode(self, values: Sequence[bytes | None]) -> DecodedBatch:
        """Decode every value; never raises for a bad record (its reason goes in `errors`)."""
        values = values.tolist() if isinstance(values, pd.Series) else list(values)
        n = len(values)
        if self.image_field is None:
            images, errors = values, [None if v else _missing(v) for v in values]
            passthrough = pd.DataFrame(index=pd.RangeIndex(n))
        else:
            images, passthrough, errors = self._unwrap(values)
        height, width = self.size
        prep = self.preprocessing
        shape = (height, width, prep.channels)
        chunk = np.zeros((min(n, CHUNK_ROWS), *shape), dtype=np.uint8)
        out_shape = (n, prep.channels, height, width) if prep.layout == "nchw" else (n, *shape)
        features = np.empty(out_shape, dtype=np.float32)
        with bomb_warnings_silenced():
            for start in range(0, n, CHUNK_ROWS):
                rows = range(start, min(start + CHUNK_ROWS, n))
                todo = [i for i in rows if errors[i] is None]
                for i, error in zip(todo, self._read(images, todo, chunk, start), strict=True):
                    errors[i] = error
                for i in rows:
                    if errors[i] is not None:
                        chunk[i - start] = 0  # a bad row's input: preprocessed zeros
                to_input(chunk[: len(rows)], prep, out=features[start : rows.stop])
        return DecodedBatch(features, passthrough, errors)

    def _read(
        self, images: Sequence[bytes | None], rows: list[int], chunk: np.ndarray, start: int
    ) -> list[str | None]:
        """Decode `rows` of `images` into their slots of `chunk`; a reason per failed row."""

        def read(i: int) -> str | None:
            try:
                read_pixels(
                    cast(bytes, images[i]),  # rows with an error are not read
                    self.size,
                    self.preprocessing.color,
                    self.max_pixels,
                    self.max_side,
                    out=chunk[i - start],
                )
            except ImageError as exc:
                return str(exc)
            return None

        if self.threads == 1 or len(rows) < 2:
            return [read(i) for i in rows]
        return list(_pool(self.threads).map(read, rows))

    def _unwrap(
        self, values: list[bytes | None]
    ) -> tuple[list[bytes], pd.DataFrame, list[str | None]]:
        """(image bytes, passthrough, errors) of JSON objects holding a base64 image."""
        field = str(self.image_field)
        parsed = parse_json(values, {field: "string"}, self.passthrough)
        errors = list(parsed.errors)
        images = []
        for i, text in enumerate(parsed.features[field]):
            try:
                images.append(base64.b64decode(text, validate=True) if errors[i] is None else b"")
            except (binascii.Error, ValueError):
                images.append(b"")
                errors[i] = f"field '{field}' is not valid base64"
        return images, parsed.passthrough, errors


@functools.cache
def _pool(threads: int) -> ThreadPoolExecutor:
    """This process's decoding threads, started on first use and kept for its life."""
    return ThreadPoolExecutor(threads, thread_name_prefix="image-decode")


def _missing(value: bytes | None) -> str:
    return "value is null (tombstone)" if value is None else "value is empty"
