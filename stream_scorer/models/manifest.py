"""`manifest.json`: what a stored model version is, and what it must reproduce."""

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Task = Literal["binary", "multiclass", "regression"]
PredictionType = Literal["double", "long", "string", "boolean"]
ModelFormat = Literal["joblib", "pickle", "skops"]

MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class Canary:
    """Input rows (feature name -> value) and the outputs the model gave at publish time."""

    rows: list[dict[str, Any]]
    predictions: list[Any]
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
    feature_types: dict[str, str]
    """Feature name -> Spark SQL type name ('double', 'string'...)."""
    task: Task
    prediction_type: PredictionType
    classes: list[Any] | None
    """Classifier classes in `predict_proba` column order; None for regressors."""
    library_versions: dict[str, str]
    """python, scikit-learn, numpy, joblib versions at save time."""
    created_at: str
    """ISO-8601 UTC time of publish."""
    canary: Canary
    estimator: str = ""
    """Class name of the estimator, for humans."""
    extra: dict[str, Any] = field(default_factory=dict)
    trusted_types: list[str] = field(default_factory=list)
    """Globals (or skops types) the publisher trusted beyond the allowlist."""
    unsafe_load: bool = False
    """True if the publisher vouched for the artefact and loaded it with no allowlist."""
    signature: str = ""
    """Hex HMAC-SHA256 of the artefact sha256 and this manifest (see `signing`); '' unsigned."""

    def to_json(self) -> str:
        """Serialise to pretty JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        """Parse a manifest; raises KeyError/TypeError/ValueError when fields are off."""
        data = json.loads(text)
        data["canary"] = Canary(**data["canary"])
        return cls(**data)
