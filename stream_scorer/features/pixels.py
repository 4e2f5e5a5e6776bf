"""Encoded image bytes -> pixels of a fixed size, and pixels -> the graph's float input.

Only PNG and JPEG are opened. The declared size is read from the header and checked against
a pixel limit and a side limit before anything is decoded, so a decompression bomb costs a
header read, not the memory of its pixels, and a strip (1 x 16M pixels: 2.4 s to decode and
resize, against 0.4 s for 4096 x 4096) costs no more than a square image within the limits.
"""

import contextlib
import io
import warnings
from collections.abc import Iterator

import numpy as np
from PIL import Image

from stream_scorer.contract.onnx_spec import ImagePreprocessing

FORMATS = ("PNG", "JPEG")
"""Image formats Pillow may open; other decoders are never reached."""
DEFAULT_MAX_SIDE = 65_535
"""`features.max_image_side`'s default: JPEG's own largest side. Decoding costs per row as well
as per pixel: 256 x 65,535 decodes as fast as 4096 x 4096, 1 x 16,777,216 six times slower."""
SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}
"""How each format's bytes start."""
ENDINGS = {"PNG": b"IEND\xaeB`\x82", "JPEG": b"\xff\xd9"}
"""How each format's bytes end (the IEND chunk, the EOI marker): without it, they were cut."""


class ImageError(ValueError):
    """A value is not a usable image; the message is the dead-letter reason."""


def read_pixels(
    data: bytes,
    size: tuple[int, int],
    color: str,
    max_pixels: int,
    max_side: int = DEFAULT_MAX_SIDE,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Decode one PNG/JPEG and resize it (bilinear) to `size` = (height, width).

    Returns uint8 pixels of shape (height, width, channels): 3 for 'rgb', 1 for 'grayscale',
    written into `out` when given (a slot of a batch). Pillow releases the GIL while it
    decodes, converts and resizes, so threads may call this in parallel.

    Raises
    ------
    ImageError
        If the bytes are not a PNG or JPEG, declare more than `max_pixels` pixels or a side
        longer than `max_side`, or are truncated or corrupt.

    Call it within `bomb_warnings_silenced()`: Pillow's own warning for images past its
    limit would otherwise be printed before ours refuses them with a clearer reason.
    """
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as exc:  # past twice Pillow's own limit
        msg = f"image over the limit of {max_pixels} pixels (features.max_image_pixels): {exc}"
        raise ImageError(msg) from None
    except Exception as exc:  # a corrupt header may raise anything; the row gets the reason
        raise ImageError(_unreadable(data, exc)) from None
    width, height = image.size
    if width * height > max_pixels:
        msg = (
            f"image declares {width}x{height} = {width * height} pixels, over the limit of "
            f"{max_pixels} (features.max_image_pixels); not decoded"
        )
        raise ImageError(msg)
    if max(width, height) > max_side:
        msg = (
            f"image declares {width}x{height} pixels, a side over the limit of {max_side} "
            "(features.max_image_side); not decoded"
        )
        raise ImageError(msg)
    try:
        image.load()
    except Exception as exc:  # truncation is an OSError; corrupt data may raise others
        raise ImageError(f"{image.format} image cannot be decoded: {exc}") from None
    mode = "RGB" if color == "rgb" else "L"
    converted = image if image.mode == mode else image.convert(mode)
    if converted.size != (size[1], size[0]):
        converted = converted.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    pixels = np.asarray(converted, dtype=np.uint8)
    pixels = pixels if pixels.ndim == 3 else pixels[:, :, np.newaxis]
    if out is None:
        return pixels
    out[...] = pixels
    return out


@contextlib.contextmanager
def bomb_warnings_silenced() -> Iterator[None]:
    """Pillow's DecompressionBombWarning ignored: once per batch, not per image (entering
    `warnings.catch_warnings` costs 10-30 us, a tenth of a 64 x 64 JPEG's decode)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _unreadable(data: bytes, error: Exception) -> str:
    """Why Pillow could not open `data`: no PNG or JPEG at all, cut short, or corrupt."""
    name = next((n for signature, n in SIGNATURES.items() if data.startswith(signature)), None)
    if name is None:
        return "not a PNG or JPEG image"
    if not data.endswith(ENDINGS[name]):
        return f"{name} image is truncated ({len(data)} bytes), cut inside its header"
    return f"not a readable {name} image: {error}"


def to_input(
    pixels: np.ndarray, preprocessing: ImagePreprocessing, out: np.ndarray | None = None
) -> np.ndarray:
    """uint8 images (n, height, width, channels) -> float32 graph input in its layout.

    One vectorised step: the cast, the scale and the move to channels-first are one ufunc
    pass into `out` (allocated when None), then mean and std in place when they are not
    0 and 1; values equal `(pixel * scale - mean) / std` computed in float32.
    """
    nchw = preprocessing.layout == "nchw"
    source = pixels.transpose(0, 3, 1, 2) if nchw else pixels
    if out is None:
        out = np.empty(source.shape, dtype=np.float32)
    np.multiply(source, np.float32(preprocessing.scale), out=out, dtype=np.float32)
    shape = (-1, 1, 1) if nchw else (-1,)
    mean = np.asarray(preprocessing.mean, dtype=np.float32).reshape(shape)
    std = np.asarray(preprocessing.std, dtype=np.float32).reshape(shape)
    if mean.any():
        out -= mean
    if (std != 1).any():
        out /= std
    return out
