"""Settings of the model a scorer serves: where versions come from, what may load, how
big artefacts travel, and the ONNX options (part of the settings tree in `settings`)."""

import re
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import Field, model_validator

from stream_scorer.config.base import Settings
from stream_scorer.config.model_uri import parse_model_uri, shadow_model_uri
from stream_scorer.config.paths import Location, MachineDir

DEFAULT_MAPPED_ABOVE_MB = 64
"""`model.mapped_above_mb`'s default (see bench/README.md, "Big models")."""
_STORE_POINTER = re.compile(r"^(latest|v\d{4,})$")
STORE_SCHEMES = ("s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "hdfs", "file")
"""URL schemes of `model.store` (fsspec's names; `s3a` is read as `s3`)."""


class ImagePreprocessingConfig(Settings):
    """Pixels (resized to the graph's input size) to input: `(pixel * scale - mean) / std`."""

    color: Literal["rgb", "grayscale"] = "rgb"
    """Channels fed to the graph: 3 (RGB) or 1 (grayscale)."""
    scale: float = 1 / 255
    """Multiplies every 0-255 pixel value first."""
    mean: list[float] = Field(default_factory=lambda: [0.0], min_length=1)
    """Subtracted after scaling: one value, or one per channel."""
    std: list[float] = Field(default_factory=lambda: [1.0], min_length=1)
    """Divides last: one value, or one per channel."""
    layout: Literal["nchw", "nhwc"] = "nchw"
    """Axis order of the graph input: channels first (PyTorch) or last (Keras)."""

    @model_validator(mode="after")
    def _per_channel(self) -> "ImagePreprocessingConfig":
        channels = 3 if self.color == "rgb" else 1
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                msg = f"{name} has {len(values)} values; give 1, or 1 per {self.color} channel"
                raise ValueError(msg)
        if min(self.std) <= 0:
            msg = f"std {self.std} must be > 0 (it divides)"
            raise ValueError(msg)
        return self


class OnnxModelConfig(Settings):
    """How `model publish` describes an ONNX graph (recorded in the version's manifest)."""

    classes: list[str | int] | None = None
    """Class labels in score-column order (`--classes` overrides); unset: a regressor."""
    scores: Literal["probabilities", "logits"] = "probabilities"
    """What a classifier's scores are; logits get a softmax (a sigmoid for one column)."""
    output: str | None = None
    """Graph output holding the scores; unset: the first float output."""
    intra_op_threads: int = Field(default=1, ge=1, le=64)
    """ONNX Runtime intra-op threads of each worker's session (Spark runs a task per core)."""
    image: ImagePreprocessingConfig = ImagePreprocessingConfig()
    """Format image: the preprocessing."""


class TreesModelConfig(Settings):
    """How `model publish` describes an XGBoost, LightGBM or CatBoost booster file."""

    classes: list[str | int] | None = None
    """Class labels in the booster's class order (`--classes` overrides); unset: the labels
    the file records (CatBoost), else 0, 1, ..."""
    threads: int = Field(default=1, ge=1, le=64)
    """Threads of each worker's predict call (Spark runs a task per core)."""


class ModelConfig(Settings):
    """Where models come from and what a model must satisfy to serve."""

    source: Literal["store", "mlflow"] = "store"
    """`store`: our model store directory (default). `mlflow`: an MLflow Model Registry alias."""
    store: Location | None = None
    """Model store, written by `stream-scorer model publish` (source `store`): a directory, or
    an object-store URL (`s3://bucket/prefix`, `gs://bucket/prefix`, `abfs://container/prefix`;
    `hdfs://` serves but takes no publish). On a cluster, the executors read models at or above
    `mapped_above_mb` from it: an object store, or an NFS mount at the same path."""
    store_options: dict[str, Any] = Field(default_factory=dict)
    """fsspec storage options of an object-store `store` (e.g. `endpoint_url`, `key`,
    `secret`; `token`, `project`; `connection_string`, `account_name`); unset: each SDK reads
    its environment (`AWS_ENDPOINT_URL`, `GOOGLE_APPLICATION_CREDENTIALS`,
    `AZURE_STORAGE_CONNECTION_STRING`...)."""
    uri: str | None = None
    """`models:/NAME@ALIAS` (resolved every batch) or `models:/NAME/VERSION` (source `mlflow`)."""
    tracking_uri: str | None = None
    """MLflow tracking and registry URI (source `mlflow`); unset: MLFLOW_TRACKING_URI."""
    shadow: str | None = None
    """Challenger scored into `shadow_*` columns: `latest`, `v0003` (store); `@ALIAS` (mlflow)."""
    allow_library_mismatch: bool = False
    """Serve a model saved with another scikit-learn version (refused by default)."""
    trusted_types: list[str] = Field(default_factory=list)
    """Globals ('module.name') a model may use beyond the pickle allowlist and skops' defaults."""
    unsafe_load: bool = False
    """Load pickle/joblib models with no allowlist: any code in them runs (logged as WARNING)."""
    worker_cache_versions: int = Field(default=2, ge=1, le=16)
    """How many model versions each Python worker keeps deserialised."""
    route_by: str | None = None
    """Record field whose value picks the model of a per-key family (`model train`)."""
    train_estimators: list[str] = Field(default_factory=list)
    """Estimator import paths beyond sklearn.* and XGBoost's and LightGBM's (stored natively)
    that `model train --estimator` accepts."""
    mapped_above_mb: int = Field(default=DEFAULT_MAPPED_ABOVE_MB, ge=0, le=2047)
    """Store artefacts of at least this many MiB are not broadcast: each machine copies them from
    the store into `cache_dir` once and its workers memory-map them (`model publish` stores
    big joblib models uncompressed for that).
    At most 2047: Spark cannot broadcast 2 GiB."""
    cache_dir: MachineDir | None = None
    """Directory for those copies on the driver and on every executor (default:
    `stream-scorer-models` in each machine's temp directory); a relative path resolves
    against the config file's folder."""
    cache_versions: int = Field(default=2, ge=1, le=16)
    """How many big artefacts each machine's `cache_dir` keeps, newest first (one more with
    `shadow`); a restart reuses them."""
    max_batch_attempts: int = Field(default=3, ge=1, le=100)
    """Failed tries of a batch by a newly switched version before the previous one scores it."""
    max_error_rate: float = Field(default=0.5, ge=0.0, le=1.0)
    """Share of a batch's decoded rows a newly switched version may fail (`model raised`,
    `model returned`) while the previous one failed no more; above it, it is refused at once
    and the previous one scores the batch. Undecodable rows do not count."""
    onnx: OnnxModelConfig = OnnxModelConfig()
    """Publish-time description of `.onnx` models."""
    trees: TreesModelConfig = TreesModelConfig()
    """Publish-time description of XGBoost, LightGBM and CatBoost booster files."""

    @model_validator(mode="after")
    def _source_settings(self) -> "ModelConfig":
        if self.source == "store":
            if not self.store:
                msg = "model.store: the model store directory (source: store)"
                raise ValueError(msg)
            scheme = urlparse(self.store).scheme
            if len(scheme) > 1 and scheme not in STORE_SCHEMES:
                msg = (
                    f"model.store {self.store!r}: a directory, or a URL of "
                    f"{', '.join(STORE_SCHEMES)}"
                )
                raise ValueError(msg)
            if self.shadow and not _STORE_POINTER.match(self.shadow):
                msg = f"model.shadow {self.shadow!r}: 'latest' or a version like 'v0003'"
                raise ValueError(msg)
            return self
        if not self.uri:
            msg = "model.uri: 'models:/NAME@ALIAS' (source: mlflow)"
            raise ValueError(msg)
        try:
            served = parse_model_uri(self.uri)
        except ValueError as exc:
            msg = f"model.uri: {exc}"
            raise ValueError(msg) from None
        if self.shadow:
            try:
                shadow_model_uri(served, self.shadow)
            except ValueError as exc:
                msg = f"model.shadow: '@ALIAS' or {exc}"
                raise ValueError(msg) from None
        return self
