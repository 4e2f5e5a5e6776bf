"""Picks the input decoder a features config names (`features.format`)."""

from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.features.base import Decoder
from stream_scorer.features.json_parser import JsonDecoder


def build_decoder(features: FeaturesConfig) -> Decoder:
    """Return the decoder for `features.format` with the declared schema and passthrough."""
    return JsonDecoder(dict(features.feature_schema), dict(features.passthrough))
