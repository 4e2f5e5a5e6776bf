"""Does an ONNX graph take what the config's features produce? Checked at publish, with the
reason when it does not; and which graph output holds the scores."""

from stream_scorer.config.settings import COLUMNAR, FeaturesConfig
from stream_scorer.contract.onnx_spec import Dim, ImagePreprocessing, TensorSpec
from stream_scorer.errors import ModelRejectedError
from stream_scorer.types import TYPES

FLOATS = ("float32", "float64")
"""Element types a graph input may have: decoders produce floats."""


def check_input(
    graph_input: TensorSpec, features: FeaturesConfig, preprocessing: ImagePreprocessing | None
) -> None:
    """Raise ModelRejectedError unless `graph_input` takes a batch of what `features` decode.

    json: (batch, number of features), all numeric. image: 4-D in the preprocessing's layout,
    with its channel count and a fixed height and width. tensor: (batch, *tensor_shape).
    """
    name, shape = graph_input.name, graph_input.shape
    problems = []
    if graph_input.element_type not in FLOATS:
        problems.append(f"its elements are {graph_input.element_type}, not {' or '.join(FLOATS)}")
    if features.format in COLUMNAR:
        text = [n for n, kind in features.feature_schema.items() if not TYPES[kind].numeric]
        if text:
            problems.append(f"it takes numbers, and features {text} are strings")
        problems += _mismatch(shape, [len(features.feature_schema)], "features")
    elif features.format == "tensor":
        problems += _mismatch(shape, list(features.tensor_shape or []), "features.tensor_shape")
    elif preprocessing is not None:
        problems += _image_problems(shape, preprocessing)
    if problems:
        msg = f"graph input '{name}' of shape {shape} does not fit the config's "
        msg += f"features ({features.input_signature}): {'; '.join(problems)}"
        raise ModelRejectedError(msg)


def score_output(outputs: list[TensorSpec], wanted: str | None) -> TensorSpec:
    """The output named `wanted`, else the first float output (e.g. skl2onnx's probabilities
    after its int64 label)."""
    floats = [o for o in outputs if o.element_type in FLOATS]
    if wanted is not None:
        found = [o for o in outputs if o.name == wanted]
        if not found or found[0].element_type not in FLOATS:
            msg = f"graph output {wanted!r} is not a float output; float outputs: "
            raise ModelRejectedError(msg + str([o.name for o in floats]))
        return found[0]
    if not floats:
        msg = f"the graph has no float tensor output to read scores from: {outputs}"
        raise ModelRejectedError(msg)
    return floats[0]


def _mismatch(shape: list[Dim], expected: list[int], what: str) -> list[str]:
    """Problems of a (batch, *expected) input shape; symbolic dimensions fit any size."""
    if len(shape) != len(expected) + 1:
        return [f"it has {len(shape)} dimensions, {what} make {len(expected) + 1}"]
    return [
        f"dimension {i + 1} is {dim}, {what} give {size}"
        for i, (dim, size) in enumerate(zip(shape[1:], expected, strict=True))
        if isinstance(dim, int) and dim != size
    ]


def _image_problems(shape: list[Dim], preprocessing: ImagePreprocessing) -> list[str]:
    layout = preprocessing.layout
    if len(shape) != 4:
        return [f"an image input has 4 dimensions ({layout})"]
    channels = shape[1] if layout == "nchw" else shape[3]
    sizes = shape[2:] if layout == "nchw" else shape[1:3]
    problems = []
    if channels != preprocessing.channels:
        problems.append(
            f"it has {channels} channels ({layout}), {preprocessing.color} gives "
            f"{preprocessing.channels}"
        )
    if not all(isinstance(d, int) and d > 0 for d in sizes):
        problems.append(f"its height and width {sizes} must be fixed sizes to resize to")
    return problems
