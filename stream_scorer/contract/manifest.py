"""`manifest.json`: what a stored model version is, and what it must reproduce."""

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from stream_scorer.contract.model_input import Layout, default_layout
from stream_scorer.contract.onnx_spec import OnnxSpec
from stream_scorer.contract.signature import input_signature
from stream_scorer.contract.trees_spec import TreesSpec
from stream_scorer.types import FieldType, PredictionType, Scalar

Task = Literal["binary", "multiclass", "regression"]
ModelFormat = Literal[
    "joblib",
    "pickle",
    "skops",
    "onnx",
    "xgboost-json",
    "xgboost-ubj",
    "lightgbm-text",
    "catboost-cbm",
]

MANIFEST_FILE = "manifest.json"
_LEGACY_LAYOUT_KEY = "input_layout"
"""Where manifests written before `Manifest.input_layout` existed kept it: in `extra`."""


@dataclass(frozen=True)
class Canary:
    """Input rows (feature name -> value) and the outputs the model gave at publish time."""

    rows: list[dict[str, Scalar]]
    predictions: list[Scalar]
    probabilities: list[list[float]] | None = None


@dataclass(frozen=True)
class Manifest:
    """Describes one immutable model version `vNNNN/` of a model store."""

    version: str
    """Version directory name, e.g. 'v0003'."""
    file: str
    """Artefact file name inside the version directory, e.g. 'model.joblib'."""
    format: ModelFormat
    sha256: str
    """Hex sha256 of the artefact bytes; checked before deserialising."""
    feature_names: list[str]
    """Model input columns, in order."""
    feature_types: dict[str, FieldType]
    """Feature name -> declared type name ('double', 'string'...)."""
    input_layout: Layout
    """How `model_input` shapes the features for this model, decided at publish time."""
    task: Task
    prediction_type: PredictionType
    classes: list[Scalar] | None
    """Classifier classes in `predict_proba` column order; None for regressors."""
    library_versions: dict[str, str]
    """python, scikit-learn, numpy, joblib versions at save time."""
    created_at: str
    """ISO-8601 UTC time of publish."""
    canary: Canary
    estimator: str = ""
    """Class name of the estimator, for humans."""
    kind: str = "sklearn"
    """Which predictor serves it (`flavors.base.KINDS`): 'sklearn' for an
    estimator or pipeline in a joblib, pickle or skops artefact; 'family' for per-key
    models (`model train`); 'onnx'; 'xgboost', 'lightgbm', 'catboost' for boosters in
    their own formats."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form additions, kept as read (a family's keys: `extra['family']`). Read on the
    driver only: the scoring UDF ships the manifest to executors without it."""
    trusted_types: list[str] = field(default_factory=list)
    """Globals (or skops types) the publisher trusted beyond the allowlist."""
    unsafe_load: bool = False
    """True if the publisher vouched for the artefact and loaded it with no allowlist."""
    signature: str = ""
    """Hex HMAC-SHA256 of the artefact sha256 and this manifest (see `signing`); '' unsigned."""
    onnx: OnnxSpec | None = None
    """Kind 'onnx': the graph's inputs and outputs, score meaning and preprocessing."""
    trees: TreesSpec | None = None
    """Kinds 'xgboost', 'lightgbm', 'catboost': objective, classes, categories, threads."""

    @property
    def is_classifier(self) -> bool:
        """True when the model predicts `classes`: rows carry `probability(ies)` then."""
        return self.task != "regression"

    @property
    def input_signature(self) -> str:
        """What the model takes (`contract.signature.input_signature`): 'json' unless ONNX
        says otherwise."""
        if self.onnx is None:
            return "json"
        return input_signature(self.onnx.input_format, self.onnx.tensor_shape)

    def to_json(self) -> str:
        """Serialise to pretty JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        """Parse a manifest; raises KeyError/TypeError/ValueError when fields are off.

        A manifest without `input_layout` takes it from `extra` (where older versions
        recorded it), else the default layout of its feature types.
        """
        data = json.loads(text)
        data["canary"] = Canary(**data["canary"])
        if data.get("onnx") is not None:
            data["onnx"] = OnnxSpec.from_dict(data["onnx"])
        if data.get("trees") is not None:
            data["trees"] = TreesSpec.from_dict(data["trees"])
        if "input_layout" not in data:
            legacy = data.get("extra", {}).pop(_LEGACY_LAYOUT_KEY, None)
            data["input_layout"] = legacy or default_layout(data["feature_types"])
        return cls(**data)
