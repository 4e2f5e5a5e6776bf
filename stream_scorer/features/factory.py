"""Picks the input decoder a features config names (`features.format`)."""

from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.features.base import Decoder
from stream_scorer.features.json_parser import JsonDecoder
from stream_scorer.features.routing import RoutingDecoder


def build_decoder(features: FeaturesConfig, route_by: str | None = None) -> Decoder:
    """Return the decoder for `features.format` with the declared schema and passthrough;
    with `route_by` (a per-key family serves), it also gives each row's routing key."""
    decoder: Decoder = JsonDecoder(dict(features.feature_schema), dict(features.passthrough))
    return decoder if route_by is None else RoutingDecoder(decoder, route_by)
