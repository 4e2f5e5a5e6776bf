"""The input-decoder interface: Kafka values in, model inputs and a reason per bad row out."""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class DecodedBatch:
    """What a decoder made of a batch of values; every field aligned with the input."""

    features: pd.DataFrame | np.ndarray
    """Model inputs: feature columns in schema order, or a tensor with one record per index
    of its first axis; placeholder values on rows with an error."""
    passthrough: pd.DataFrame
    """Passthrough columns (nullable); missing or null fields are null."""
    errors: list[str | None]
    """Why each row cannot be scored, or None."""


class Decoder(ABC):
    """Turns Kafka record values into model inputs; one instance per UDF, called per batch."""

    @abstractmethod
    def decode(self, values: Sequence[bytes | None]) -> DecodedBatch:
        """Decode every value; never raises for a bad record (its reason goes in `errors`)."""

    def check(self) -> None:
        """Raise ConfigError if no value could ever be decoded as configured; called at start."""
        return None
