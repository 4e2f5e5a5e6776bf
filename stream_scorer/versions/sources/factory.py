"""The model sources a config names: the served model's, and the challenger's if any."""

from stream_scorer.config.model_settings import ModelConfig
from stream_scorer.config.model_uri import parse_model_uri, shadow_model_uri
from stream_scorer.types import FieldType
from stream_scorer.versions.sources.base import ModelSource
from stream_scorer.versions.sources.store import CURRENT, StoreSource


def open_source(
    config: ModelConfig, feature_types: dict[str, FieldType], shadow: bool = False
) -> ModelSource:
    """The source of the served model, or with `shadow` of `config.shadow` (which must be set).

    Raises
    ------
    ConfigError
        If the source cannot be opened (MLflow missing, no tracking URI).
    """
    pointer = config.shadow if shadow else None
    if config.source == "store":
        return StoreSource(str(config.store), pointer or CURRENT, config.store_options)
    from stream_scorer.versions.sources.mlflow import MlflowSource
    from stream_scorer.versions.sources.mlflow_manifest import NativeOptions

    served = parse_model_uri(str(config.uri))
    uri = shadow_model_uri(served, pointer) if pointer else served
    trusted = list(config.trusted_types)
    options = NativeOptions(config.trees, config.onnx)
    return MlflowSource(
        uri, config.tracking_uri, feature_types, trusted, config.unsafe_load, options
    )
