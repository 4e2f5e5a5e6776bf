"""scikit-learn estimators and pipelines: vectorised prediction of one Arrow batch, with
per-row errors instead of a failed batch.

A classifier with `predict_proba` is called once per batch: the prediction is the class of
the highest probability (in `classes_` order), which is what `predict` returns for
scikit-learn's classifiers, except libsvm ones (SVC, NuSVC), whose `predict_proba` is
calibrated apart from `predict`; those get both calls.
"""

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from stream_scorer.contract.manifest import Canary, Manifest
from stream_scorer.contract.model_input import ModelInput, model_input
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.base import Features, Predictions, Predictor
from stream_scorer.flavors.sklearn.describe import canary_of, check_signature
from stream_scorer.flavors.sklearn.estimator import (
    Estimator,
    ProbabilisticClassifier,
    as_estimator,
    gives_probabilities,
)
from stream_scorer.flavors.sklearn.formats import load_model_bytes, load_model_file
from stream_scorer.types import TYPES, TypeSpec

_Outputs = tuple[np.ndarray, np.ndarray | None]
"""What the model gives for some rows: (predictions, probabilities or None)."""


class SklearnPredictor(Predictor):
    """A fitted scikit-learn estimator or pipeline, fed as its manifest's input layout says."""

    def __init__(self, model: Estimator, manifest: Manifest) -> None:
        super().__init__(manifest)
        self.model = model

    def predict(self, features: Features) -> Predictions:
        """Shape `features` for the model (`model_input`), then `predict_rows`."""
        m = self.manifest
        if isinstance(features, pd.DataFrame):
            features = model_input(features, m.feature_names, m.feature_types, m.input_layout)
        return predict_rows(self.model, features, m)

    def canary(self, rows: list[dict[str, Any]]) -> Canary:
        """Predict canary rows through the same input layout as publish did."""
        return canary_of(self.model, rows, self.manifest)


def load(
    payload: bytes,
    manifest: Manifest,
    trusted_types: Sequence[str] = (),
    unsafe_load: bool = False,
) -> SklearnPredictor:
    """Deserialise a joblib, pickle or skops artefact and check its input signature.

    Raises
    ------
    ModelRejectedError
        As `load_estimator`.
    """
    return SklearnPredictor(load_estimator(payload, manifest, trusted_types, unsafe_load), manifest)


def load_estimator(
    payload: bytes, manifest: Manifest, trusted_types: Sequence[str] = (), unsafe_load: bool = False
) -> Estimator:
    """Deserialise an estimator as `manifest.format` says and check its input signature.

    pickle and joblib bytes go through the restricted unpickler (`flavors.sklearn.safe_pickle`),
    admitting `trusted_types` beyond the allowlist, or anything with `unsafe_load`.

    Raises
    ------
    ModelRejectedError
        If the bytes do not load, hold no estimator, or the model's own feature names
        differ from the manifest's.
    """
    fmt = manifest.format
    return _estimator(lambda: load_model_bytes(payload, fmt, trusted_types, unsafe_load), manifest)


def load_file(
    path: Path,
    manifest: Manifest,
    trusted_types: Sequence[str] = (),
    unsafe_load: bool = False,
) -> SklearnPredictor:
    """As `load`, from a verified local file; an uncompressed joblib artefact's arrays are
    memory-mapped read-only, shared by every process that loads the same file. It goes
    through the same allowlist as bytes do."""
    fmt = manifest.format
    model = _estimator(lambda: load_model_file(path, fmt, trusted_types, unsafe_load), manifest)
    return SklearnPredictor(model, manifest)


def _estimator(deserialise: Callable[[], object], manifest: Manifest) -> Estimator:
    try:
        loaded = deserialise()
    except Exception as exc:  # the allowlist's refusal, or whatever the bytes raise
        msg = f"cannot load the {manifest.format} artefact: {exc}"
        raise ModelRejectedError(msg) from exc
    model = as_estimator(loaded)
    check_signature(model, manifest.feature_names)
    return model


