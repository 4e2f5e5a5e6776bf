"""shadow_columns: the challenger's fields of one Arrow batch, never touching the served ones."""

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

from stream_scorer.contract.onnx_spec import ImagePreprocessing, OnnxSpec, TensorSpec
from stream_scorer.devtools.demo_models import demo_features, train_demo_model
from stream_scorer.distribution.cache import ArtefactCache
from stream_scorer.distribution.cached_file import CachedFileArtefact
from stream_scorer.distribution.worker_cache import key_of
from stream_scorer.flavors.sklearn.describe import describe
from stream_scorer.flavors.sklearn.predictor import SklearnPredictor
from stream_scorer.scoring.shadow import ShadowModel, shadow_columns, skip_reason
from stream_scorer.serving.model import ServingModel
from stream_scorer.testing.models import ThresholdRaisingClassifier, expected_error
from tests.scorer_helpers import NUMERIC

CACHE = ArtefactCache("/cache")


def _predictor(model) -> SklearnPredictor:
    return SklearnPredictor(model, describe(model, pickle.dumps(model), "pickle", NUMERIC))


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    frame = demo_features(4, 6, np.random.default_rng(3))
    frame["f0"] = [0.1, -0.5, 1.0, 0.3, 2.5, -1.2]  # ThresholdRaisingClassifier raises on 2.5
    return frame


@pytest.fixture(scope="module")
def challenger() -> SklearnPredictor:
    return _predictor(train_demo_model("binary", 4, seed=1))


@pytest.fixture(scope="module")
def served():
    return _predictor(train_demo_model("binary", 4, seed=0)).manifest


def test_every_row_gets_the_challenger_s_prediction_and_probability(rows, challenger, served):
    good, ok = np.arange(6), np.ones(6, dtype=bool)

    columns = shadow_columns(challenger, served, rows, good, ok)

    model = challenger.model
    assert columns["shadow_prediction"].tolist() == model.predict(rows).tolist()
    np.testing.assert_allclose(columns["shadow_probability"], model.predict_proba(rows)[:, 1])
    assert columns["shadow_error"].tolist() == [None] * 6


def test_rows_the_served_model_did_not_score_stay_null_without_an_error(rows, challenger, served):
    good = np.array([0, 1, 2, 4, 5])  # row 3 did not decode
    ok = np.array([True, True, True, False, False, True])  # the served model refused row 4

    columns = shadow_columns(challenger, served, rows.iloc[good], good, ok)

    expected = challenger.model.predict(rows.iloc[[0, 1, 2, 5]]).tolist()
    prediction = columns["shadow_prediction"]
    assert prediction.isna().tolist() == [False, False, False, True, True, False]
    assert prediction.dropna().tolist() == expected
    assert columns["shadow_error"].tolist() == [None] * 6


def test_rows_the_challenger_raises_on_get_its_reason_and_null_columns(rows, served):
    raising = ThresholdRaisingClassifier().fit(rows, [0, 1, 0, 1, 0, 1])
    good, ok = np.arange(6), np.ones(6, dtype=bool)

    columns = shadow_columns(_predictor(raising), served, rows, good, ok)

    assert columns["shadow_prediction"].isna().tolist() == [False] * 4 + [True, False]
    assert columns["shadow_probability"].isna().tolist() == [False] * 4 + [True, False]
    assert columns["shadow_error"].tolist() == [None] * 4 + [expected_error(2.5), None]


def test_a_challenger_that_did_not_load_leaves_its_reason_on_every_scored_row(rows, served):
    ok = np.array([True] * 5 + [False])

    columns = shadow_columns("shadow v0002 did not load: boom", served, rows, np.arange(6), ok)

    assert columns["shadow_prediction"].isna().all()
    assert columns["shadow_error"].tolist() == ["shadow v0002 did not load: boom"] * 5 + [None]


def test_no_challenger_gives_null_columns_and_no_errors(rows, served):
    columns = shadow_columns(None, served, rows, np.arange(6), np.ones(6, dtype=bool))

    assert columns["shadow_prediction"].isna().all()
    assert columns["shadow_probability"].isna().all()
    assert columns["shadow_error"].tolist() == [None] * 6


def _image_model(version: str, manifest, mean: float, size: int) -> ServingModel:
    graph_input = TensorSpec("x", [None, 3, size, size], "float32")
    spec = OnnxSpec(
        input_format="image",
        inputs=[graph_input],
        outputs=[TensorSpec("y", [None, 2], "float32")],
        score_output="y",
        scores="probabilities",
        preprocessing=ImagePreprocessing(mean=[mean]),
    )
    onnx = dataclasses.replace(manifest, onnx=spec)
    return ServingModel(version=version, manifest=onnx, artefact=None, trusted_types=())


def test_an_image_challenger_is_compared_only_with_the_served_preprocessing(served):
    a = _image_model("v0001", served, 0.5, 32)

    assert skip_reason(a, _image_model("v0002", served, 0.5, 32)) is None
    for other in (_image_model("v0002", served, 0.0, 32), _image_model("v0002", served, 0.5, 64)):
        assert skip_reason(a, other) == (
            "shadow v0002 wants its images preprocessed or sized otherwise than served v0001; "
            "the rows are decoded once, for the served model"
        )


def test_the_challenger_loads_with_its_registry_s_trust_settings(served):
    serving = ServingModel("v0002", served, None, ("my.Model",), unsafe_load=True)

    shadow = ShadowModel.of(serving)

    assert (shadow.trusted_types, shadow.unsafe_load) == (("my.Model",), True)


def test_a_big_challenger_carries_its_mapped_artefact_under_its_own_key(served):
    artefact = CachedFileArtefact("/store/v0002/model.joblib", served.sha256, ".joblib", CACHE, "")
    serving = ServingModel("v0002", served, artefact, ())

    shadow = ShadowModel.of(serving)

    assert shadow.artefact is artefact
    assert shadow.cache_key == key_of("v0002", served.sha256)
