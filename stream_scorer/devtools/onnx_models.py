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


def resnet_cnn(
    size: tuple[int, int] = (224, 224),
    channels: int = 3,
    classes: int = 2,
    seed: int = 0,
    width: int = 16,
) -> bytes:
    """ResNet-18's depth at a quarter of its width: input 'image' (N, channels, H, W) float32,
    output 'logits' (N, classes).

    Conv 7x7/2 (`width`) -> ReLU -> MaxPool 3x3/2 -> 4 stages of 2 basic blocks (Conv 3x3 ->
    ReLU -> Conv 3x3, plus the block's input, -> ReLU) of `width` x 1, 2, 4, 8 channels, each
    stage after the first halving the size (its first block's shortcut a Conv 1x1/2) ->
    global average pool -> Gemm: 20 convolutions and the classifier, batch normalisation
    folded into the convolutions as exported models have it. He-initialised seeded weights.
    """
    from onnx import TensorProto, helper

    rng = np.random.default_rng(seed)
    weights: dict[str, np.ndarray] = {}
    nodes: list = []

    def conv(source: str, name: str, ins: int, outs: int, kernel: int, stride: int) -> str:
        fan_in = ins * kernel * kernel
        weights[f"{name}_w"] = rng.normal(0, np.sqrt(2 / fan_in), (outs, ins, kernel, kernel))
        weights[f"{name}_b"] = rng.normal(0, 0.01, outs)
        pad = kernel // 2
        nodes.append(
            helper.make_node(
                "Conv",
                [source, f"{name}_w", f"{name}_b"],
                [name],
                kernel_shape=[kernel, kernel],
                strides=[stride, stride],
                pads=[pad] * 4,
            )
        )
        return name

    def relu(source: str) -> str:
        nodes.append(helper.make_node("Relu", [source], [f"{source}_r"]))
        return f"{source}_r"

    x = relu(conv("image", "stem", channels, width, 7, 2))
    pool: dict[str, Any] = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1] * 4}
    nodes.append(helper.make_node("MaxPool", [x], ["pool"], **pool))
    x, ins = "pool", width
    for stage in range(4):
        outs = width * 2**stage
        for block in range(2):
            stride = 2 if stage and not block else 1
            name = f"s{stage}b{block}"
            y = relu(conv(x, f"{name}c1", ins, outs, 3, stride))
            y = conv(y, f"{name}c2", outs, outs, 3, 1)
            shortcut = conv(x, f"{name}sc", ins, outs, 1, stride) if stride > 1 else x
            nodes.append(helper.make_node("Add", [y, shortcut], [f"{name}_sum"]))
            x, ins = relu(f"{name}_sum"), outs
    weights["fc_w"] = rng.normal(0, 1 / np.sqrt(ins), (ins, classes))
    weights["fc_b"] = rng.normal(0, 0.01, classes)
    nodes += [
        helper.make_node("GlobalAveragePool", [x], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"]),
    ]
    image = helper.make_tensor_value_info(
        "image", TensorProto.FLOAT, ["N", channels, size[0], size[1]]
    )
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])
    return _model(nodes, [image], [output], weights, "resnet_cnn")


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
