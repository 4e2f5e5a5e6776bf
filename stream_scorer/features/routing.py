"""Routing keys for per-key model families: the `model.route_by` field beside the features.

`RoutingDecoder` wraps the configured decoder. It copies the route_by field (a declared
feature or passthrough field) into the features frame as column `ROUTE_KEY`, where a family
predictor reads it, and gives a row whose field is null or missing a reason, so it goes to
the dead letter. Single models never see it: the decoder is only wrapped when route_by is set.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from stream_scorer.errors import ScorerError
from stream_scorer.features.base import DecodedBatch, Decoder

ROUTE_KEY = "_route_key"
"""Column of the features frame holding each row's routing key (str or int, never null
on rows without an error)."""


class RoutingDecoder(Decoder):
    """Another decoder's output, plus each row's routing key in column `ROUTE_KEY`."""

    def __init__(self, inner: Decoder, route_by: str) -> None:
        self.inner = inner
        self.route_by = route_by

    def check(self) -> None:
        """The inner decoder's check."""
        self.inner.check()

    def decode(self, values: Sequence[bytes | None]) -> DecodedBatch:
        """Decode with the inner decoder, then attach keys; a null key is an error."""
        decoded = self.inner.decode(values)
        features = decoded.features
        if not isinstance(features, pd.DataFrame):
            msg = "model.route_by needs features decoded into columns, not a tensor"
            raise ScorerError(msg)
        source = decoded.passthrough if self.route_by in decoded.passthrough else features
        keys = source[self.route_by]
        errors = decoded.errors
        missing = np.flatnonzero(keys.isna().to_numpy())
        for i in missing:
            if errors[i] is None:
                errors[i] = f"field '{self.route_by}' (model.route_by) is null or missing"
        routed = features.assign(**{ROUTE_KEY: keys.to_numpy(dtype=object)})
        return DecodedBatch(routed, decoded.passthrough, errors)
