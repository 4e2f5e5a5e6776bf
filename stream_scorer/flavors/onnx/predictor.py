"""ONNX graphs (neural networks, converted models) served by ONNX Runtime.

Each Python worker builds one InferenceSession per model version (`distribution.worker_cache`), with
the manifest's intra-op thread count (1 by default: Spark already runs one task per core), and
runs the graph on the decoded inputs of an Arrow batch in runs of at most `RUN_BYTES` of
input, so each run's activations stay in the cache.
"""

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import pandas as pd

from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.contract.manifest import Canary, Manifest
from stream_scorer.contract.onnx_spec import OnnxSpec
from stream_scorer.errors import ModelRejectedError
from stream_scorer.features.factory import build_decoder
from stream_scorer.flavors.base import Features, Predictions, Predictor
from stream_scorer.flavors.onnx.scores import failed, to_predictions

RUN_BYTES = 512 * 1024
"""Input bytes per `session.run`: 10 RGB images of 64 x 64 (0.145 ms an image at 8 a run
against 0.198 at 2 and 0.177 at 128 for `small_cnn`), one of 224 x 224 (`resnet_cnn`: flat
from 1 to 64 a run), a whole Arrow batch of tabular rows (bench/README.md, Images)."""


class OnnxPredictor(Predictor):
    """An ONNX Runtime session fed with the manifest's graph input, read at its score output."""

    def __init__(self, session: Any, manifest: Manifest) -> None:
        super().__init__(manifest)
        self.session = session
        self.spec: OnnxSpec = _spec(manifest)
        self._dtype = np.dtype(self.spec.input.element_type)

    def predict(self, features: Features) -> Predictions:
        """Run the graph once on every row; if it raises, every row gets the reason."""
        if isinstance(features, pd.DataFrame):
            inputs = features[self.manifest.feature_names].to_numpy(dtype=self._dtype)
        else:
            inputs = np.asarray(features).astype(self._dtype, copy=False)
        n = len(inputs)
        if n == 0:
            return to_predictions(np.zeros((0, 1)), self.manifest)
        try:
            scores = self._run(inputs)
            if len(scores) != n:
                msg = f"graph returned {len(scores)} outputs for {n} rows"
                raise ValueError(msg)
        except Exception as exc:  # ONNX Runtime raises its own types; rows get the reason
            return failed(n, f"model raised {type(exc).__name__}: {exc}", self.manifest)
        return to_predictions(scores, self.manifest)

    def _run(self, inputs: np.ndarray) -> np.ndarray:
        """The score output of `inputs`, run `RUN_BYTES` of input at a time."""
        step = max(1, RUN_BYTES // max(1, inputs[:1].nbytes))
        output, name = [self.spec.score_output], self.spec.input.name
        runs = [
            self.session.run(output, {name: inputs[i : i + step]})[0]
            for i in range(0, len(inputs), step)
        ]
        return runs[0] if len(runs) == 1 else np.concatenate(runs)

    def canary(self, rows: list[dict[str, Any]]) -> Canary:
        """Predict canary rows: feature values (format json) or {'value': base64 of a
        Kafka value} (image, tensor), decoded as a record would be."""
        m, spec = self.manifest, self.spec
        if not rows:
            raise ModelRejectedError("canary rows must be non-empty")
        try:
            values = [_canary_value(row, spec, m.feature_names) for row in rows]
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"canary rows must hold {_canary_form(spec)}: {exc!r}"
            raise ModelRejectedError(msg) from exc
        features = FeaturesConfig.model_validate(
            {
                "format": spec.input_format,
                "schema": m.feature_types,
                "tensor_shape": spec.tensor_shape,
            }
        )
        decoded = build_decoder(features, m).decode(values)
        predicted = self.predict(decoded.features)
        problems = [
            f"row {i}: {a or b}"
            for i, (a, b) in enumerate(zip(decoded.errors, predicted.errors, strict=True))
            if a or b
        ]
        if problems:
            raise ModelRejectedError(f"the canary rows failed: {'; '.join(problems)}")
        proba = predicted.probabilities
        kept = [dict(row) for row in rows]
        return Canary(
            kept, predicted.prediction.tolist(), None if proba is None else proba.tolist()
        )


def load(
    payload: bytes,
    manifest: Manifest,
    trusted_types: Sequence[str] = (),
    unsafe_load: bool = False,
) -> OnnxPredictor:
    """Start an ONNX Runtime session on the artefact bytes (a graph runs no Python: the
    pickle trust settings do not apply).

    Raises
    ------
    ModelRejectedError
        If onnxruntime is missing or the bytes are not a graph it can run.
    """
    return OnnxPredictor(new_session(payload, _spec(manifest).intra_op_threads), manifest)


def new_session(payload: bytes, intra_op_threads: int) -> Any:
    """An onnxruntime InferenceSession on the CPU with `intra_op_threads` threads."""
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - depends on the install
        msg = "model format onnx needs onnxruntime: pip install 'stream-scorer[onnx]'"
        raise ModelRejectedError(msg) from exc
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    try:
        return onnxruntime.InferenceSession(payload, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # InvalidGraph, InvalidProtobuf, NotImplemented...
        msg = f"onnxruntime cannot load the graph: {exc}"
        raise ModelRejectedError(msg) from exc


def _spec(manifest: Manifest) -> OnnxSpec:
    if manifest.onnx is None:
        msg = f"model {manifest.version or '(unpublished)'} of kind onnx has no onnx section"
        raise ModelRejectedError(msg)
    return manifest.onnx


def _canary_value(row: dict[str, Any], spec: OnnxSpec, names: list[str]) -> bytes:
    if spec.input_format == "json":
        return orjson.dumps({name: row[name] for name in names})
    return base64.b64decode(row["value"], validate=True)


def _canary_form(spec: OnnxSpec) -> str:
    if spec.input_format == "json":
        return "every feature"
    return "'value': the base64 of a record value"
