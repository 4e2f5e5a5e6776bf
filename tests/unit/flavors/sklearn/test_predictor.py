"""predict_rows and the per-worker model cache, on the demo models (no Spark)."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import SVC

from stream_scorer.contract.model_input import model_input
from stream_scorer.devtools.demo_models import demo_features, demo_texts, train_demo_model
from stream_scorer.flavors.sklearn.describe import describe
from stream_scorer.flavors.sklearn.predictor import predict_rows

NUMERIC = {f"f{i}": "double" for i in range(4)}


def _manifest(model: object, feature_types: dict[str, str] = NUMERIC):
    return describe(model, pickle.dumps(model), "pickle", feature_types)


def _inputs(frame: pd.DataFrame, manifest) -> object:
    return model_input(frame, manifest.feature_names, manifest.feature_types, manifest.input_layout)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return demo_features(4, 200, np.random.default_rng(7))


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_classifier_prediction_equals_model_predict(kind: str, rows: pd.DataFrame) -> None:
    model = train_demo_model(kind, 4)
    manifest = _manifest(model)
    inputs = _inputs(rows, manifest)
    result = predict_rows(model, inputs, manifest)
    assert result.prediction.dtype == np.int64
    np.testing.assert_array_equal(result.prediction, model.predict(inputs))
    assert result.errors == [None] * 200


def _classified(rows: pd.DataFrame, kind: str):
    """(manifest, predict_rows' result, the model's own predict_proba) of a demo `kind` model."""
    model = train_demo_model(kind, 4)
    manifest = _manifest(model)
    inputs = _inputs(rows, manifest)
    return manifest, predict_rows(model, inputs, manifest), model.predict_proba(inputs)


def test_binary_probability_is_p_of_second_class(rows: pd.DataFrame) -> None:
    _, result, proba = _classified(rows, "binary")
    np.testing.assert_array_equal(result.probabilities, proba)
    np.testing.assert_array_equal(result.probability, proba[:, 1])


def test_multiclass_probability_is_p_of_predicted_class(rows: pd.DataFrame) -> None:
    manifest, result, proba = _classified(rows, "multiclass")
    assert manifest.classes == [0, 1, 2]
    assert result.probabilities.shape == (200, 3)
    np.testing.assert_array_equal(result.probability, proba[np.arange(200), result.prediction])


def test_regression_prediction_equals_model_predict(rows: pd.DataFrame) -> None:
    model = train_demo_model("regression", 4)
    manifest = _manifest(model)
    inputs = _inputs(rows, manifest)
    result = predict_rows(model, inputs, manifest)
    np.testing.assert_array_equal(result.prediction, model.predict(inputs))
    assert result.probability is None
    assert result.probabilities is None


def test_text_pipeline_prediction_equals_model_predict() -> None:
    model = train_demo_model("text")
    manifest = _manifest(model, {"text": "string"})
    texts, _ = demo_texts(100, np.random.default_rng(3))
    inputs = _inputs(pd.DataFrame({"text": texts}), manifest)
    result = predict_rows(model, inputs, manifest)
    assert result.prediction.dtype == object
    assert result.prediction.tolist() == model.predict(inputs).tolist()
    assert manifest.classes == ["ham", "spam"]
    np.testing.assert_allclose(result.probabilities, model.predict_proba(inputs))


@pytest.mark.filterwarnings("ignore::FutureWarning")  # SVC(probability=True), deprecated in 1.9
def test_svc_prediction_equals_its_predict_not_argmax_of_proba(rows: pd.DataFrame) -> None:
    noise = np.random.default_rng(0).normal(size=len(rows))
    model = SVC(probability=True, random_state=0).fit(rows, (rows["f0"] + noise > 0).astype(int))
    argmax = model.classes_[model.predict_proba(rows).argmax(axis=1)]
    assert (argmax != model.predict(rows)).sum() == 2  # Platt scaling disagrees on 2 rows
    manifest = _manifest(model)
    result = predict_rows(model, _inputs(rows, manifest), manifest)
    np.testing.assert_array_equal(result.prediction, model.predict(rows))


class _Fussy(LogisticRegression):
    """Raises on any batch holding a row with f0 > 100."""

    def predict_proba(self, X):
        if (np.asarray(X)[:, 0] > 100).any():
            msg = "f0 too large"
            raise ValueError(msg)
        return super().predict_proba(X)


def test_rows_the_model_raises_on_are_the_only_errors(rows: pd.DataFrame) -> None:
    model = _Fussy().fit(rows, (rows["f0"] > 0).astype(np.int64))
    manifest = _manifest(model)
    frame = rows.copy()
    frame.loc[[3, 150, 151], "f0"] = 1000.0
    result = predict_rows(model, _inputs(frame, manifest), manifest)
    errored = [i for i, e in enumerate(result.errors) if e is not None]
    assert errored == [3, 150, 151]
    assert result.errors[3] == "model raised ValueError: f0 too large"
    fine = frame.drop(index=[3, 150, 151])
    expected = LogisticRegression.predict(model, fine)
    np.testing.assert_array_equal(np.delete(result.prediction, errored), expected)


class _Gappy(Ridge):
    """Returns NaN for rows with f1 > 1."""

    def predict(self, X):
        out = super().predict(X)
        out[np.asarray(X)[:, 1] > 1] = np.nan
        return out


def test_non_finite_regression_output_is_a_row_error(rows: pd.DataFrame) -> None:
    model = _Gappy().fit(rows, rows["f0"])
    manifest = _manifest(model)
    result = predict_rows(model, _inputs(rows, manifest), manifest)
    expected = np.flatnonzero(rows["f1"].to_numpy() > 1).tolist()
    assert expected
    assert [i for i, e in enumerate(result.errors) if e] == expected
    assert result.errors[expected[0]] == "model returned a non-finite prediction (nan)"
