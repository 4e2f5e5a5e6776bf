"""The predictor interface every model kind implements, and the loader that picks a kind.

A predictor is built once per Python worker and model version (`distribution.worker_cache`), from
the artefact bytes and the manifest, and then called once per Arrow batch. It never raises
for bad rows: each gets a reason in `Predictions.errors`.
"""

import hashlib
import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

import numpy as np
import pandas as pd

from stream_scorer.contract.manifest import Canary, Manifest
from stream_scorer.errors import ModelRejectedError

Features: TypeAlias = pd.DataFrame | np.ndarray
"""Decoded inputs of the rows to predict: feature columns, or a tensor with one row per
record along its first axis (images, raw tensors)."""


MODEL_ERROR = "model "
"""How the reason of every row a model failed starts ("model raised ValueError: ...", "model
returned a non-finite prediction ..."); a decoder's reasons never start so."""


@dataclass(frozen=True)
class Predictions:
    """Model outputs for a batch, aligned with its rows; error rows hold placeholders."""

    prediction: np.ndarray
    """Typed by the manifest's prediction_type (its `TypeSpec.dtype`)."""
    probability: np.ndarray | None
    """Binary: P(classes[1]); multiclass: P(predicted class); NaN on error rows. None for
    regressors and for classifiers without probabilities."""
    probabilities: np.ndarray | None
    """2-D float64, one column per class in `manifest.classes` order (an Arrow list<double>
    per row: cheaper than a map, whose keys would repeat on every row)."""
    errors: list[str | None]
    """Why each row has no prediction, or None."""
    model_keys: np.ndarray | None = None
    """Per-key families only: the key whose model scored each row (object, str)."""


class Predictor(ABC):
    """One loaded model version of some kind, ready to score batches.

    Built by its kind's `load(payload, manifest, trusted_types)`; thread-safe for `predict`.
    """

    routed: ClassVar[bool] = False
    """True when `predict` needs each row's routing key (`features.routing.ROUTE_KEY`)."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest

    @abstractmethod
    def predict(self, features: Features) -> Predictions:
        """Predict every row of `features`; one vectorised call for a batch without bad rows.

        Never raises for a row the model cannot score: the row gets a reason in `errors`.
        """

    @abstractmethod
    def canary(self, rows: list[dict[str, Any]]) -> Canary:
        """Predict canary `rows` (feature name -> value) as publish recorded them.

        Raises
        ------
        ModelRejectedError
            If the model cannot predict them.
        """


KINDS: dict[str, str] = {
    "sklearn": "stream_scorer.flavors.sklearn.predictor",
    "onnx": "stream_scorer.flavors.onnx.predictor",
    "family": "stream_scorer.flavors.family.predictor",
    "xgboost": "stream_scorer.flavors.xgboost.predictor",
    "lightgbm": "stream_scorer.flavors.lightgbm.predictor",
    "catboost": "stream_scorer.flavors.catboost.predictor",
}
"""Model kind (`Manifest.kind`) -> module with `load(payload, manifest, trusted_types,
unsafe_load)`, and optionally `load_file(path, manifest, trusted_types, unsafe_load)` for a
verified local file (which it may memory-map). A new kind is a new module and one entry here."""

BROADCAST_KINDS: frozenset[str] = frozenset({"family"})
"""Kinds whose artefacts always reach executors as broadcast bytes, whatever their size
(`distribution.factory`): a family's many small models are each deserialised from bytes on
first use, so there is nothing to memory-map."""


def load_predictor(
    artefact: bytes | Path,
    manifest: Manifest,
    trusted_types: Sequence[str] = (),
    unsafe_load: bool = False,
) -> Predictor:
    """Build the predictor of `manifest.kind` from verified artefact bytes or a verified file.

    A file goes to the kind's `load_file` if it has one, else its bytes to `load`.

    `trusted_types` and `unsafe_load` widen what deserialising admits (`flavors.sklearn.formats`).

    Raises
    ------
    ModelRejectedError
        If the kind is unknown or the artefact does not load as that kind.
    """
    name = KINDS.get(manifest.kind)
    if name is None:
        msg = f"model kind {manifest.kind!r} is not supported; known kinds: {sorted(KINDS)}"
        raise ModelRejectedError(msg)
    module = importlib.import_module(name)
    if isinstance(artefact, Path):
        if hasattr(module, "load_file"):
            from_file: Predictor = module.load_file(artefact, manifest, trusted_types, unsafe_load)
            return from_file
        artefact = artefact.read_bytes()
    loaded: Predictor = module.load(artefact, manifest, trusted_types, unsafe_load)
    return loaded


def new_manifest(payload: bytes, library_versions: dict[str, str], **fields: Any) -> Manifest:
    """The manifest a flavour's describe starts from at publish, for the artefact `payload`.

    Sets what every kind records alike: the sha256, the `library_versions` running here and
    the time now; `version` is empty (the store assigns one) and the canary too (the flavour
    predicts its canary rows with the loaded model next). `fields` are the kind's own.
    """
    return Manifest(
        version="",
        sha256=hashlib.sha256(payload).hexdigest(),
        library_versions=library_versions,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        canary=Canary(rows=[], predictions=[]),
        **fields,
    )
