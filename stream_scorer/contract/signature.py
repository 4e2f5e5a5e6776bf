"""One line naming what kind of input a config declares or a model takes, to compare them."""

from collections.abc import Sequence


def input_signature(fmt: str, tensor_shape: Sequence[int] | None = None) -> str:
    """'json' (also for avro: the same named, typed columns), 'image', or
    'tensor float32[3, 8]' for a tensor of shape (3, 8)."""
    if fmt == "avro":
        return "json"
    if fmt == "tensor":
        return f"tensor float32{list(tensor_shape or [])}"
    return fmt
