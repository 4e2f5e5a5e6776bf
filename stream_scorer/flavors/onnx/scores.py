"""A model's score output -> predictions, with the meaning scikit-learn classifiers give them.

`probabilities` are one column per class in `manifest.classes` order, `probability` is
P(classes[1]) for a binary model and P(predicted class) otherwise, whatever the graph emits:
logits get a softmax (a sigmoid when a binary graph has one score column). Boosters in their
own formats (`flavors.trees`) share it.
"""

import numpy as np

from stream_scorer.contract.manifest import Manifest
from stream_scorer.contract.onnx_spec import ScoreKind
from stream_scorer.flavors.base import Predictions
from stream_scorer.types import TYPES


def to_predictions(
    scores: np.ndarray, manifest: Manifest, kind: ScoreKind | None = None
) -> Predictions:
    """Predictions of `scores`, a model's score output for n rows (first axis), whose
    classifier scores are `kind` (default: the manifest's ONNX `scores`).

    A row whose scores are not all finite gets an error and placeholders.
    """
    n = len(scores)
    values = np.asarray(scores, dtype=np.float64).reshape(n, -1)
    errors: list[str | None] = [None] * n
    for i in np.flatnonzero(~np.isfinite(values).all(axis=1)):
        errors[i] = f"model returned non-finite scores {values[i].tolist()}"
    if not manifest.is_classifier:
        return Predictions(values[:, 0].copy(), None, None, errors)
    assert manifest.classes is not None  # a classifier
    if kind is None:
        assert manifest.onnx is not None  # kind onnx
        kind = manifest.onnx.scores
    proba = probabilities(values, kind)
    classes = np.asarray(manifest.classes, dtype=TYPES[manifest.prediction_type].dtype)
    winner = np.nan_to_num(proba, nan=-1.0).argmax(axis=1)
    prediction = classes[winner]
    probability = proba[:, 1] if manifest.task == "binary" else proba.max(axis=1)
    return Predictions(prediction, probability, proba, errors)


def failed(n: int, reason: str, manifest: Manifest) -> Predictions:
    """Predictions of n rows that all failed for `reason`."""
    spec = TYPES[manifest.prediction_type]
    placeholder = np.full(n, spec.placeholder, dtype=spec.dtype)
    if not manifest.is_classifier:
        return Predictions(placeholder, None, None, [reason] * n)
    proba = np.full((n, len(manifest.classes or ())), np.nan)
    return Predictions(placeholder, np.full(n, np.nan), proba, [reason] * n)


def probabilities(values: np.ndarray, scores: str) -> np.ndarray:
    """(n, k) class probabilities of (n, k) scores ('probabilities' or 'logits'); one
    column means P(second class) of a binary model."""
    if values.shape[1] == 1:
        positive = values[:, 0]
        if scores == "logits":
            positive = 1.0 / (1.0 + np.exp(-positive))
        return np.column_stack([1.0 - positive, positive])
    if scores == "logits":
        shifted = np.exp(values - values.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    return values
