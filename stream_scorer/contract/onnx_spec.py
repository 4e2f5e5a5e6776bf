"""The `onnx` section of a manifest: what the graph takes and gives, and how its input is made.

Written once at publish (`describe_onnx`) from the graph and the publish config; read on
every worker, so a new version brings its own preprocessing and output meaning with it.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

InputFormat = Literal["json", "image", "tensor"]
"""How a Kafka value becomes the graph's input (`features.format`)."""
ScoreKind = Literal["probabilities", "logits", "values"]
"""What the score output holds: class probabilities, class logits, or regression values."""
Dim = int | str | None
"""One dimension of a graph tensor: a size, a symbolic name, or None (unknown)."""


@dataclass(frozen=True)
class TensorSpec:
    """One graph input or output as the graph declares it."""

    name: str
    shape: list[Dim]
    element_type: str
    """numpy dtype name of its elements, e.g. 'float32'."""


@dataclass(frozen=True)
class ImagePreprocessing:
    """How decoded pixels become the graph input: `(pixel * scale - mean) / std`, per channel."""

    color: Literal["rgb", "grayscale"] = "rgb"
    scale: float = 1 / 255
    mean: list[float] = field(default_factory=lambda: [0.0])
    """One value for every channel, or one per channel."""
    std: list[float] = field(default_factory=lambda: [1.0])
    layout: Literal["nchw", "nhwc"] = "nchw"

    @property
    def channels(self) -> int:
        """3 for RGB, 1 for grayscale."""
        return 3 if self.color == "rgb" else 1


@dataclass(frozen=True)
class OnnxSpec:
    """The graph's signature and how to feed it and read it."""

    input_format: InputFormat
    inputs: list[TensorSpec]
    """Graph inputs; the first is fed."""
    outputs: list[TensorSpec]
    score_output: str
    """Name of the output read for predictions."""
    scores: ScoreKind
    intra_op_threads: int = 1
    """ONNX Runtime intra-op threads of each worker's session."""
    preprocessing: ImagePreprocessing | None = None
    """Format image only."""
    tensor_shape: list[int] | None = None
    """Format tensor only: shape of one record's tensor."""

    @property
    def input(self) -> TensorSpec:
        """The graph input fed with the decoded records."""
        return self.inputs[0]

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) of an image input, from its shape in the preprocessing's layout."""
        shape = self.input.shape
        nchw = self.preprocessing is None or self.preprocessing.layout == "nchw"
        height, width = (shape[2], shape[3]) if nchw else (shape[1], shape[2])
        return int(height or 0), int(width or 0)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "OnnxSpec":
        """Rebuild from a manifest's JSON; raises KeyError/TypeError when fields are off."""
        data = dict(data)
        data["inputs"] = [TensorSpec(**t) for t in data["inputs"]]
        data["outputs"] = [TensorSpec(**t) for t in data["outputs"]]
        if data.get("preprocessing") is not None:
            data["preprocessing"] = ImagePreprocessing(**data["preprocessing"])
        return cls(**data)
