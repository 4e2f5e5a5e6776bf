"""Linear members stacked: the keys' linear models of one Arrow batch scored in one pass.

A family of a thousand keys would otherwise pay scikit-learn's input validation (~100-300 us)
per key per batch, whatever its rows. A member that is one of `LINEAR` (optionally after a
`StandardScaler`, in a two-step Pipeline) is reduced at load to its parameters (`Linear`):
`z = ((x - mean) / scale) @ coef.T + intercept`, then its link (identity for regressors,
scikit-learn's `expit` for binary and `softmax` for multiclass `LogisticRegression`).
`LinearStack.predict` gathers each row's parameters by its key's slot and computes every row
of the batch in a few vectorised numpy calls.

Safety: the batch is validated once (a 2-D float64 array; rows with NaN or infinity are left
to the key's own estimator, which refuses them as before), and a member is stacked only if
its `Linear` reproduces its estimator's own `predict_rows` on probe rows at load (predictions
equal, outputs within `TOLERANCE`); any other member keeps the per-key path. Outputs may
differ from the estimator's in the last bits (the dot's summation order), never by more.
"""

import threading
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from stream_scorer.contract.manifest import Manifest
from stream_scorer.contract.model_input import ModelInput, model_input
from stream_scorer.flavors.base import Predictions
from stream_scorer.flavors.sklearn.predictor import predict_rows
from stream_scorer.types import TYPES

Link = Literal["identity", "logistic", "softmax"]
LINEAR = frozenset(
    f"sklearn.linear_model.{name}"
    for name in [
        *("LinearRegression", "Ridge", "RidgeCV", "Lasso", "LassoCV", "ElasticNet"),
        *("ElasticNetCV", "Lars", "LassoLars", "BayesianRidge", "ARDRegression"),
        *("HuberRegressor", "LogisticRegression", "LogisticRegressionCV"),
    ]
)
"""Estimators (by public import path) whose predict is `X @ coef_ + intercept_` and whose
`predict_proba` (LogisticRegression) is its link of that."""
TOLERANCE = 1e-12
"""Largest difference (absolute, or relative to the output) allowed at the load check."""
_PROBES = 16


@dataclass(frozen=True)
class Linear:
    """One member's parameters: `z = ((x - mean) / scale) @ coef.T + intercept`, then `link`."""

    coef: np.ndarray
    """(outputs, features) float64."""
    intercept: np.ndarray
    """(outputs,) float64."""
    mean: np.ndarray
    """(features,): 0 without a scaler (x - 0.0 is x, exactly)."""
    scale: np.ndarray
    """(features,): 1 without a scaler."""
    link: Link

    @property
    def shape(self) -> tuple[Link, int, int]:
        """Members stack together when their shapes are equal."""
        return self.link, *self.coef.shape


def linear_of(estimator: Any, manifest: Manifest) -> Linear | None:
    """The parameters of `estimator` if it is linear (see `LINEAR`) and they reproduce its own
    `predict_rows` for `manifest` (the family's, with the member's classes equal to the
    family's) on probe rows; else None."""
    found = _parameters(estimator, manifest)
    if found is None or not _reproduces(found, estimator, manifest):
        return None
    return found


def stackable(inputs: ModelInput) -> np.ndarray | None:
    """`inputs` as the 2-D float64 array the stacked pass reads, or None when they are not
    numeric (text or mixed features keep the per-key path)."""
    if isinstance(inputs, np.ndarray):
        return inputs if inputs.ndim == 2 and inputs.dtype == np.float64 else None
    if all(dtype == np.float64 for dtype in inputs.dtypes):
        return inputs.to_numpy(dtype=np.float64)
    return None


