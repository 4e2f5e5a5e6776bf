"""Images within the pixel limit that are slow to decode: a 1 x 16,777,216 strip against
4096 x 4096, and a batch of strips with and without `features.max_image_side`.

`python -m bench.image_strips`: alternates the contenders over 3 rounds and prints each one's
median seconds and the machine's load average.
"""

import io
import os
import statistics
import time
from collections.abc import Callable

from PIL import Image

from stream_scorer.contract.onnx_spec import ImagePreprocessing
from stream_scorer.features.image import ImageDecoder

ROUNDS = 3
LIMIT = 16_777_216


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (9, 9, 9)).save(buffer, "PNG")
    return buffer.getvalue()


def decoding(values: list[bytes], max_side: int) -> Callable[[], int]:
    """Decode `values` as one batch; return how many were dead-lettered."""
    decoder = ImageDecoder(ImagePreprocessing(), (224, 224), LIMIT, max_side=max_side)
    return lambda: sum(error is not None for error in decoder.decode(values).errors)


def main() -> None:
    strip, square, small = png(1, LIMIT), png(4096, 4096), png(224, 224)
    batch = [strip] * 8 + [small] * 56
    contenders = {
        "one 4096x4096 image": decoding([square], 65_535),
        "one 1x16777216 strip, no side limit": decoding([strip], 10**9),
        "64 records, 8 strips, no side limit": decoding(batch, 10**9),
        "64 records, 8 strips, max_image_side 65535": decoding(batch, 65_535),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    dead: dict[str, int] = {}
    for _ in range(ROUNDS):
        for name, run in contenders.items():
            started = time.perf_counter()
            dead[name] = run()
            times[name].append(time.perf_counter() - started)
    print(f"load average {os.getloadavg()[0]:.2f}, {ROUNDS} rounds, medians:")
    for name, seconds in times.items():
        print(f"  {name}: {statistics.median(seconds):.2f} s, {dead[name]} dead-lettered")


if __name__ == "__main__":
    main()
