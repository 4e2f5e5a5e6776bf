"""Picks the input decoder a features config names (`features.format`).

Formats other than JSON take what they cannot know from the config (the graph's input size,
the preprocessing) from the serving model's manifest, so a new version brings its own.
"""

from collections.abc import Callable
from importlib.util import find_spec

from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.contract.manifest import Manifest
from stream_scorer.errors import ConfigError, MissingExtraError
from stream_scorer.features.base import Decoder
from stream_scorer.features.json_parser import JsonDecoder
from stream_scorer.features.routing import RoutingDecoder


def _json(features: FeaturesConfig, manifest: Manifest | None) -> Decoder:
    required = features.missing_passthrough == "dead_letter"
    nullable = frozenset(features.nullable)
    return JsonDecoder(
        dict(features.feature_schema), dict(features.passthrough), required, nullable
    )


def require_avro(needed_by: str) -> None:
    """Check that the `avro` extra (fastavro; confluent-kafka's Schema Registry client needs
    authlib and attrs) is installed before `needed_by` needs it.

    Raises
    ------
    MissingExtraError
        Naming what is missing and the extra that installs it.
    """
    missing = [module for module in ("fastavro", "authlib", "attrs") if find_spec(module) is None]
    if missing:
        msg = (
            f"{needed_by} needs {', '.join(missing)}, which come with the avro extra: "
            "pip install 'stream-scorer[avro]'"
        )
        raise MissingExtraError(msg)


def _avro(features: FeaturesConfig, manifest: Manifest | None) -> Decoder:
    require_avro("features.format avro")
    from stream_scorer.features.avro import AvroDecoder
    from stream_scorer.features.avro_writers import FixedWriter, RegistryWriters, WriterSchemas

    writers: WriterSchemas
    if features.schema_registry is not None:
        writers = RegistryWriters(features.schema_registry)
    else:
        writers = FixedWriter(features.writer_schema or {})
    return AvroDecoder(
        writers,
        dict(features.feature_schema),
        dict(features.passthrough),
        features.nullable,
        features.missing_passthrough == "dead_letter",
    )


def _image(features: FeaturesConfig, manifest: Manifest | None) -> Decoder:
    from stream_scorer.features.image import ImageDecoder

    spec = manifest.onnx if manifest is not None else None
    if spec is None or spec.preprocessing is None:
        msg = "features.format image needs an ONNX model published for image input"
        raise ConfigError(msg)
    return ImageDecoder(
        spec.preprocessing,
        spec.image_size,
        features.max_image_pixels,
        features.image_field,
        dict(features.passthrough),
        features.max_image_side,
        features.image_decode_threads,
    )


def _tensor(features: FeaturesConfig, manifest: Manifest | None) -> Decoder:
    from stream_scorer.features.tensor import TensorDecoder

    return TensorDecoder(features.tensor_shape or [])


DECODERS: dict[str, Callable[[FeaturesConfig, Manifest | None], Decoder]] = {
    "json": _json,
    "avro": _avro,
    "image": _image,
    "tensor": _tensor,
}
"""`features.format` -> builder of its decoder; a new format is a module and one entry here."""


def build_decoder(
    features: FeaturesConfig, manifest: Manifest | None = None, route_by: str | None = None
) -> Decoder:
    """Return the decoder for `features.format`, fitted to the serving model's `manifest`;
    with `route_by` (a per-key family serves), it also gives each row's routing key.

    Raises
    ------
    ConfigError
        If the format needs a manifest section the model lacks (verification refuses such
        a model before it serves).
    """
    decoder = DECODERS[features.format](features, manifest)
    return decoder if route_by is None else RoutingDecoder(decoder, route_by)
