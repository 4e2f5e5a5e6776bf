"""Test-side helpers for per-key model families: keyed training data and its records."""

import pickle

import numpy as np
import pandas as pd

from stream_scorer.models.family_artefact import FALLBACK_KEY
from stream_scorer.models.family_build import FittedKey, TrainSpec
from tests.scorer_helpers import NUMERIC

FEATURES = list(NUMERIC)


def keyed_frame(keys: int, rows_per_key: int, seed: int = 0) -> pd.DataFrame:
    """Training rows of `keys` keys 'k0000'...: `store`, f0..f3, a regression target `y`
    (its own weights per key, plus noise) and a binary `label` (y > 0)."""
    rng = np.random.default_rng(seed)
    names = [f"k{i:04d}" for i in range(keys)]
    features = rng.normal(size=(keys * rows_per_key, len(FEATURES)))
    weights = np.repeat(rng.normal(size=(keys, len(FEATURES))), rows_per_key, axis=0)
    target = (features * weights).sum(axis=1) + rng.normal(scale=0.1, size=len(features))
    frame = pd.DataFrame(features, columns=FEATURES)
    frame.insert(0, "store", np.repeat(names, rows_per_key))
    frame["y"] = target
    frame["label"] = (target > 0).astype(np.int64)
    return frame


def fit_locally(
    frame: pd.DataFrame,
    estimator: type,
    target: str = "y",
    fallback: bool = False,
) -> tuple[TrainSpec, list[FittedKey], dict[str, object]]:
    """Fit one `estimator()` per store of `frame` in this process, as the executors would.

    Returns the spec, the fitted keys and the models by key (FALLBACK_KEY for the fallback).
    """
    path = f"{estimator.__module__}.{estimator.__name__}"
    spec = TrainSpec("store", target, dict(NUMERIC), path, {}, fallback=fallback)
    groups = [(str(k), rows) for k, rows in frame.groupby("store")]
    if fallback:
        groups.append((FALLBACK_KEY, frame))
    fitted, models = [], {}
    for key, rows in groups:
        inputs = rows[FEATURES].to_numpy(dtype=np.float64)
        model = estimator().fit(inputs, rows[target].to_numpy())
        canary = rows[FEATURES].head(2).to_dict("records")
        fitted.append(FittedKey(key, pickle.dumps(model), len(rows), 1.0, 0.01, canary))
        models[key] = model
    return spec, fitted, models