class LinearStack:
    """The parameters of a family's linear members, one row per member (its slot), gathered
    per batch by each row's slot. Members join as their keys load; thread-safe."""

    def __init__(self) -> None:
        self._members: list[Linear] = []
        self._arrays: tuple[np.ndarray, ...] | None = None
        self._lock = threading.Lock()

    def add(self, linear: Linear) -> int | None:
        """The slot of `linear`, or None if its shape is not the stack's (the first's)."""
        with self._lock:
            if self._members and linear.shape != self._members[0].shape:
                return None
            self._members.append(linear)
            return len(self._members) - 1

    def predict(
        self, slots: np.ndarray, x: np.ndarray, manifest: Manifest
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(predictions typed as `manifest.prediction_type`, probabilities or None) of rows
        `x` (finite), row i by the member in slot `slots[i]`."""
        coef, intercept, mean, scale = self._stacked()
        z = np.einsum("md,mkd->mk", (x - mean[slots]) / scale[slots], coef[slots])
        z += intercept[slots]
        link = self._members[0].link
        if link == "identity":
            return z[:, 0].astype(TYPES[manifest.prediction_type].dtype, copy=False), None
        if link == "logistic":
            from scipy.special import expit

            p = expit(z[:, 0])
            proba = np.stack([1 - p, p], axis=1)
        else:
            from sklearn.utils.extmath import softmax

            proba = softmax(z, copy=False)
        return _labels(manifest)[proba.argmax(axis=1)], proba

    def _stacked(self) -> tuple[np.ndarray, ...]:
        arrays = self._arrays
        if arrays is None or len(arrays[0]) != len(self._members):
            with self._lock:
                members = list(self._members)
                fields = ("coef", "intercept", "mean", "scale")
                arrays = tuple(np.stack([getattr(m, f) for m in members]) for f in fields)
                self._arrays = arrays
        return arrays


def _labels(manifest: Manifest) -> np.ndarray:
    """The family's classes as `predict_rows` types its predictions."""
    spec = TYPES[manifest.prediction_type]
    classes = np.asarray(manifest.classes)
    if spec.python is str:
        return classes.astype(str).astype(object)
    return classes.astype(spec.dtype)


def _parameters(estimator: Any, manifest: Manifest) -> Linear | None:
    mean = scale = None
    if _path(estimator) == "sklearn.pipeline.Pipeline":
        steps = estimator.steps
        if len(steps) != 2 or _path(steps[0][1]) != "sklearn.preprocessing.StandardScaler":
            return None
        scaler, estimator = steps[0][1], steps[1][1]
        mean = scaler.mean_ if scaler.with_mean else None
        scale = scaler.scale_ if scaler.with_std else None
    if _path(estimator) not in LINEAR:
        return None
    coef = np.atleast_2d(np.asarray(getattr(estimator, "coef_", None), dtype=np.float64))
    intercept = np.broadcast_to(np.asarray(getattr(estimator, "intercept_", 0.0)), len(coef))
    features = len(manifest.feature_names)
    if coef.ndim != 2 or coef.shape[1] != features or not np.isfinite(coef).all():
        return None
    link: Link = "identity"
    if manifest.is_classifier:
        if not hasattr(estimator, "predict_proba"):
            return None
        link = "logistic" if len(coef) == 1 else "softmax"
    elif len(coef) != 1:
        return None
    zeros, ones = np.zeros(features), np.ones(features)
    return Linear(
        coef,
        intercept.astype(np.float64),
        zeros if mean is None else np.asarray(mean, dtype=np.float64),
        ones if scale is None else np.asarray(scale, dtype=np.float64),
        link,
    )


def _path(estimator: Any) -> str:
    """'sklearn.linear_model.Ridge' for Ridge: its public path, by its defining module."""
    module = type(estimator).__module__
    if not module.startswith("sklearn."):
        return ""
    return f"{'.'.join(module.split('.')[:2])}.{type(estimator).__name__}"


def _reproduces(linear: Linear, estimator: Any, manifest: Manifest) -> bool:
    """True when `linear` gives `estimator`'s own predictions on probe rows."""
    names = manifest.feature_names
    rng = np.random.default_rng(0)
    probe = linear.mean + linear.scale * rng.normal(scale=3.0, size=(_PROBES, len(names)))
    inputs = model_input(
        pd.DataFrame(probe, columns=names), names, manifest.feature_types, manifest.input_layout
    )
    x = stackable(inputs)
    if x is None:
        return False
    stack = LinearStack()
    stack.add(linear)
    try:
        theirs: Predictions = predict_rows(estimator, inputs, manifest)
        mine, proba = stack.predict(np.zeros(_PROBES, dtype=np.intp), x, manifest)
    except Exception:  # a member that cannot be checked keeps the per-key path
        return False
    if any(theirs.errors) or (proba is None) != (theirs.probabilities is None):
        return False
    if proba is None:  # a regressor: its predictions are its outputs
        return _close(mine, theirs.prediction)
    return np.array_equal(mine, theirs.prediction) and _close(proba, theirs.probabilities)


def _close(mine: np.ndarray, theirs: np.ndarray | None) -> bool:
    return theirs is not None and bool(
        np.allclose(mine, theirs, rtol=TOLERANCE, atol=TOLERANCE, equal_nan=False)
    )
