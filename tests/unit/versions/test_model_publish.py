"""Publishing each kind of model: what the manifest records, and what publish refuses."""

import hashlib
import operator
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from stream_scorer.contract.model_input import model_input
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.sklearn.describe import synthetic_rows
from stream_scorer.testing.models import ThresholdRaisingClassifier
from stream_scorer.versions.publish import publish_sklearn
from tests.hostile_pickle import Calls
from tests.scorer_helpers import NUMERIC, TEXT

RAISING_TYPE = "stream_scorer.testing.models.ThresholdRaisingClassifier"


@pytest.mark.parametrize(
    ("kind", "ext", "task", "prediction_type", "classes", "layout"),
    [
        ("binary", "joblib", "binary", "long", [0, 1], "frame"),
        ("multiclass", "pkl", "multiclass", "long", [0, 1, 2], "frame"),
        ("regression", "joblib", "regression", "double", None, "frame"),
        ("text", "joblib", "binary", "string", ["ham", "spam"], "column"),
        ("binary", "skops", "binary", "long", [0, 1], "frame"),
        ("text", "skops", "binary", "string", ["ham", "spam"], "column"),
    ],
)
def test_publish_records_task_classes_and_input_layout(
    store, model_file, kind, ext, task, prediction_type, classes, layout
):
    path = model_file(kind, ext)
    schema = TEXT if kind == "text" else NUMERIC

    manifest = publish_sklearn(store, path, schema)

    assert (manifest.task, manifest.prediction_type, manifest.classes) == (
        task,
        prediction_type,
        classes,
    )
    assert manifest.input_layout == layout
    assert manifest.feature_names == list(schema)
    assert manifest.feature_types == schema
    assert manifest.file == f"model.{ext}"
    assert manifest.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert store.manifest(manifest.version) == manifest


def test_text_pipeline_is_named_with_its_steps(store, model_file):
    manifest = publish_sklearn(store, model_file("text"), TEXT)

    assert manifest.estimator == "Pipeline(HashingVectorizer, MultinomialNB)"


def test_synthetic_canary_holds_the_model_outputs(store, model_file, demo_model):
    manifest = publish_sklearn(store, model_file("binary"), NUMERIC)

    rows = [dict.fromkeys(NUMERIC, v) for v in (0.0, 1.0, -1.5)]
    frame = pd.DataFrame(rows)
    model = demo_model("binary")
    assert manifest.canary.rows == rows
    assert manifest.canary.predictions == model.predict(frame).tolist()
    assert manifest.canary.probabilities == model.predict_proba(frame).tolist()


def test_regression_canary_has_no_probabilities(store, model_file):
    manifest = publish_sklearn(store, model_file("regression"), NUMERIC)

    assert len(manifest.canary.predictions) == 3
    assert manifest.canary.probabilities is None


def test_synthetic_rows_follow_the_feature_types():
    rows = synthetic_rows({"x": "double", "n": "long", "s": "string", "b": "boolean"})

    assert rows == [
        {"x": 0.0, "n": 0, "s": "", "b": False},
        {"x": 1.0, "n": 1, "s": "canary text", "b": True},
        {"x": -1.5, "n": -1, "s": "", "b": False},
    ]


def test_given_canary_rows_are_stored_with_their_predictions(store, model_file, demo_model):
    rows = [{"text": "free prize click"}, {"text": "lunch meeting notes"}]

    manifest = publish_sklearn(store, model_file("text"), TEXT, canary_rows=rows)

    assert manifest.canary.rows == rows
    assert manifest.canary.predictions == ["spam", "ham"]


def test_canary_row_without_a_feature_is_refused(store, model_file):
    with pytest.raises(ModelRejectedError, match=r"missing \['f3'\]"):
        publish_sklearn(
            store, model_file("binary"), NUMERIC, canary_rows=[{"f0": 1, "f1": 2, "f2": 3}]
        )
    assert store.versions() == []


def test_library_versions_are_recorded(store, model_file):
    manifest = publish_sklearn(store, model_file("binary"), NUMERIC)

    assert manifest.library_versions["scikit-learn"] == sklearn.__version__
    assert manifest.library_versions["numpy"] == np.__version__
    assert set(manifest.library_versions) == {"python", "scikit-learn", "numpy", "joblib"}


def test_feature_names_in_a_different_order_are_refused(store, model_file):
    swapped = {"f1": "double", "f0": "double", "f2": "double", "f3": "double"}

    with pytest.raises(ModelRejectedError, match="fitted on features"):
        publish_sklearn(store, model_file("binary"), swapped)
    assert store.versions() == []


def test_model_fitted_on_arrays_with_another_feature_count_is_refused(store, tmp_path):
    x = np.random.default_rng(0).normal(size=(40, 3))
    path = save_model(LogisticRegression().fit(x, x[:, 0] > 0), tmp_path / "arrays.joblib")

    with pytest.raises(ModelRejectedError, match="expects 3 features but the schema declares 4"):
        publish_sklearn(store, path, NUMERIC)


