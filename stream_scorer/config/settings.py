"""The typed, frozen settings tree of one scorer, as read from YAML (see `loader`)."""

from typing import Annotated, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from stream_scorer.config.base import Settings
from stream_scorer.config.intervals import EXAMPLES, interval_ms
from stream_scorer.config.model_settings import (
    ModelConfig,
)
from stream_scorer.config.paths import Location
from stream_scorer.config.table_sinks import DeltaSinkConfig, IcebergSinkConfig
from stream_scorer.contract.signature import input_signature
from stream_scorer.errors import ConfigError
from stream_scorer.kafka.client_config import client_config
from stream_scorer.kafka.options import KAFKA_PREFIX, redact
from stream_scorer.kafka.source_options import SourceKind, SourceOptions, parse_options
from stream_scorer.types import FieldType

ROUTING_TYPES: tuple[FieldType, ...] = ("string", "long", "int")
"""Types a `model.route_by` field may have: keys are compared as text."""

ROW_COLUMNS = (
    "key", "topic", "partition", "offset", "timestamp", "prediction", "probability",
    "probabilities", "model_version", "scored_at", "error",
)  # fmt: skip
"""Columns of a prediction row besides the passthrough fields and the features."""


def _stringify(options: object) -> object:
    """YAML gives ints and bools; Spark's options are strings ('true', '100000')."""
    if not isinstance(options, dict):
        return options
    return {k: _scalar_text(v) for k, v in options.items()}


def _scalar_text(value: object) -> object:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value


class SourceConfig(Settings):
    """Where records come from: a Kafka topic, with Spark's Kafka source option names."""

    kind: SourceKind = "python-kafka"
    """`python-kafka`: our jar-free source (default). `spark-kafka`: Spark's connector jar."""
    options: dict[str, str]
    """Spark Kafka source options verbatim: `kafka.*` go to the client, the rest to the source."""
    start_check_timeout_s: float = Field(default=10.0, gt=0)
    """Seconds `run` waits at start for the broker to list the topics before it fails."""
    _parsed: SourceOptions = PrivateAttr()

    _stringify_options = field_validator("options", mode="before")(_stringify)

    @model_validator(mode="after")
    def _parse_options(self) -> "SourceConfig":
        try:
            self._parsed = parse_options(self.options, self.kind)
        except ConfigError as exc:  # reported at `options`, as pydantic reports a field
            error = PydanticCustomError("source_options", str(exc))
            details = InitErrorDetails(type=error, loc=("options",), input=self.options)
            raise ValidationError.from_exception_data(type(self).__name__, [details]) from None
        return self

    @property
    def parsed(self) -> SourceOptions:
        """The options, validated and typed when the config loaded."""
        return self._parsed

    def __repr_args__(self):  # never show secrets in reprs, logs or errors
        yield "kind", self.kind
        yield "options", redact(self.options)


class FeaturesConfig(Settings):
    """How a record's value becomes the model's input row."""

    format: Literal["json", "image", "tensor"] = "json"
    """Kafka value: `json` object, `image` (PNG/JPEG), or `tensor` (raw little-endian float32)."""
    feature_schema: dict[str, FieldType] = Field(alias="schema", default_factory=dict)
    """Feature name -> type, in the model's input order (format json, where it is required)."""
    passthrough: dict[str, FieldType] = Field(default_factory=dict)
    """Record fields copied to every output row; a list means all typed `string`. A field
    missing from a record (or JSON null) is null on its row, unless `missing_passthrough`."""
    missing_passthrough: Literal["null", "dead_letter"] = "null"
    """A passthrough field absent from a record: `null` on its row, or `dead_letter` it
    (reason "missing passthrough field 'NAME'"); format json."""
    image_field: str | None = None
    """Format image: JSON field holding the base64 image; unset: the value is the image."""
    tensor_shape: list[int] | None = None
    """Format tensor (required there): shape of one record's tensor, e.g. [3, 8]."""
    max_image_pixels: int = Field(default=16_777_216, ge=1)
    """Format image: larger images (width x height) are dead-lettered before decoding."""
    max_image_side: int = Field(default=65_535, ge=1)
    """Format image: images with a longer width or height are dead-lettered before decoding
    (a 1 x 16M strip takes six times as long to decode as 4096 x 4096)."""

    @field_validator("passthrough", mode="before")
    @classmethod
    def _list_means_strings(cls, value: object) -> object:
        if isinstance(value, list):
            return dict.fromkeys(value, "string")
        return value

    @field_validator("missing_passthrough", mode="before")
    @classmethod
    def _yaml_null(cls, value: object) -> object:
        return "null" if value is None else value  # YAML reads a bare `null` as None

    @model_validator(mode="after")
    def _no_overlap(self) -> "FeaturesConfig":
        both = sorted(set(self.feature_schema) & set(self.passthrough))
        if both:
            msg = f"fields {both} are both features and passthrough; name each once"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _fits_format(self) -> "FeaturesConfig":
        fmt, problems = self.format, []
        if fmt == "json" and not self.feature_schema:
            problems.append("format json needs a non-empty schema")
        if fmt != "json" and self.feature_schema:
            problems.append(f"format {fmt} takes no schema (the whole value is the input)")
        if (fmt == "tensor") != (self.tensor_shape is not None):
            problems.append("tensor_shape is required by format tensor and only there")
        if self.tensor_shape is not None and min(self.tensor_shape, default=0) < 1:
            problems.append(f"tensor_shape {self.tensor_shape} needs one or more sizes >= 1")
        if fmt != "image" and self.image_field is not None:
            problems.append("image_field is for format image only")
        if self.passthrough and fmt != "json" and self.image_field is None:
            problems.append("passthrough needs JSON values: format json, or image_field")
        if fmt != "json" and self.missing_passthrough != "null":
            problems.append("missing_passthrough dead_letter is for format json only")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def input_signature(self) -> str:
        """What the config feeds a model, as `Manifest.input_signature` names it."""
        return input_signature(self.format, self.tensor_shape)


