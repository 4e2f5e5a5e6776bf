"""Linear members scored stacked give what each key's own estimator gives, key by key."""

import functools

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from stream_scorer.features.routing import ROUTE_KEY
from stream_scorer.flavors.base import load_predictor
from stream_scorer.flavors.family.artefact import FALLBACK_KEY
from stream_scorer.flavors.family.build import build_family
from stream_scorer.flavors.family.linear import linear_of
from stream_scorer.flavors.sklearn.predictor import predict_rows
from tests.family_helpers import FEATURES, fit_locally, keyed_frame

KEYS = 8


def scaled_logistic() -> Pipeline:
    """A pipeline member: a StandardScaler, then a LogisticRegression."""
    return Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression())])


def _three_classes(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(label=np.arange(len(frame)) % 3)


KINDS = {  # name: (estimator, target, training rows, stacked)
    "binary LR": (LogisticRegression, "label", lambda f: f, True),
    "multiclass LR": (LogisticRegression, "label", _three_classes, True),
    "Ridge": (Ridge, "y", lambda f: f, True),
    "LinearRegression": (LinearRegression, "y", lambda f: f, True),
    "StandardScaler + LR pipeline": (scaled_logistic, "label", lambda f: f, True),
    "decision tree": (DecisionTreeRegressor, "y", lambda f: f, False),
}


@functools.cache
def _family(kind: str, fallback: bool = False):
    """(predictor, manifest, models by key) of a family of `KINDS[kind]`, fitted once."""
    estimator, target, shape, _ = KINDS[kind]
    spec, fitted, models = fit_locally(
        shape(keyed_frame(KEYS, 60)), estimator, target=target, fallback=fallback
    )
    payload, manifest = build_family(spec, fitted, {})
    return load_predictor(payload, manifest), manifest, models


def _batch(keys: list[str], seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(scale=2.0, size=(len(keys), len(FEATURES))), columns=FEATURES)
    frame[ROUTE_KEY] = np.array(keys, dtype=object)
    return frame


def _per_key(models: dict, manifest, frame: pd.DataFrame, route: dict[str, str]):
    """Today's path: each key's estimator through `predict_rows` on that key's rows alone;
    `route`: a row's key -> the key of the model that serves it."""
    keys = frame[ROUTE_KEY].to_numpy(dtype=object)
    inputs = frame[FEATURES].to_numpy(dtype=np.float64)
    n, width = len(frame), len(manifest.classes or ())
    prediction = np.empty(n, dtype=object)
    proba = np.full((n, width), np.nan)
    errors: list[str | None] = [None] * n
    for key in dict.fromkeys(keys):
        rows = np.flatnonzero(keys == key)
        part = predict_rows(models[route[key]], inputs[rows], manifest)
        prediction[rows] = list(part.prediction)
        if part.probabilities is not None:
            proba[rows] = part.probabilities
        for i, error in zip(rows, part.errors, strict=True):
            errors[i] = error
    return prediction, proba, errors


def _assert_same(result, expected, manifest) -> None:
    prediction, proba, errors = expected
    assert result.errors == errors
    ok = [i for i, error in enumerate(errors) if error is None]
    if manifest.is_classifier:
        assert result.prediction[ok].tolist() == prediction[ok].tolist()
        np.testing.assert_allclose(result.probabilities[ok], proba[ok], rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_allclose(
            result.prediction[ok].astype(float),
            prediction[ok].astype(float),
            rtol=1e-12,
            atol=1e-12,
        )


@pytest.mark.parametrize("kind", list(KINDS))
def test_stacked_rows_match_each_keys_own_predict(kind) -> None:
    predictor, manifest, models = _family(kind)
    keys = [f"k{i % KEYS:04d}" for i in range(7 * KEYS)]
    frame = _batch(keys)

    result = predictor.predict(frame)

    _assert_same(result, _per_key(models, manifest, frame, {k: k for k in keys}), manifest)
    assert result.model_keys.tolist() == keys
    stacked = {predictor._models[k].slot is not None for k in set(keys)}
    assert stacked == {KINDS[kind][3]}


@pytest.mark.parametrize("kind", ["binary LR", "Ridge"])
def test_rows_with_nan_or_infinity_get_their_keys_own_refusal(kind) -> None:
    predictor, manifest, models = _family(kind)
    keys = [f"k{i % KEYS:04d}" for i in range(3 * KEYS)]
    frame = _batch(keys)
    frame.loc[[2, 5], "f1"] = np.nan
    frame.loc[7, "f3"] = np.inf

    result = predictor.predict(frame)

    _assert_same(result, _per_key(models, manifest, frame, {k: k for k in keys}), manifest)
    assert [i for i, error in enumerate(result.errors) if error] == [2, 5, 7]
    assert result.errors[2].startswith("model raised ValueError: Input X contains NaN")


@pytest.mark.parametrize("kind", ["binary LR", "Ridge", "decision tree"])
def test_unknown_keys_go_to_the_fallback_model(kind) -> None:
    predictor, manifest, models = _family(kind, fallback=True)
    keys = ["k0001", "nope", "k0002", "other", "nope", "k0001"]
    frame = _batch(keys)
    route = {k: k if k in models else FALLBACK_KEY for k in keys}

    result = predictor.predict(frame)

    _assert_same(result, _per_key(models, manifest, frame, route), manifest)
    assert result.model_keys.tolist() == [route[k] for k in keys]
    assert predictor._models["nope"] is predictor._models["other"]  # one fallback model


def test_unknown_keys_without_a_fallback_get_no_model_for_key() -> None:
    predictor, manifest, models = _family("binary LR")
    keys = ["k0001", "nope", "k0003", None]
    frame = _batch(keys)

    result = predictor.predict(frame)

    assert result.errors[1:2] + result.errors[3:] == [
        "no model for key 'nope'",
        "no model for key None",
    ]
    assert result.model_keys.tolist() == ["k0001", None, "k0003", None]
    known = frame.iloc[[0, 2]]
    expected = _per_key(models, manifest, known, {"k0001": "k0001", "k0003": "k0003"})
    np.testing.assert_allclose(result.probabilities[[0, 2]], expected[1], rtol=1e-12, atol=1e-12)
    assert np.isnan(result.probabilities[[1, 3]]).all()


def test_a_model_other_than_the_linear_ones_is_not_stacked() -> None:
    _, manifest, models = _family("decision tree")
    three_steps = Pipeline(
        [("a", StandardScaler()), ("b", StandardScaler()), ("lr", LinearRegression())]
    ).fit(np.eye(4), np.arange(4.0))

    assert linear_of(models["k0000"], manifest) is None
    assert linear_of(three_steps, manifest) is None
    assert linear_of(LinearRegression().fit(np.eye(4), np.arange(4.0)), manifest) is not None
