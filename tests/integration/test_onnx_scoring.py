"""ONNX models end to end: Kafka -> image/tensor decoder -> onnxruntime -> Parquet, through a
real query on the real broker, with bad inputs dead-lettered and a mid-stream reload."""

import numpy as np
import pytest

from stream_scorer.config.model_settings import OnnxModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.devtools.onnx_models import dense, small_cnn
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.versions.publish import publish_onnx
from stream_scorer.versions.store import ModelStore
from tests.kafka_helpers import create_topic, produce_exact
from tests.onnx_helpers import (
    CLASSES,
    SIZE,
    direct_run,
    images,
    png_declaring,
    reference_input,
    softmax,
    truncated,
)
from tests.scorer_helpers import read_sink, scorer_config

pytestmark = pytest.mark.integration

IMAGES = {"format": "image"}
LOGITS = OnnxModelConfig(classes=CLASSES, scores="logits")


def _publish(tmp_path, graph: bytes, features: dict, options: OnnxModelConfig) -> str:
    path = tmp_path / f"graph-{len(list(tmp_path.glob('graph-*')))}.onnx"
    path.write_bytes(graph)
    store = ModelStore(tmp_path / "models")
    return publish_onnx(store, path, FeaturesConfig(**features), options).version


def _by_offset(frame, column):
    return frame.sort_values("offset")[column].tolist()


def test_image_predictions_equal_onnxruntime_and_bad_images_are_dead_lettered(
    tmp_path, spark, bootstrap
):
    topic = create_topic(bootstrap, 1)
    good = images(40, seed=7) + images(20, seed=8, fmt="JPEG")
    bad = {b"not an image": "not a PNG or JPEG image"}
    bad[truncated(good[0])] = "PNG image cannot be decoded: image file is truncated"
    bad[png_declaring(5000, 5000)] = (
        "image declares 5000x5000 = 25000000 pixels, over the limit of 16777216 "
        "(features.max_image_pixels); not decoded"
    )
    values = good[:10] + list(bad) + good[10:]
    produce_exact(bootstrap, topic, {0: values})
    graph = small_cnn(SIZE, classes=2, seed=1)
    _publish(tmp_path, graph, IMAGES, LOGITS)

    Scorer(scorer_config(tmp_path, bootstrap, topic, features=IMAGES), spark=spark, once=True).run()

    scored = read_sink(spark, tmp_path / "predictions")
    dead = read_sink(spark, tmp_path / "dead-letter")
    proba = softmax(direct_run(graph, [reference_input(v) for v in good], "image"))
    good_offsets = list(range(10)) + list(range(13, 63))
    assert sorted(scored["offset"]) == good_offsets
    assert _by_offset(scored, "prediction") == [CLASSES[i] for i in proba.argmax(axis=1)]
    np.testing.assert_allclose(np.stack(_by_offset(scored, "probabilities")), proba, rtol=1e-5)
    np.testing.assert_allclose(_by_offset(scored, "probability"), proba[:, 1], rtol=1e-5)
    assert set(scored["model_version"]) == {"v0001"}
    assert _by_offset(dead, "offset") == [10, 11, 12]
    assert _by_offset(dead, "error") == list(bad.values())


def test_tensor_of_the_wrong_length_is_dead_lettered_and_the_others_scored(
    tmp_path, spark, bootstrap
):
    topic = create_topic(bootstrap, 1)
    tensors = np.random.default_rng(2).normal(size=(30, 3, 8)).astype("<f4")
    values = [t.tobytes() for t in tensors]
    values.insert(5, values[0][:-4])
    produce_exact(bootstrap, topic, {0: values})
    features = {"format": "tensor", "tensor_shape": [3, 8]}
    graph = dense([3, 8], outputs=1, seed=3)
    _publish(tmp_path, graph, features, OnnxModelConfig())

    Scorer(
        scorer_config(tmp_path, bootstrap, topic, features=features), spark=spark, once=True
    ).run()

    scored = read_sink(spark, tmp_path / "predictions")
    dead = read_sink(spark, tmp_path / "dead-letter")
    np.testing.assert_array_equal(
        _by_offset(scored, "prediction"), direct_run(graph, [tensors], "x")[:, 0]
    )
    assert dead["offset"].tolist() == [5]
    assert dead["error"].tolist() == [
        "tensor value has 92 bytes, expected 96 (float32 of shape [3, 8])"
    ]


def test_new_onnx_version_serves_from_the_next_batch(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    first, second = images(30, seed=11), images(30, seed=12)
    v1, v2 = small_cnn(SIZE, classes=2, seed=1), small_cnn(SIZE, classes=2, seed=0)
    _publish(tmp_path, v1, IMAGES, LOGITS)
    query = Scorer(scorer_config(tmp_path, bootstrap, topic, features=IMAGES), spark=spark).start()
    try:
        produce_exact(bootstrap, topic, {0: first})
        query.processAllAvailable()
        assert _publish(tmp_path, v2, IMAGES, LOGITS) == "v0002"
        produce_exact(bootstrap, topic, {0: second})
        query.processAllAvailable()
    finally:
        query.stop()

    scored = read_sink(spark, tmp_path / "predictions")
    assert _by_offset(scored, "model_version") == ["v0001"] * 30 + ["v0002"] * 30
    for graph, values, rows in ((v1, first, slice(0, 30)), (v2, second, slice(30, 60))):
        proba = softmax(direct_run(graph, [reference_input(v) for v in values], "image"))
        probabilities = np.stack(_by_offset(scored, "probabilities")[rows])
        np.testing.assert_allclose(probabilities, proba, rtol=1e-5)