class ParquetSinkConfig(Settings):
    """Parquet files under `path`, one directory per micro-batch, idempotent per batch id."""

    kind: Literal["parquet"]
    path: Location
    """Output directory (local path or a Hadoop URL)."""


class KafkaSinkConfig(Settings):
    """JSON values on a Kafka topic; model version and source coordinates in headers."""

    kind: Literal["kafka"]
    topic: str
    """Destination topic."""
    options: dict[str, str] = Field(default_factory=dict)
    """`kafka.*` producer settings; without `kafka.bootstrap.servers`, the source's servers and
    security options (`kafka.security.protocol`, `kafka.sasl.*`, `kafka.ssl.*`)."""

    _stringify_options = field_validator("options", mode="before")(_stringify)

    @field_validator("options")
    @classmethod
    def _producer_options(cls, options: dict[str, str]) -> dict[str, str]:
        others = sorted(k for k in options if not k.startswith(KAFKA_PREFIX))
        if others:
            msg = f"only kafka.* producer settings; {others} are not (write kafka.<name>)"
            raise ValueError(msg)
        try:
            client_config(options, "producer")
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return options

    def __repr_args__(self):
        yield "topic", self.topic
        yield "options", redact(self.options)


class ConsoleSinkConfig(Settings):
    """Prints each micro-batch to stdout; for development."""

    kind: Literal["console"]
    num_rows: int = Field(default=20, ge=1)
    """Rows shown per micro-batch."""


SinkConfig = Annotated[
    ParquetSinkConfig | KafkaSinkConfig | ConsoleSinkConfig | DeltaSinkConfig | IcebergSinkConfig,
    Field(discriminator="kind"),
]