def predict_rows(model: Estimator, features: ModelInput, manifest: Manifest) -> Predictions:
    """Predict every row of `features` (the output of `model_input`) with `model`.

    Guarantees one vectorised call (two for libsvm classifiers) when the model does not
    raise. If it raises, the batch is bisected until the rows that make it raise are
    isolated; each gets "model raised <ExcType>: <msg>" and the other rows are scored.
    A non-finite regression output is an error for its row. Never raises for bad rows.
    """
    n = len(features)
    spec = TYPES[manifest.prediction_type]
    errors: list[str | None] = [None] * n
    classifier = model if manifest.is_classifier and gives_probabilities(model) else None
    run = _predict(model) if classifier is None else _predict_with_proba(classifier)
    outcomes = list(_bisect(run, features, 0, n))
    first = outcomes[0][2] if len(outcomes) == 1 else None
    if first is not None and not isinstance(first, str):  # the usual case
        prediction, proba = _typed(first[0], spec), first[1]
    else:
        prediction = np.full(n, spec.placeholder, dtype=spec.dtype)
        width = len(manifest.classes or ())
        proba = None if classifier is None else np.full((n, width), np.nan)
        for lo, hi, outcome in outcomes:
            if isinstance(outcome, str):
                errors[lo] = outcome
                continue
            prediction[lo:hi] = _typed(outcome[0], spec)
            if proba is not None:
                proba[lo:hi] = outcome[1]
    if not manifest.is_classifier:
        for i in np.flatnonzero(~np.isfinite(prediction)):
            if errors[i] is None:
                errors[i] = f"model returned a non-finite prediction ({prediction[i]})"
    probability = None
    if proba is not None:
        probability = proba[:, 1] if manifest.task == "binary" else proba.max(axis=1)
    return Predictions(prediction, probability, proba, errors)


def _predict(model: Estimator) -> Callable[[ModelInput], _Outputs]:
    """Return rows -> (predictions, None) for `model`."""
    return lambda rows: (_checked(model.predict(rows), rows), None)


def _predict_with_proba(model: ProbabilisticClassifier) -> Callable[[ModelInput], _Outputs]:
    """Return rows -> (predictions, probabilities) for `model`."""
    classes = np.asarray(model.classes_)
    also_predict = _calibrated_apart(model)

    def run(rows: ModelInput) -> _Outputs:
        proba = _checked(model.predict_proba(rows), rows, ndim=2)
        if also_predict:
            return _checked(model.predict(rows), rows), proba
        return classes[proba.argmax(axis=1)], proba

    return run


def _calibrated_apart(model: Estimator) -> bool:
    """True for libsvm estimators fitted with `probability=True` (SVC, NuSVC): their
    Platt-scaled predict_proba may disagree with predict."""
    final: object = model
    while hasattr(final, "steps"):  # Pipeline: the last step predicts
        final = final.steps[-1][1]
    return getattr(final, "probability", False) is True


def _checked(output: npt.ArrayLike, rows: ModelInput, ndim: int = 1) -> np.ndarray:
    output = np.asarray(output)
    if len(output) != len(rows):
        msg = f"model returned {len(output)} outputs for {len(rows)} rows"
        raise ValueError(msg)
    if output.ndim != ndim:
        msg = f"model returned outputs of shape {output.shape}; expected {ndim} dimension(s)"
        raise ValueError(msg)
    return output


def _bisect(
    run: Callable[[ModelInput], _Outputs], features: ModelInput, lo: int, hi: int
) -> Iterator[tuple[int, int, _Outputs | str]]:
    """Yield (lo, hi, outputs) for row ranges the model scores, (i, i + 1, reason) for
    single rows it raises on."""
    if lo == hi:
        return
    try:
        outcome = run(_slice(features, lo, hi))
    except Exception as exc:  # a model may raise anything; the row gets the reason
        if hi - lo == 1:
            yield lo, hi, f"model raised {type(exc).__name__}: {exc}"
            return
        mid = (lo + hi) // 2
        yield from _bisect(run, features, lo, mid)
        yield from _bisect(run, features, mid, hi)
        return
    yield lo, hi, outcome


def _slice(features: ModelInput, lo: int, hi: int) -> ModelInput:
    if lo == 0 and hi == len(features):
        return features
    return features.iloc[lo:hi] if isinstance(features, pd.DataFrame) else features[lo:hi]


def _typed(values: np.ndarray, spec: TypeSpec) -> np.ndarray:
    if spec.python is str and values.dtype != object:
        return values.astype(str).astype(object)
    return values.astype(spec.dtype, copy=False)
