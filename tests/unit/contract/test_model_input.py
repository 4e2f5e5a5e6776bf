"""model_input: the layout each kind of model gets, without sklearn feature-name warnings."""

import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from stream_scorer.contract.model_input import model_input
from tests.scorer_helpers import NUMERIC, TEXT

BATCH = pd.DataFrame(
    {
        "id": [7, 8, 9],
        "f3": [3, 4, 5],
        "f0": [0.5, -1.0, 2.0],
        "f1": [1.0, 1.0, 1.0],
        "f2": [0.0, 0.25, -0.25],
        "text": ["free prize", "lunch notes", ""],
    }
)


def test_numeric_features_become_a_float64_frame_in_feature_order():
    features = model_input(BATCH, list(NUMERIC), NUMERIC)

    assert isinstance(features, pd.DataFrame)
    assert list(features.columns) == ["f0", "f1", "f2", "f3"]
    assert set(features.dtypes) == {np.dtype(np.float64)}
    assert features["f3"].tolist() == [3.0, 4.0, 5.0]


def test_single_string_feature_becomes_a_1d_array_of_str():
    features = model_input(BATCH, ["text"], TEXT)

    assert isinstance(features, np.ndarray)
    assert features.ndim == 1
    assert features.tolist() == ["free prize", "lunch notes", ""]


def test_array_layout_gives_a_2d_float64_array():
    features = model_input(BATCH, list(NUMERIC), NUMERIC, "array")

    assert features.dtype == np.float64
    assert features.tolist() == [
        [0.5, 1.0, 0.0, 3.0],
        [-1.0, 1.0, 0.25, 4.0],
        [2.0, 1.0, -0.25, 5.0],
    ]


def test_mixed_features_keep_strings_and_make_numbers_float64():
    types = {"text": "string", "f3": "long"}

    features = model_input(BATCH, list(types), types)

    assert list(features.columns) == ["text", "f3"]
    assert features["f3"].dtype == np.float64
    assert features["text"].tolist() == ["free prize", "lunch notes", ""]


def test_the_input_frame_is_left_unchanged():
    before = BATCH.copy()

    model_input(BATCH, list(NUMERIC), NUMERIC)

    pd.testing.assert_frame_equal(BATCH, before)


def test_model_fitted_on_a_frame_predicts_its_frame_input_without_warnings(demo_model):
    features = model_input(BATCH, list(NUMERIC), NUMERIC, "frame")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(demo_model("binary").predict(features)) == 3


def test_model_fitted_on_arrays_predicts_its_array_input_without_warnings():
    x = np.random.default_rng(0).normal(size=(40, 4))
    model = LogisticRegression().fit(x, x[:, 0] > 0)
    features = model_input(BATCH, list(NUMERIC), NUMERIC, "array")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(model.predict(features)) == 3