class TriggerConfig(Settings):
    """When micro-batches run: every `processingTime`, or once over what is available."""

    processingTime: str | None = None  # Spark's own spelling
    """Interval between micro-batch starts, e.g. '1 second', '500 milliseconds'."""
    availableNow: bool = False
    """Process everything available now in one or more batches, then stop."""

    @field_validator("processingTime")
    @classmethod
    def _spark_interval(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                interval_ms(value)
            except ValueError as exc:
                msg = f"an interval Spark accepts, like {EXAMPLES} ({exc})"
                raise ValueError(msg) from None
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> "TriggerConfig":
        if bool(self.processingTime) == self.availableNow:
            msg = "set exactly one of processingTime (e.g. '1 second') or availableNow: true"
            raise ValueError(msg)
        return self


class OutputConfig(Settings):
    """Extra columns on prediction rows, to check results against their records."""

    include_key: bool = False
    """Add the record's Kafka `key` (null for a record without one) after `timestamp`."""
    key_format: Literal["binary", "string"] = "binary"
    """`key` as the raw bytes (base64 in Kafka sink JSON), or decoded as UTF-8 `string`."""
    include_features: bool = False
    """Add the parsed feature columns, typed as in features.schema, before the passthrough
    fields (format json)."""


class ScoringConfig(Settings):
    """How records are batched for the model, and which path scores them."""

    arrow_batch_size: int = Field(default=10_000, ge=1)
    """Records per Arrow batch handed to the model (spark.sql.execution.arrow.maxRecordsPerBatch
    on the UDF path)."""
    one_pass: bool = True
    """With the python-kafka source, fetch, parse and score each offset range in one Python
    pass, records crossing to the JVM once as predictions; false: the source yields records
    and the scoring UDF scores them (the only path of the spark-kafka source)."""


class MetricsConfig(Settings):
    """Operational metrics: a JSON log line per batch always; Prometheus when a port is set."""

    prometheus_port: int | None = Field(default=None, ge=1, le=65535)
    """Serve Prometheus metrics on this port (off when unset)."""
    prometheus_addr: str = "127.0.0.1"
    """Address the Prometheus endpoint binds to ('0.0.0.0' in containers)."""


class LoggingConfig(Settings):
    """Where Spark's and the Kafka clients' own log lines go (the console shows ours)."""

    file: Location | None = None
    """Log file for Spark (JVM) and client lines; default `<checkpoint>/scorer/scorer.log`."""


class ScorerConfig(Settings):
    """One scorer: a source, a feature schema, a model store, sinks and a checkpoint."""

    app_name: str = "stream-scorer"
    """Spark application name."""
    source: SourceConfig
    features: FeaturesConfig
    model: ModelConfig
    checkpoint: Location
    """Checkpoint directory: source offsets and commits. Keep it across restarts."""
    checkpoint_lock: Literal["auto", "lease"] = "auto"
    """How one scorer holds the checkpoint: `auto` locks a local path with the OS and leases
    a Hadoop URL; `lease` leases a local path too (a mount that several driver hosts share,
    such as NFS, where an OS lock may not reach every host)."""
    trigger: TriggerConfig = TriggerConfig(processingTime="1 second")
    sinks: list[SinkConfig] = Field(min_length=1)
    """Where predictions go; every sink receives every scored row."""
    dead_letter: SinkConfig
    """Where records that cannot be scored go, with the reason."""
    scoring: ScoringConfig = ScoringConfig()
    output: OutputConfig = OutputConfig()
    metrics: MetricsConfig = MetricsConfig()
    logging: LoggingConfig = LoggingConfig()
    spark: dict[str, str] = Field(default_factory=dict)
    """Extra Spark settings (e.g. spark.master) applied when the session is built."""

    _stringify_spark = field_validator("spark", mode="before")(_stringify)

    @model_validator(mode="after")
    def _route_by_is_a_key_field(self) -> "ScorerConfig":
        route_by = self.model.route_by
        if route_by is None:
            return self
        if self.model.source != "store":
            msg = (
                f"model.route_by needs model.source store, not {self.model.source}: a per-key "
                "family is published into a model store by `stream-scorer model train`"
            )
            raise ValueError(msg)
        if self.model.shadow is not None:
            msg = (
                f"model.shadow {self.model.shadow!r} with model.route_by: a per-key family is "
                "not shadow-scored (nor a shadow); remove one of them"
            )
            raise ValueError(msg)
        if self.features.format != "json":
            msg = (
                f"model.route_by needs features.format json (a family's per-key models read "
                f"columns), not {self.features.format}"
            )
            raise ValueError(msg)
        declared = {**self.features.feature_schema, **self.features.passthrough}
        if declared.get(route_by) not in ROUTING_TYPES:
            msg = (
                f"model.route_by is {route_by!r}, declared as {declared.get(route_by)}; "
                f"expected a field of features.schema or features.passthrough typed one of "
                f"{', '.join(ROUTING_TYPES)}"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _output_fits_features(self) -> "ScorerConfig":
        if not self.output.include_features:
            return self
        if self.features.format != "json":
            msg = f"output.include_features needs features.format json, not {self.features.format}"
            raise ValueError(msg)
        taken = sorted(set(self.features.feature_schema) & set(ROW_COLUMNS))
        if taken:
            msg = f"output.include_features: features {taken} would shadow output columns"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _mlflow_takes_json(self) -> "ScorerConfig":
        if self.model.source == "mlflow" and self.features.format != "json":
            msg = (
                f"model.source mlflow serves scikit-learn models over JSON features, not "
                f"features.format {self.features.format}: serve ONNX models from a model store "
                "(model.source: store, `stream-scorer model publish model.onnx`)"
            )
            raise ValueError(msg)
        return self
