"""Raw little-endian float32 values of a declared shape -> one batch array, a reason per bad row."""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from stream_scorer.features.base import DecodedBatch, Decoder

_FLOAT32 = np.dtype("<f4")


class TensorDecoder(Decoder):
    """Each value is one record's tensor of `shape`, float32 little-endian, C order.

    A value of the wrong length, or holding NaN or infinity, gets a reason; the batch is one
    (n, *shape) float32 array with zeros on those rows.
    """

    def __init__(self, shape: Sequence[int]) -> None:
        self.shape = tuple(shape)
        self.nbytes = int(np.prod(self.shape)) * _FLOAT32.itemsize

    def decode(self, values: Sequence[bytes | None]) -> DecodedBatch:
        """Decode every value; never raises for a bad record (its reason goes in `errors`)."""
        values = values.tolist() if isinstance(values, pd.Series) else list(values)
        n = len(values)
        errors: list[str | None] = [self._check(v) for v in values]
        good = [v if e is None else bytes(self.nbytes) for v, e in zip(values, errors, strict=True)]
        flat = np.frombuffer(b"".join(good), dtype=_FLOAT32).astype(np.float32)
        tensors = flat.reshape((n, *self.shape))
        finite = np.isfinite(tensors.reshape(n, -1)).all(axis=1)
        for i in np.flatnonzero(~finite):
            errors[i] = "tensor holds NaN or infinite values"
            tensors[i] = 0.0
        return DecodedBatch(tensors, pd.DataFrame(index=pd.RangeIndex(n)), errors)

    def _check(self, value: bytes | None) -> str | None:
        if value is None:
            return "value is null (tombstone)"
        if len(value) != self.nbytes:
            return (
                f"tensor value has {len(value)} bytes, expected {self.nbytes} "
                f"(float32 of shape {list(self.shape)})"
            )
        return None
