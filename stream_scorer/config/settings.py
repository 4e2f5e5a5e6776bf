"""The typed, frozen settings tree of one scorer, as read from YAML (see `loader`)."""

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from stream_scorer.errors import ConfigError
from stream_scorer.kafka.options import redact
from stream_scorer.kafka.source_options import SourceKind, SourceOptions, parse_options
from stream_scorer.types import FieldType

ROUTING_TYPES: tuple[FieldType, ...] = ("string", "long", "int")
"""Types a `model.route_by` field may have: keys are compared as text."""


class _Settings(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, use_attribute_docstrings=True
    )


def _stringify(options: object) -> object:
    """YAML gives ints and bools; Spark's options are strings ('true', '100000')."""
    if not isinstance(options, dict):
        return options
    return {k: _scalar_text(v) for k, v in options.items()}


def _scalar_text(value: object) -> object:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value


class SourceConfig(_Settings):
    """Where records come from: a Kafka topic, with Spark's Kafka source option names."""

    kind: SourceKind = "python-kafka"
    """`python-kafka`: our jar-free source (default). `spark-kafka`: Spark's connector jar."""
    options: dict[str, str]
    """Spark Kafka source options verbatim: `kafka.*` go to the client, the rest to the source."""
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


class FeaturesConfig(_Settings):
    """How a record's value becomes the model's input row."""

    format: Literal["json"] = "json"
    """Encoding of the Kafka value. JSON objects, one per record."""
    feature_schema: dict[str, FieldType] = Field(alias="schema", min_length=1)
    """Feature name -> type, in the model's input order."""
    passthrough: dict[str, FieldType] = Field(default_factory=dict)
    """Record fields copied to every output row; a list means all typed `string`."""

    @field_validator("passthrough", mode="before")
    @classmethod
    def _list_means_strings(cls, value: object) -> object:
        if isinstance(value, list):
            return dict.fromkeys(value, "string")
        return value

    @model_validator(mode="after")
    def _no_overlap(self) -> "FeaturesConfig":
        both = sorted(set(self.feature_schema) & set(self.passthrough))
        if both:
            msg = f"fields {both} are both features and passthrough; name each once"
            raise ValueError(msg)
        return self


class ModelConfig(_Settings):
    """Where models come from and what a model must satisfy to serve."""

    store: str
    """Model store directory, written by `stream-scorer model publish`."""
    allow_library_mismatch: bool = False
    """Serve a model saved with another scikit-learn version (refused by default)."""
    trusted_types: list[str] = Field(default_factory=list)
    """Extra type names a skops artefact may contain, beyond skops' safe defaults."""
    worker_cache_versions: int = Field(default=2, ge=1, le=16)
    """How many model versions each Python worker keeps deserialised."""
    route_by: str | None = None
    """Record field whose value picks the model of a per-key family (`model train`)."""
    train_estimators: list[str] = Field(default_factory=list)
    """Estimator import paths beyond sklearn.* that `model train --estimator` accepts."""


class ParquetSinkConfig(_Settings):
    """Parquet files under `path`, one directory per micro-batch, idempotent per batch id."""

    kind: Literal["parquet"]
    path: str
    """Output directory (local path or a Hadoop URL)."""


class KafkaSinkConfig(_Settings):
    """JSON values on a Kafka topic; model version and source coordinates in headers."""

    kind: Literal["kafka"]
    topic: str
    """Destination topic."""
    options: dict[str, str] = Field(default_factory=dict)
    """`kafka.*` producer settings; `kafka.bootstrap.servers` defaults to the source's."""

    _stringify_options = field_validator("options", mode="before")(_stringify)

    def __repr_args__(self):
        yield "topic", self.topic
        yield "options", redact(self.options)


class ConsoleSinkConfig(_Settings):
    """Prints each micro-batch to stdout; for development."""

    kind: Literal["console"]
    num_rows: int = Field(default=20, ge=1)
    """Rows shown per micro-batch."""


SinkConfig = Annotated[
    ParquetSinkConfig | KafkaSinkConfig | ConsoleSinkConfig, Field(discriminator="kind")
]


class TriggerConfig(_Settings):
    """When micro-batches run: every `processingTime`, or once over what is available."""

    processingTime: str | None = None  # Spark's own spelling
    """Interval between micro-batch starts, e.g. '1 second', '500 milliseconds'."""
    availableNow: bool = False
    """Process everything available now in one or more batches, then stop."""

    @model_validator(mode="after")
    def _exactly_one(self) -> "TriggerConfig":
        if bool(self.processingTime) == self.availableNow:
            msg = "set exactly one of processingTime (e.g. '1 second') or availableNow: true"
            raise ValueError(msg)
        return self


class ScoringConfig(_Settings):
    """How the pandas UDF batches rows."""

    arrow_batch_size: int = Field(default=10_000, ge=1)
    """Rows per Arrow batch handed to the model (spark.sql.execution.arrow.maxRecordsPerBatch)."""


class MetricsConfig(_Settings):
    """Operational metrics: a JSON log line per batch always; Prometheus when a port is set."""

    prometheus_port: int | None = Field(default=None, ge=1, le=65535)
    """Serve Prometheus metrics on this port (off when unset)."""
    prometheus_addr: str = "127.0.0.1"
    """Address the Prometheus endpoint binds to ('0.0.0.0' in containers)."""


class ScorerConfig(_Settings):
    """One scorer: a source, a feature schema, a model store, sinks and a checkpoint."""

    app_name: str = "stream-scorer"
    """Spark application name."""
    source: SourceConfig
    features: FeaturesConfig
    model: ModelConfig
    checkpoint: str
    """Checkpoint directory: source offsets and commits. Keep it across restarts."""
    trigger: TriggerConfig = TriggerConfig(processingTime="1 second")
    sinks: list[SinkConfig] = Field(min_length=1)
    """Where predictions go; every sink receives every scored row."""
    dead_letter: SinkConfig
    """Where records that cannot be scored go, with the reason."""
    scoring: ScoringConfig = ScoringConfig()
    metrics: MetricsConfig = MetricsConfig()
    spark: dict[str, str] = Field(default_factory=dict)
    """Extra Spark settings (e.g. spark.master) applied when the session is built."""

    _stringify_spark = field_validator("spark", mode="before")(_stringify)

    @model_validator(mode="after")
    def _route_by_is_a_key_field(self) -> "ScorerConfig":
        route_by = self.model.route_by
        if route_by is None:
            return self
        declared = {**self.features.feature_schema, **self.features.passthrough}
        if declared.get(route_by) not in ROUTING_TYPES:
            msg = (
                f"model.route_by is {route_by!r}, declared as {declared.get(route_by)}; "
                f"expected a field of features.schema or features.passthrough typed one of "
                f"{', '.join(ROUTING_TYPES)}"
            )
            raise ValueError(msg)
        return self
