"""Vectorised prediction of one Arrow batch, with per-row errors instead of a failed batch.

A classifier with `predict_proba` is called once per batch: the prediction is the class of
the highest probability (in `classes_` order), which is what `predict` returns for
scikit-learn's classifiers, except libsvm ones (SVC, NuSVC), whose `predict_proba` is
calibrated apart from `predict`; those get both calls.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

_DTYPES = {"double": np.float64, "long": np.int64, "boolean": np.bool_, "string": object}
_PLACEHOLDERS = {"double": 0.0, "long": 0, "boolean": False, "string": None}


@dataclass(frozen=True)
class Predictions:
    """Model outputs for a batch, aligned with its rows; error rows hold placeholders."""

    prediction: np.ndarray
    """Typed by the manifest's prediction_type (float64, int64, bool, or object of str)."""
    probability: np.ndarray | None
    """Binary: P(classes[1]); multiclass: P(predicted class); NaN on error rows. None for
    regressors and for classifiers without predict_proba."""
    probabilities: np.ndarray | None
    """2-D float64, one column per class in `manifest.classes` order (an Arrow list<double>
    per row: cheaper than a map, whose keys would repeat on every row)."""
    errors: list[str | None]
    """Why each row has no prediction, or None."""


def predict_rows(model: Any, features: pd.DataFrame | np.ndarray, manifest: Any) -> Predictions:
    """Predict every row of `features` (the output of `model_input`) with `model`.

    Guarantees one vectorised call (two for libsvm classifiers) when the model does not
    raise. If it raises, the batch is bisected until the rows that make it raise are
    isolated; each gets "model raised <ExcType>: <msg>" and the other rows are scored.
    A non-finite regression output is an error for its row. Never raises for bad rows.
    """
    n = len(features)
    kind = manifest.prediction_type
    errors: list[str | None] = [None] * n
    classifier = manifest.task != "regression"
    with_proba = classifier and hasattr(model, "predict_proba")
    outcomes = list(_bisect(_classify(model, with_proba), features, 0, n))
    if len(outcomes) == 1 and not isinstance(outcomes[0][2], str):  # the usual case
        prediction, proba = _typed(outcomes[0][2][0], kind), outcomes[0][2][1]
    else:
        prediction = np.full(n, _PLACEHOLDERS[kind], dtype=_DTYPES[kind])
        proba = np.full((n, len(manifest.classes)), np.nan) if with_proba else None
        for lo, hi, outcome in outcomes:
            if isinstance(outcome, str):
                errors[lo] = outcome
                continue
            prediction[lo:hi] = _typed(outcome[0], kind)
            if proba is not None:
                proba[lo:hi] = outcome[1]
    if not classifier:
        for i in np.flatnonzero(~np.isfinite(prediction)):
            if errors[i] is None:
                errors[i] = f"model returned a non-finite prediction ({prediction[i]})"
    probability = None
    if proba is not None:
        probability = proba[:, 1] if manifest.task == "binary" else proba.max(axis=1)
    return Predictions(prediction, probability, proba, errors)


def _classify(model: Any, with_proba: bool) -> Callable[[Any], tuple[np.ndarray, Any]]:
    """Return rows -> (predictions, probabilities or None) for `model`."""
    if not with_proba:
        return lambda rows: (_checked(model.predict(rows), rows), None)
    classes = np.asarray(model.classes_)
    also_predict = _calibrated_apart(model)

    def run(rows: Any) -> tuple[np.ndarray, np.ndarray]:
        proba = _checked(model.predict_proba(rows), rows)
        if also_predict:
            return _checked(model.predict(rows), rows), proba
        return classes[proba.argmax(axis=1)], proba

    return run


def _calibrated_apart(model: Any) -> bool:
    """True for libsvm estimators fitted with `probability=True` (SVC, NuSVC): their
    Platt-scaled predict_proba may disagree with predict."""
    final = model
    while hasattr(final, "steps"):  # Pipeline: the last step predicts
        final = final.steps[-1][1]
    return getattr(final, "probability", False) is True


def _checked(output: Any, rows: Any) -> np.ndarray:
    output = np.asarray(output)
    if len(output) != len(rows):
        msg = f"model returned {len(output)} outputs for {len(rows)} rows"
        raise ValueError(msg)
    return output


def _bisect(run: Callable, features: Any, lo: int, hi: int):
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


def _slice(features: Any, lo: int, hi: int) -> Any:
    if lo == 0 and hi == len(features):
        return features
    return features.iloc[lo:hi] if isinstance(features, pd.DataFrame) else features[lo:hi]


def _typed(values: np.ndarray, kind: str) -> np.ndarray:
    if kind == "string" and values.dtype != object:
        return values.astype(str).astype(object)
    return values.astype(_DTYPES[kind], copy=False)
