"""Publish an `.onnx` file to a model store: describe it against the config, then store it."""

from pathlib import Path

from stream_scorer.config.model_settings import OnnxModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.contract.manifest import Manifest
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.onnx.describe import describe_onnx
from stream_scorer.types import Scalar
from stream_scorer.versions.store import ModelStore, read_model_file


def publish_onnx(
    store: ModelStore,
    model_path: str | Path,
    features: FeaturesConfig,
    options: OnnxModelConfig,
    canary_rows: list[dict[str, Scalar]] | None = None,
    advance: bool = True,
    force: bool = False,
) -> Manifest:
    """Store the graph at `model_path` as a new version of `store` and advance CURRENT to it
    (see `ModelStore.add`; `advance=False` leaves CURRENT to the caller, `force` stores an
    artefact the store already holds).

    Raises
    ------
    ModelStoreError
        If the file or the store cannot be read or written, or (DuplicateModelError) the
        store already holds the graph and `force` is False.
    ModelRejectedError
        If the graph does not load, does not fit `features`, or fails its canary
        (`describe_onnx`); the message reads "<file> refused: <reason>".
    """
    payload = read_model_file(model_path)
    try:
        described = describe_onnx(payload, features, options, canary_rows)
    except ModelRejectedError as exc:
        msg = f"{model_path} refused: {exc}"
        raise ModelRejectedError(msg) from exc
    return store.add(described, payload, advance, force)
