"""Describe an ONNX graph as a `Manifest` at publish time: its inputs and outputs as the graph
declares them, checked against the config's features; task, classes, score meaning,
preprocessing; canary inputs run through onnxruntime."""

import dataclasses
import platform
from importlib.metadata import version

import numpy as np

from stream_scorer.config.model_settings import OnnxModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.contract.manifest import Manifest, Task
from stream_scorer.contract.onnx_spec import ImagePreprocessing, OnnxSpec, TensorSpec
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.base import new_manifest
from stream_scorer.flavors.onnx.canary_inputs import synthetic_canary
from stream_scorer.flavors.onnx.predictor import OnnxPredictor, new_session
from stream_scorer.flavors.onnx.signature import check_input, score_output
from stream_scorer.types import TYPES, PredictionType, Scalar

FILE_NAME = "model.onnx"


def describe_onnx(
    payload: bytes,
    features: FeaturesConfig,
    options: OnnxModelConfig,
    canary_rows: list[dict[str, Scalar]] | None = None,
) -> Manifest:
    """Build the manifest of the ONNX graph `payload` for `features`, as `options` describe it.

    Starts from `new_manifest`: no version yet, the canary predicted by the graph.

    Raises
    ------
    ModelRejectedError
        If onnxruntime cannot load the graph, its input does not match `features`, its score
        output does not fit the classes, or the canary inputs fail.
    """
    session = new_session(payload, options.intra_op_threads)
    inputs = [_tensor(t) for t in session.get_inputs()]
    outputs = [_tensor(t) for t in session.get_outputs()]
    preprocessing = (
        ImagePreprocessing(**options.image.model_dump()) if features.format == "image" else None
    )
    check_input(inputs[0], features, preprocessing)
    score = score_output(outputs, options.output)
    task, prediction_type, classes = _task(options.classes, score)
    spec = OnnxSpec(
        input_format="json" if features.format == "avro" else features.format,  # columns
        inputs=inputs,
        outputs=outputs,
        score_output=score.name,
        scores=options.scores if classes else "values",
        intra_op_threads=options.intra_op_threads,
        preprocessing=preprocessing,
        tensor_shape=features.tensor_shape,
    )
    meta = session.get_modelmeta()
    manifest = new_manifest(
        payload,
        library_versions(),
        file=FILE_NAME,
        format="onnx",
        feature_names=list(features.feature_schema),
        feature_types=dict(features.feature_schema),
        input_layout="array",
        task=task,
        prediction_type=prediction_type,
        classes=classes,
        estimator=f"ONNX graph {meta.graph_name!r} from {meta.producer_name or 'unknown'}",
        kind="onnx",
        onnx=spec,
    )
    rows = canary_rows if canary_rows is not None else synthetic_canary(manifest)
    canary = OnnxPredictor(session, manifest).canary(rows)
    if spec.scores == "probabilities" and canary.probabilities is not None:
        _check_probabilities(np.asarray(canary.probabilities), score.name)
    return dataclasses.replace(manifest, canary=canary)


def library_versions() -> dict[str, str]:
    """Versions of python, onnxruntime, numpy and Pillow running here."""
    packages = ("onnxruntime", "numpy", "pillow")
    return {"python": platform.python_version(), **{name: version(name) for name in packages}}


def _check_probabilities(proba: np.ndarray, output: str) -> None:
    """Refuse scores declared probabilities that are not (outside [0, 1], rows not summing
    to 1): they would be reported as probabilities."""
    in_range = bool(((proba >= 0) & (proba <= 1)).all())
    if not in_range or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-4):
        msg = (
            f"graph output '{output}' gave canary scores {proba.round(4).tolist()}, which are "
            "not probabilities; set model.onnx.scores: logits if the graph emits logits"
        )
        raise ModelRejectedError(msg)


def _tensor(node: object) -> TensorSpec:
    """A session input or output (`NodeArg`) as a TensorSpec; 'tensor(float)' -> 'float32'."""
    kind = str(getattr(node, "type", ""))
    element = kind[len("tensor(") : -1] if kind.startswith("tensor(") else kind
    element = {"float": "float32", "double": "float64", "float16": "float16"}.get(element, element)
    shape = getattr(node, "shape", None)
    dims = [d if isinstance(d, int | str) else None for d in shape] if shape else []
    return TensorSpec(name=str(getattr(node, "name", "")), shape=dims, element_type=element)


def _task(
    classes: list[str | int] | None, score: TensorSpec
) -> tuple[Task, PredictionType, list[Scalar] | None]:
    """(task, prediction type, classes) from the declared classes and the score output."""
    width = score.shape[-1] if len(score.shape) > 1 else 1
    if not classes:
        if isinstance(width, int) and width != 1:
            msg = (
                f"graph output '{score.name}' has {width} scores per row and no classes are "
                "declared; give --classes (or model.onnx.classes) for a classifier"
            )
            raise ModelRejectedError(msg)
        return "regression", "double", None
    if len(classes) < 2 or len(set(classes)) != len(classes):
        msg = f"classes {classes} must be 2 or more distinct labels"
        raise ModelRejectedError(msg)
    if isinstance(width, int) and width != len(classes) and not (width == 1 == len(classes) - 1):
        msg = (
            f"graph output '{score.name}' has {width} scores per row for {len(classes)} classes "
            f"{classes}; expected {len(classes)} (or 1 for a binary model)"
        )
        raise ModelRejectedError(msg)
    kind: PredictionType = "long" if all(type(c) is int for c in classes) else "string"
    labels = [TYPES[kind].python(c) for c in classes]
    return ("binary" if len(classes) == 2 else "multiclass"), kind, labels
