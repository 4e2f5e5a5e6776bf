"""Encoded images (PNG, JPEG) -> one float32 batch for the graph, with a reason per bad row.

A value is the image itself, or a JSON object whose `image_field` holds it base64-encoded
(its passthrough fields are read from the same object). Each image is decoded with Pillow,
resized to the graph's input size and preprocessed as the model's manifest says; the whole
Arrow batch becomes one array, so the predictor runs the graph once per batch.
"""

import base64
import binascii
from collections.abc import Sequence

import numpy as np
import pandas as pd

from stream_scorer.contract.onnx_spec import ImagePreprocessing
from stream_scorer.features.base import DecodedBatch, Decoder
from stream_scorer.features.json_parser import parse_json
from stream_scorer.features.pixels import DEFAULT_MAX_SIDE, ImageError, read_pixels, to_input
from stream_scorer.types import FieldType


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
    ) -> None:
        self.preprocessing = preprocessing
        self.size = size
        self.max_pixels = max_pixels
        self.max_side = max_side
        self.image_field = image_field
        self.passthrough = passthrough or {}

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
        pixels = np.zeros((n, height, width, self.preprocessing.channels), dtype=np.uint8)
        for i, data in enumerate(images):
            if errors[i] is None:
                try:
                    pixels[i] = read_pixels(
                        data, self.size, self.preprocessing.color, self.max_pixels, self.max_side
                    )
                except ImageError as exc:
                    errors[i] = str(exc)
        return DecodedBatch(to_input(pixels, self.preprocessing), passthrough, errors)

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


def _missing(value: bytes | None) -> str:
    return "value is null (tombstone)" if value is None else "value is empty"