def test_model_fitted_on_arrays_gets_the_array_layout(store, tmp_path):
    x = np.random.default_rng(0).normal(size=(40, 4))
    path = save_model(LogisticRegression().fit(x, x[:, 0] > 0), tmp_path / "arrays.joblib")

    manifest = publish_sklearn(store, path, NUMERIC)

    assert manifest.input_layout == "array"
    assert manifest.prediction_type == "boolean"
    assert manifest.classes == [False, True]


def test_transformer_that_is_not_a_predictor_is_refused(store, tmp_path):
    frame = pd.DataFrame(np.ones((5, 4)), columns=list(NUMERIC))
    path = save_model(StandardScaler().fit(frame), tmp_path / "scaler.joblib")

    with pytest.raises(ModelRejectedError, match="neither a fitted classifier nor a regressor"):
        publish_sklearn(store, path, NUMERIC)


def test_unknown_feature_type_is_refused(store, model_file):
    schema = {**NUMERIC, "f3": "decimal"}

    with pytest.raises(ModelRejectedError, match="'f3': 'decimal'"):
        publish_sklearn(store, model_file("binary"), schema)


def test_file_that_is_not_a_model_is_refused_naming_it(store, tmp_path):
    path = tmp_path / "notes.joblib"
    path.write_bytes(b"not a model at all")

    with pytest.raises(ModelRejectedError, match=r"notes\.joblib: cannot load as joblib"):
        publish_sklearn(store, path, NUMERIC)


def test_skops_model_with_a_type_trusted_by_the_caller_publishes(store, tmp_path):
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 4)), columns=list(NUMERIC))
    model = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression())
    path = save_model(model.fit(frame, frame["f0"] > 0), tmp_path / "neg.skops")

    manifest = publish_sklearn(store, path, NUMERIC, trusted_types=["_operator.neg"])

    assert manifest.format == "skops"


def test_demo_models_are_deterministic_for_a_seed():
    frame = model_input(pd.DataFrame([dict.fromkeys(NUMERIC, 0.5)]), list(NUMERIC), NUMERIC)

    first, again = train_demo_model("regression", seed=3), train_demo_model("regression", seed=3)

    assert first.predict(frame).tolist() == again.predict(frame).tolist()


def test_unknown_demo_model_kind_raises():
    with pytest.raises(ValueError, match="'forest'"):
        train_demo_model("forest")


@pytest.mark.parametrize("ext", ["joblib", "pkl"])
def test_hostile_pickle_is_refused_at_publish_before_it_runs(store, tmp_path, ext):
    marker = tmp_path / "pwned"
    path = save_model(Calls(os.system, f"touch {marker}"), tmp_path / f"hostile.{ext}")

    with pytest.raises(ModelRejectedError, match=r"hostile\.\w+ refused: .* posix\.system, which"):
        publish_sklearn(store, path, NUMERIC)
    assert not marker.exists()
    assert store.versions() == []


@pytest.fixture
def custom_model_file(tmp_path) -> Path:
    x = np.random.default_rng(0).normal(size=(40, 4))
    model = ThresholdRaisingClassifier(5.0).fit(x, x[:, 0] > 0)
    return save_model(model, tmp_path / "custom.joblib")


def test_type_trusted_at_publish_is_recorded_in_the_manifest(store, custom_model_file):
    manifest = publish_sklearn(store, custom_model_file, NUMERIC, trusted_types=[RAISING_TYPE])

    assert (manifest.trusted_types, manifest.unsafe_load) == ([RAISING_TYPE], False)
    assert store.manifest(manifest.version).trusted_types == [RAISING_TYPE]


def test_unsafe_publish_warns_and_is_recorded_in_the_manifest(store, custom_model_file, caplog):
    manifest = publish_sklearn(store, custom_model_file, NUMERIC, unsafe_load=True)

    assert store.manifest(manifest.version).unsafe_load is True
    assert "joblib artefact with no allowlist" in caplog.text
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def _multi_output_regressor() -> object:
    from sklearn.linear_model import LinearRegression

    x = np.random.default_rng(0).normal(size=(40, len(NUMERIC)))
    return LinearRegression().fit(pd.DataFrame(x, columns=list(NUMERIC)), np.c_[x[:, 0], x[:, 1]])


def test_multi_output_model_is_refused_at_publish(store, tmp_path):
    path = save_model(_multi_output_regressor(), tmp_path / "two_outputs.joblib")

    with pytest.raises(
        ModelRejectedError, match=r"predict gave shape \(3, 2\), expected \(3,\) for 3 canary rows"
    ):
        publish_sklearn(store, path, NUMERIC)
    assert store.versions() == []
