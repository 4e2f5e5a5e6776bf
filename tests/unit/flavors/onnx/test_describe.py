"""Publishing an ONNX graph: what the manifest records, and graphs refused with the reason."""

import re

import numpy as np
import pytest

from stream_scorer.config.model_settings import OnnxModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.contract.manifest import Manifest
from stream_scorer.contract.onnx_spec import ImagePreprocessing, TensorSpec
from stream_scorer.devtools.onnx_models import dense, small_cnn
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.onnx.describe import describe_onnx
from stream_scorer.versions.publish import publish_onnx
from stream_scorer.versions.verify import load_verified
from tests.onnx_helpers import CLASSES, SIZE

IMAGES = FeaturesConfig(format="image")
TENSOR = FeaturesConfig(format="tensor", tensor_shape=[3, 8])
LOGITS = OnnxModelConfig(classes=CLASSES, scores="logits")


@pytest.fixture(scope="module")
def cnn() -> bytes:
    return small_cnn(SIZE, classes=2, seed=1)


def test_manifest_records_the_graph_io_task_classes_and_preprocessing(cnn):
    manifest = describe_onnx(cnn, IMAGES, LOGITS)

    spec = manifest.onnx
    assert (manifest.kind, manifest.format, manifest.file) == ("onnx", "onnx", "model.onnx")
    assert (manifest.task, manifest.prediction_type, manifest.classes) == (
        "binary",
        "string",
        CLASSES,
    )
    assert spec.inputs == [TensorSpec("image", ["N", 3, 64, 64], "float32")]
    assert spec.outputs == [TensorSpec("logits", ["N", 2], "float32")]
    assert (spec.input_format, spec.score_output, spec.scores) == ("image", "logits", "logits")
    assert spec.preprocessing == ImagePreprocessing()
    assert spec.intra_op_threads == 1
    assert manifest.input_signature == "image"
    assert len(manifest.canary.rows) == 3
    assert np.asarray(manifest.canary.probabilities).shape == (3, 2)


def test_manifest_round_trips_through_json(cnn):
    manifest = describe_onnx(cnn, IMAGES, LOGITS)

    assert Manifest.from_json(manifest.to_json()) == manifest


def test_json_graph_with_another_feature_count_is_refused_with_the_reason():
    features = FeaturesConfig(schema={"f0": "double", "f1": "double", "f2": "double"})

    with pytest.raises(ModelRejectedError) as caught:
        describe_onnx(dense([4]), features, OnnxModelConfig())

    assert str(caught.value) == (
        "graph input 'x' of shape ['N', 4] does not fit the config's features (json): "
        "dimension 1 is 4, features give 3"
    )


def test_image_graph_with_another_channel_count_is_refused_with_the_reason(cnn):
    gray = OnnxModelConfig(classes=CLASSES, image={"color": "grayscale"})

    with pytest.raises(ModelRejectedError) as caught:
        describe_onnx(cnn, IMAGES, gray)

    assert str(caught.value) == (
        "graph input 'image' of shape ['N', 3, 64, 64] does not fit the config's features "
        "(image): it has 3 channels (nchw), grayscale gives 1"
    )


def test_tensor_graph_of_another_shape_is_refused_with_the_reason():
    with pytest.raises(ModelRejectedError) as caught:
        describe_onnx(dense([4, 8]), TENSOR, OnnxModelConfig())

    assert str(caught.value) == (
        "graph input 'x' of shape ['N', 4, 8] does not fit the config's features "
        "(tensor float32[3, 8]): dimension 1 is 4, features.tensor_shape give 3"
    )


def test_scores_declared_probabilities_that_are_not_are_refused(cnn):
    with pytest.raises(ModelRejectedError, match=re.escape("set model.onnx.scores: logits")):
        describe_onnx(cnn, IMAGES, OnnxModelConfig(classes=CLASSES))


def test_score_columns_that_do_not_match_the_classes_are_refused(cnn):
    with pytest.raises(ModelRejectedError) as caught:
        describe_onnx(cnn, IMAGES, OnnxModelConfig(classes=["a", "b", "c"], scores="logits"))

    assert str(caught.value) == (
        "graph output 'logits' has 2 scores per row for 3 classes ['a', 'b', 'c']; "
        "expected 3 (or 1 for a binary model)"
    )


def test_published_version_loads_verified_with_its_canary(tmp_path, store, cnn):
    path = tmp_path / "cnn.onnx"
    path.write_bytes(cnn)
    publish_onnx(store, path, IMAGES, LOGITS)

    verified = load_verified(store, "v0001", {}, input_signature="image")

    assert verified.manifest == store.manifest("v0001")
    assert verified.predictor.canary(verified.manifest.canary.rows) == verified.manifest.canary


def test_reload_refuses_a_version_for_another_input(tmp_path, store, cnn):
    path = tmp_path / "cnn.onnx"
    path.write_bytes(cnn)
    publish_onnx(store, path, IMAGES, LOGITS)

    with pytest.raises(ModelRejectedError) as caught:
        load_verified(store, "v0001", {}, input_signature="tensor float32[3, 8]")

    assert str(caught.value) == (
        "v0001 refused: the model takes image input, the config declares tensor float32[3, 8]"
    )
