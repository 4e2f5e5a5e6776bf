"""The family predictor: rows grouped by key, each group scored by its key's model."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeRegressor

from stream_scorer.contract.manifest import Manifest
from stream_scorer.errors import ModelRejectedError
from stream_scorer.features.routing import ROUTE_KEY
from stream_scorer.flavors.base import load_predictor
from stream_scorer.flavors.family import members
from stream_scorer.flavors.family import predictor as family
from stream_scorer.flavors.family.artefact import FALLBACK_KEY
from stream_scorer.flavors.family.build import build_family
from tests.family_helpers import FEATURES, fit_locally, keyed_frame


@pytest.fixture(scope="module")
def ridge_family():
    """(payload, manifest, models by key) of 3 Ridge keys, no fallback."""
    spec, fitted, models = fit_locally(keyed_frame(3, 40), Ridge)
    payload, manifest = build_family(spec, fitted, {})
    return payload, manifest, models


@pytest.fixture(scope="module")
def with_fallback():
    spec, fitted, models = fit_locally(keyed_frame(3, 40), Ridge, fallback=True)
    payload, manifest = build_family(spec, fitted, {})
    return payload, manifest, models


def _rows(keys: list, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(len(keys), 4)), columns=FEATURES)
    frame[ROUTE_KEY] = np.array(keys, dtype=object)
    return frame


def _expected(models: dict, frame: pd.DataFrame, keys: list):
    """Each key's model.predict on that key's rows, one call per key; within 1e-12, as the
    family scores linear members stacked (`linear`)."""
    inputs, keys = frame[FEATURES].to_numpy(), np.array(keys, dtype=object)
    expected = np.empty(len(keys))
    for key in set(keys):
        rows = np.flatnonzero(keys == key)
        expected[rows] = models[key].predict(inputs[rows])
    return pytest.approx(expected.tolist(), rel=1e-12, abs=1e-12)


def test_each_row_is_predicted_by_its_keys_model(ridge_family) -> None:
    payload, manifest, models = ridge_family
    keys = ["k0001", "k0000", "k0002", "k0001", "k0000", "k0002", "k0001"]
    frame = _rows(keys)

    result = load_predictor(payload, manifest).predict(frame)

    assert result.prediction.tolist() == _expected(models, frame, keys)
    assert result.model_keys.tolist() == keys
    assert result.errors == [None] * 7


def test_unknown_key_without_fallback_gets_no_model_for_key(ridge_family) -> None:
    payload, manifest, models = ridge_family
    frame = _rows(["k0000", "nope", "k0001"])

    result = load_predictor(payload, manifest).predict(frame)

    assert result.errors == [None, "no model for key 'nope'", None]
    assert result.prediction[[0, 2]].tolist() == _expected(
        models, frame.iloc[[0, 2]], ["k0000", "k0001"]
    )


@pytest.mark.parametrize("key", ["k0001\x00", "k00\x0001", "k0001\x00\x00"])
def test_a_key_with_a_nul_is_not_another_keys(ridge_family, key) -> None:
    payload, manifest, models = ridge_family
    keys = ["k0001", key, "k0000", key]
    frame = _rows(keys)

    result = load_predictor(payload, manifest).predict(frame)

    assert result.errors == [None, f"no model for key {key!r}", None, f"no model for key {key!r}"]
    assert result.model_keys.tolist() == ["k0001", None, "k0000", None]
    expected = _expected(models, frame.iloc[[0, 2]], ["k0001", "k0000"])
    assert result.prediction[[0, 2]].tolist() == expected


def test_unknown_key_with_fallback_is_scored_by_the_fallback(with_fallback) -> None:
    payload, manifest, models = with_fallback
    frame = _rows(["nope", "k0002"])

    result = load_predictor(payload, manifest).predict(frame)

    assert result.errors == [None, None]
    assert result.model_keys.tolist() == [FALLBACK_KEY, "k0002"]
    assert result.prediction.tolist() == _expected(models, frame, [FALLBACK_KEY, "k0002"])


def test_each_tree_key_is_predicted_in_one_call_per_batch(monkeypatch) -> None:
    spec, fitted, _ = fit_locally(keyed_frame(3, 40), DecisionTreeRegressor)
    payload, manifest = build_family(spec, fitted, {})
    calls: list[int] = []
    original = members.predict_rows

    def counting(model, inputs, m):
        calls.append(len(inputs))
        return original(model, inputs, m)

    monkeypatch.setattr(members, "predict_rows", counting)
    keys = ["k0000", "k0001"] * 50 + ["k0002"]

    load_predictor(payload, manifest).predict(_rows(keys))

    assert sorted(calls) == [1, 50, 50]


def test_linear_keys_are_scored_without_a_call_per_key(ridge_family, monkeypatch) -> None:
    payload, manifest, models = ridge_family
    predictor = load_predictor(payload, manifest)
    keys = ["k0000", "k0001"] * 50 + ["k0002"]
    frame = _rows(keys)
    predictor.predict(frame)  # loads each key's model (and checks its stacked parameters)
    calls: list[int] = []
    monkeypatch.setattr(members, "predict_rows", lambda *args: calls.append(1))

    result = predictor.predict(frame)

    assert calls == []
    assert result.prediction.tolist() == _expected(models, frame, keys)


def test_a_keys_model_is_deserialised_on_first_use_only(ridge_family) -> None:
    payload, manifest, _ = ridge_family
    predictor = load_predictor(payload, manifest)
    assert isinstance(predictor, family.FamilyPredictor)

    predictor.predict(_rows(["k0002", "k0002"]))
    first = predictor._models["k0002"]
    predictor.predict(_rows(["k0002"]))

    assert predictor.loaded_keys == ["k0002"]
    assert predictor._models["k0002"] is first


def test_integer_keys_route_to_the_model_of_their_text() -> None:
    frame = keyed_frame(2, 30).assign(store=lambda f: f["store"].str[1:].astype(int))
    spec, fitted, models = fit_locally(frame, Ridge)
    payload, manifest = build_family(spec, fitted, {})
    rows = _rows([1, 0])

    result = load_predictor(payload, manifest).predict(rows)

    assert result.model_keys.tolist() == ["1", "0"]
    assert result.prediction.tolist() == _expected(models, rows, ["1", "0"])


def test_a_key_fitted_on_fewer_classes_fills_only_its_columns() -> None:
    frame = keyed_frame(2, 60)
    frame["label"] = np.where(frame["store"] == "k0000", frame["label"], frame["label"] + 1)
    spec, fitted, models = fit_locally(frame, LogisticRegression, target="label")
    payload, manifest = build_family(spec, fitted, {})
    rows = _rows(["k0000", "k0001"])

    result = load_predictor(payload, manifest).predict(rows)

    assert manifest.classes == [0, 1, 2]
    inputs = rows[FEATURES].to_numpy()
    np.testing.assert_array_equal(
        result.probabilities[0, :2], models["k0000"].predict_proba(inputs[:1])[0]
    )
    assert np.isnan(result.probabilities[0, 2])
    np.testing.assert_array_equal(
        result.probabilities[1, 1:], models["k0001"].predict_proba(inputs[1:])[0]
    )
    assert result.prediction.tolist() == [
        models["k0000"].predict(inputs[:1])[0],
        models["k0001"].predict(inputs[1:])[0],
    ]


def test_manifest_listing_other_keys_than_the_artefact_is_refused(ridge_family) -> None:
    payload, manifest, _ = ridge_family
    extra = {"family": {**manifest.extra["family"], "keys": {}}}

    with pytest.raises(ModelRejectedError, match="keys or sha256s differ"):
        load_predictor(payload, dataclasses.replace(manifest, extra=extra))


def test_canary_predictions_survive_the_manifest_round_trip(with_fallback) -> None:
    payload, manifest, _ = with_fallback
    parsed = Manifest.from_json(manifest.to_json())

    canary = load_predictor(payload, parsed).canary(parsed.canary.rows)

    assert canary == manifest.canary
    assert {row[ROUTE_KEY] for row in canary.rows} == {"k0000", "k0001", "k0002", FALLBACK_KEY}
