"""Small ONNX graphs built with the `onnx` helper API, with seeded random weights.

For tests, the benchmark and demos: no weights are downloaded and no deep-learning framework
is needed. Each builder returns the serialised graph (the bytes of a `.onnx` file).
"""

from collections.abc import Sequence
from typing import Any

import numpy as np

OPSET = 17
"""An opset every onnxruntime >= 1.14 runs."""


def small_cnn(
    size: tuple[int, int] = (64, 64),
    channels: int = 3,
    classes: int = 2,
    seed: int = 0,
    softmax: bool = False,
) -> bytes:
    """An image classifier: input 'image' (N, channels, H, W) float32, output 'logits'
    (N, classes), or 'probabilities' with `softmax`.

    Conv 3x3 (8) -> ReLU -> MaxPool 2 -> Conv 3x3 (16) -> ReLU -> global average pool -> Gemm.
    """
    from onnx import TensorProto, helper

    rng = np.random.default_rng(seed)
    weights = {
        "w1": rng.normal(0, 0.5, (8, channels, 3, 3)),
        "b1": rng.normal(0, 0.1, 8),
        "w2": rng.normal(0, 0.3, (16, 8, 3, 3)),
        "b2": rng.normal(0, 0.1, 16),
        "w3": rng.normal(0, 1.0, (16, classes)),
        "b3": rng.normal(0, 0.1, classes),
    }
    pad: dict[str, Any] = {"pads": [1, 1, 1, 1]}
    out = "probabilities" if softmax else "logits"
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], kernel_shape=[3, 3], **pad),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], kernel_shape=[3, 3], **pad),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["logits"]),
    ]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["logits"], [out], axis=1))
    image = helper.make_tensor_value_info(
        "image", TensorProto.FLOAT, ["N", channels, size[0], size[1]]
    )
    output = helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", classes])
    return _model(nodes, [image], [output], weights, "small_cnn")


def dense(input_shape: Sequence[int], outputs: int = 1, seed: int = 0, name: str = "x") -> bytes:
    """A one-hidden-layer MLP: input `name` (N, *input_shape) float32, flattened, ReLU layer
    of 16, output 'scores' (N, outputs)."""
    from onnx import TensorProto, helper

    rng = np.random.default_rng(seed)
    width = int(np.prod(input_shape))
    weights = {
        "w1": rng.normal(0, 0.5, (width, 16)),
        "b1": rng.normal(0, 0.1, 16),
        "w2": rng.normal(0, 0.5, (16, outputs)),
        "b2": rng.normal(0, 0.1, outputs),
    }
    nodes = [
        helper.make_node("Flatten", [name], ["flat"]),
        helper.make_node("Gemm", ["flat", "w1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Gemm", ["hr", "w2", "b2"], ["scores"]),
    ]
    source = helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", *input_shape])
    output = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", outputs])
    return _model(nodes, [source], [output], weights, "dense")


def _model(nodes: list, inputs: list, outputs: list, weights: dict, name: str) -> bytes:
    from onnx import checker, helper, numpy_helper

    initializers = [
        numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in weights.items()
    ]
    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="stream-scorer"
    )
    model.ir_version = 8
    checker.check_model(model)
    return model.SerializeToString()
