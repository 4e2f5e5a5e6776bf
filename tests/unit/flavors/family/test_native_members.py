"""Families of XGBoost and LightGBM models, stored in their libraries' own formats."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from stream_scorer.errors import ConfigError, ModelRejectedError
from stream_scorer.features.routing import ROUTE_KEY
from stream_scorer.flavors.base import load_predictor
from stream_scorer.flavors.family.artefact import FamilyArtefact, pack
from stream_scorer.flavors.family.build import build_family
from stream_scorer.flavors.family.members import (
    check_native_features,
    fit_params,
    member_format,
)
from tests.family_helpers import FEATURES, fit_locally, keyed_frame

xgboost = pytest.importorskip("xgboost", reason="the xgboost extra is not installed")
lightgbm = pytest.importorskip("lightgbm", reason="the lightgbm extra is not installed")

SMALL = {"n_estimators": 5, "max_depth": 3, "n_jobs": 1}


@pytest.fixture(scope="module")
def xgb_family():
    spec, fitted, models = fit_locally(keyed_frame(3, 40), xgboost.XGBRegressor, params=SMALL)
    return (*build_family(spec, fitted, {}), models)


@pytest.fixture(scope="module")
def lgbm_family():
    """LGBMClassifier per key on labels 'hi', 'lo', 'mid'; k0002 never saw 'mid'."""
    frame = keyed_frame(3, 60)
    frame["grade"] = np.where(frame["y"] > 0.5, "hi", np.where(frame["y"] < -0.5, "lo", "mid"))
    frame.loc[(frame["store"] == "k0002") & (frame["grade"] == "mid"), "grade"] = "lo"
    params = {**SMALL, "min_child_samples": 2, "verbose": -1}
    spec, fitted, models = fit_locally(frame, lightgbm.LGBMClassifier, "grade", params=params)
    return (*build_family(spec, fitted, {}), models)


def _rows(keys: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(len(keys), len(FEATURES))), columns=FEATURES)
    frame[ROUTE_KEY] = np.array(keys, dtype=object)
    return frame


KEYS = ["k0001", "k0000", "k0002", "k0001", "k0002", "k0000", "k0002"]


def test_xgboost_members_are_ubjson_boosters_predicting_as_xgboost(xgb_family) -> None:
    payload, manifest, models = xgb_family
    artefact = FamilyArtefact(payload)
    frame = _rows(KEYS)

    result = load_predictor(payload, manifest).predict(frame)

    assert (manifest.format, manifest.task, manifest.input_layout) == (
        "xgboost-ubj",
        "regression",
        "frame",
    )
    assert "xgboost" in manifest.library_versions
    for key, member in artefact.members.items():
        booster = xgboost.Booster()
        booster.load_model(bytearray(artefact.member_bytes(key, member)))  # UBJSON, no pickle
        rows = np.flatnonzero(frame[ROUTE_KEY] == key)
        own = models[key].predict(frame[FEATURES].to_numpy()[rows])
        np.testing.assert_array_equal(result.prediction[rows], own.astype(np.float64))
    assert result.model_keys.tolist() == KEYS
    assert result.errors == [None] * len(KEYS)


def test_lightgbm_members_keep_each_keys_labels(lgbm_family) -> None:
    payload, manifest, models = lgbm_family
    frame = _rows(KEYS)

    result = load_predictor(payload, manifest).predict(frame)

    assert (manifest.format, manifest.task, manifest.classes) == (
        "lightgbm-text",
        "multiclass",
        ["hi", "lo", "mid"],
    )
    assert FamilyArtefact(payload).members["k0002"].classes == ["hi", "lo"]
    for key, model in models.items():
        rows = np.flatnonzero(frame[ROUTE_KEY] == key)
        inputs = frame[FEATURES].to_numpy()[rows]
        assert result.prediction[rows].tolist() == model.predict(inputs).tolist()
        columns = [manifest.classes.index(c) for c in model.classes_]
        np.testing.assert_allclose(
            result.probabilities[np.ix_(rows, columns)], model.predict_proba(inputs), rtol=1e-12
        )
    assert np.isnan(result.probabilities[frame[ROUTE_KEY] == "k0002", 2]).all()


def test_a_native_classifier_without_its_labels_is_refused(lgbm_family) -> None:
    payload, manifest, _ = lgbm_family
    artefact = FamilyArtefact(payload)
    members = {k: artefact.member_bytes(k, m) for k, m in artefact.members.items()}
    unlabelled = pack(members)  # the index lost every key's labels
    manifest = dataclasses.replace(manifest, extra={})  # as a worker's copy

    predictor = load_predictor(unlabelled, manifest)

    with pytest.raises(ModelRejectedError, match=r"^the model of key 'k0000': LightGBM booster"):
        predictor.predict(_rows(["k0000"]))


def test_a_member_not_in_the_family_format_is_refused_at_build() -> None:
    spec, fitted, _ = fit_locally(keyed_frame(2, 30), xgboost.XGBRegressor, params=SMALL)
    fitted[1] = dataclasses.replace(fitted[1], payload=b"not a booster")

    with pytest.raises(ModelRejectedError, match=r"^the model of key 'k0001': xgboost cannot"):
        build_family(spec, fitted, {})


def test_native_members_take_numeric_features_only() -> None:
    check_native_features("sklearn.linear_model.Ridge", {"a": "double", "b": "string"})

    with pytest.raises(ConfigError, match=r"^xgboost.XGBRegressor members take numeric "):
        check_native_features("xgboost.XGBRegressor", {"a": "double", "b": "string"})


def test_sklearn_wrappers_of_xgboost_and_lightgbm_are_stored_natively_others_pickled() -> None:
    assert member_format("xgboost.XGBClassifier") == "xgboost-ubj"
    assert member_format("xgboost.sklearn.XGBRegressor") == "xgboost-ubj"
    assert member_format("lightgbm.LGBMRegressor") == "lightgbm-text"
    assert member_format("sklearn.ensemble.RandomForestRegressor") == "pickle"
    assert member_format("xgboost.XGBRFRegressor") == "pickle"  # not one of ours: a pickle


def test_native_estimators_fit_with_one_thread_unless_told_otherwise() -> None:
    assert fit_params("lightgbm.LGBMClassifier", {"n_estimators": 5}) == {
        "n_jobs": 1,
        "n_estimators": 5,
    }
    assert fit_params("xgboost.XGBRegressor", {"n_jobs": 2}) == {"n_jobs": 2}
    assert fit_params("sklearn.linear_model.Ridge", {}) == {}


def test_a_family_whose_format_holds_no_members_is_refused(xgb_family) -> None:
    payload, manifest, _ = xgb_family
    predictor = load_predictor(payload, dataclasses.replace(manifest, format="onnx"))

    with pytest.raises(
        ModelRejectedError,
        match=r"^the model of key 'k0000': a model family cannot hold onnx members",
    ):
        predictor.predict(_rows(["k0000"]))
