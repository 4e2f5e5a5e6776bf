"""Encoded image bytes -> pixels of a fixed size, and pixels -> the graph's float input.

Only PNG and JPEG are opened. The declared size is read from the header and checked against
a pixel limit before anything is decoded, so a decompression bomb costs a header read, not
the memory of its pixels.
"""

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from stream_scorer.contract.onnx_spec import ImagePreprocessing

FORMATS = ("PNG", "JPEG")
"""Image formats Pillow may open; other decoders are never reached."""


class ImageError(ValueError):
    """A value is not a usable image; the message is the dead-letter reason."""


def read_pixels(data: bytes, size: tuple[int, int], color: str, max_pixels: int) -> np.ndarray:
    """Decode one PNG/JPEG and resize it (bilinear) to `size` = (height, width).

    Returns uint8 pixels of shape (height, width, channels): 3 for 'rgb', 1 for 'grayscale'.

    Raises
    ------
    ImageError
        If the bytes are not a PNG or JPEG, declare more than `max_pixels` pixels, or are
        truncated or corrupt.
    """
    try:
        with warnings.catch_warnings():  # our limit is checked below, with a clearer reason
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as exc:  # past twice Pillow's own limit
        msg = f"image over the limit of {max_pixels} pixels (features.max_image_pixels): {exc}"
        raise ImageError(msg) from None
    except UnidentifiedImageError:
        raise ImageError("not a PNG or JPEG image") from None
    except Exception as exc:  # a corrupt header may raise anything; the row gets the reason
        raise ImageError(f"not a readable PNG or JPEG image: {exc}") from None
    width, height = image.size
    if width * height > max_pixels:
        msg = (
            f"image declares {width}x{height} = {width * height} pixels, over the limit of "
            f"{max_pixels} (features.max_image_pixels); not decoded"
        )
        raise ImageError(msg)
    try:
        image.load()
    except Exception as exc:  # truncation is an OSError; corrupt data may raise others
        raise ImageError(f"{image.format} image cannot be decoded: {exc}") from None
    converted = image.convert("RGB" if color == "rgb" else "L")
    if converted.size != (size[1], size[0]):
        converted = converted.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    pixels = np.asarray(converted, dtype=np.uint8)
    return pixels if pixels.ndim == 3 else pixels[:, :, np.newaxis]


def to_input(pixels: np.ndarray, preprocessing: ImagePreprocessing) -> np.ndarray:
    """uint8 images (n, height, width, channels) -> float32 graph input in its layout."""
    scaled = pixels.astype(np.float32) * np.float32(preprocessing.scale)
    scaled -= np.asarray(preprocessing.mean, dtype=np.float32)
    scaled /= np.asarray(preprocessing.std, dtype=np.float32)
    if preprocessing.layout == "nchw":
        return np.ascontiguousarray(scaled.transpose(0, 3, 1, 2))
    return scaled
