"""The onnx predictor: predictions equal onnxruntime's, with scikit-learn's meaning of
`probability` and `probabilities`, and a reason on every row when the graph raises."""

import numpy as np
import pytest

from stream_scorer.config.model_settings import OnnxModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.devtools.onnx_models import dense, resnet_cnn, small_cnn
from stream_scorer.features.factory import build_decoder
from stream_scorer.flavors.onnx.describe import describe_onnx
from stream_scorer.flavors.onnx.predictor import load
from tests.onnx_helpers import CLASSES, SIZE, direct_run, images, reference_input, softmax

IMAGES = FeaturesConfig(format="image")
NUMERIC = FeaturesConfig(schema={f"f{i}": "double" for i in range(4)})
TENSOR = FeaturesConfig(format="tensor", tensor_shape=[3, 8])


def _predictor(graph: bytes, features: FeaturesConfig, **options):
    return load(graph, describe_onnx(graph, features, OnnxModelConfig(**options)))


@pytest.fixture(scope="module")
def cnn() -> bytes:
    return small_cnn(SIZE, classes=2, seed=1)


def test_image_predictions_equal_a_direct_onnxruntime_run_row_by_row(cnn):
    predictor = _predictor(cnn, IMAGES, classes=CLASSES, scores="logits")
    values = images(40, seed=3) + images(10, seed=4, fmt="JPEG")

    decoded = build_decoder(IMAGES, predictor.manifest).decode(values)
    result = predictor.predict(decoded.features)

    proba = softmax(direct_run(cnn, [reference_input(v) for v in values], "image"))
    assert result.prediction.tolist() == [CLASSES[i] for i in proba.argmax(axis=1)]
    assert set(result.prediction) == set(CLASSES)
    np.testing.assert_allclose(result.probabilities, proba, rtol=1e-5)
    np.testing.assert_allclose(result.probability, proba[:, 1], rtol=1e-5)
    assert result.errors == [None] * 50


def test_resnet_depth_cnn_predicts_as_onnxruntime_in_runs_of_a_few_rows():
    graph = resnet_cnn((96, 96), classes=3, seed=2, width=4)  # 108 KB a row: 4 rows a run
    predictor = _predictor(graph, IMAGES, classes=["a", "b", "c"], scores="logits")
    values = images(9, seed=6)

    result = predictor.predict(build_decoder(IMAGES, predictor.manifest).decode(values).features)

    inputs = [reference_input(v, (96, 96)) for v in values]
    proba = softmax(direct_run(graph, inputs, "image"))
    np.testing.assert_allclose(result.probabilities, proba, rtol=1e-5)
    assert result.errors == [None] * 9


def test_probabilities_output_is_taken_as_is():
    graph = small_cnn(SIZE, classes=3, seed=1, softmax=True)
    predictor = _predictor(graph, IMAGES, classes=["a", "b", "c"])
    values = images(12, seed=5)

    result = predictor.predict(build_decoder(IMAGES, predictor.manifest).decode(values).features)

    proba = direct_run(graph, [reference_input(v) for v in values], "image")
    np.testing.assert_allclose(result.probabilities, proba, rtol=1e-5)
    np.testing.assert_allclose(result.probability, proba.max(axis=1), rtol=1e-5)
    assert result.prediction.tolist() == [["a", "b", "c"][i] for i in proba.argmax(axis=1)]


def test_one_logit_column_of_a_binary_model_gives_its_sigmoid():
    graph = dense([4], outputs=1, seed=2)
    predictor = _predictor(graph, NUMERIC, classes=[0, 1], scores="logits")
    rows = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)

    result = predictor.predict(rows)

    positive = 1 / (1 + np.exp(-direct_run(graph, [rows], "x")[:, 0].astype(np.float64)))
    np.testing.assert_allclose(result.probability, positive, rtol=1e-6)
    np.testing.assert_allclose(result.probabilities, np.column_stack([1 - positive, positive]))
    assert result.prediction.tolist() == (positive >= 0.5).astype(int).tolist()
    assert result.prediction.dtype == np.int64


def test_regressor_predicts_the_graph_output_as_doubles():
    graph = dense([3, 8], outputs=1, seed=3)
    predictor = _predictor(graph, TENSOR)
    tensors = np.random.default_rng(1).normal(size=(20, 3, 8)).astype(np.float32)

    result = predictor.predict(tensors)

    assert result.probability is None and result.probabilities is None
    assert result.prediction.dtype == np.float64
    np.testing.assert_array_equal(result.prediction, direct_run(graph, [tensors], "x")[:, 0])


def test_graph_that_raises_fails_every_row_with_the_reason():
    predictor = _predictor(dense([3, 8], seed=3), TENSOR)

    result = predictor.predict(np.zeros((2, 5), dtype=np.float32))

    assert result.errors[0] == result.errors[1]
    assert result.errors[0].startswith("model raised InvalidArgument: ")


@pytest.mark.parametrize("threads", [1, 2])
def test_session_runs_the_manifest_intra_op_thread_count(threads):
    predictor = _predictor(dense([3, 8]), TENSOR, intra_op_threads=threads)

    assert predictor.session.get_session_options().intra_op_num_threads == threads
