"""The typed, frozen settings tree of one scorer, as read from YAML (see `loader`)."""

from typing import Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from stream_scorer.config.avro_file import read_avro_schema
from stream_scorer.config.base import Settings, stringify
from stream_scorer.config.intervals import EXAMPLES, interval_ms
from stream_scorer.config.model_settings import (
    ModelConfig,
)
from stream_scorer.config.monitoring import MonitoringConfig
from stream_scorer.config.paths import LocalPath, Location
from stream_scorer.config.schema_registry import SchemaRegistryConfig
from stream_scorer.config.sink_settings import KafkaSinkConfig, SinkConfig
from stream_scorer.contract.signature import input_signature
from stream_scorer.errors import ConfigError
from stream_scorer.kafka.options import MAX_RECORDS_PER_PARTITION, MIN_PARTITIONS, redact
from stream_scorer.kafka.source_options import SourceKind, SourceOptions, parse_options
from stream_scorer.types import FieldType

ROUTING_TYPES: tuple[FieldType, ...] = ("string", "long", "int")
"""Types a `model.route_by` field may have: keys are compared as text."""

NULLABLE_TYPES: tuple[FieldType, ...] = ("double", "float", "string")
"""Types a `features.nullable` feature may have: those that can hold a missing value."""

ROW_COLUMNS = (
    "key", "topic", "partition", "offset", "timestamp", "prediction", "probability",
    "probabilities", "model_version", "scored_at", "error",
)  # fmt: skip
"""Columns of a prediction row besides the passthrough fields and the features."""


def _error_at(
    model: Settings, key: str, message: str, kind: str = "value_error"
) -> ValidationError:
    """A model validator's error reported at field `key`, as pydantic reports a field's."""
    error = PydanticCustomError(kind, message)
    details = InitErrorDetails(type=error, loc=(key,), input=getattr(model, key))
    return ValidationError.from_exception_data(type(model).__name__, [details])


class SourceConfig(Settings):
    """Where records come from: a Kafka topic, with Spark's Kafka source option names."""

    kind: SourceKind = "python-kafka"
    """`python-kafka`: our jar-free source (default). `spark-kafka`: Spark's connector jar."""
    options: dict[str, str]
    """Spark Kafka source options verbatim: `kafka.*` go to the client, the rest to the source."""
    start_check_timeout_s: float = Field(default=10.0, gt=0)
    """Seconds `run` waits at start for the broker to list the topics before it fails."""
    _parsed: SourceOptions = PrivateAttr()

    _stringify_options = field_validator("options", mode="before")(stringify)

    @model_validator(mode="after")
    def _parse_options(self) -> "SourceConfig":
        try:
            self._parsed = parse_options(self.options, self.kind)
        except ConfigError as exc:  # names the option, its value and the need itself
            raise _error_at(self, "options", str(exc), "source_options") from None
        return self

    @property
    def parsed(self) -> SourceOptions:
        """The options, validated and typed when the config loaded."""
        return self._parsed

    def __repr_args__(self):  # never show secrets in reprs, logs or errors
        yield "kind", self.kind
        yield "options", redact(self.options)


COLUMNAR = ("json", "avro")
"""Formats decoded into the named, typed columns of `features.schema`."""


class FeaturesConfig(Settings):
    """How a record's value becomes the model's input row."""

    format: Literal["json", "avro", "image", "tensor"] = "json"
    """Kafka value: `json` object, `avro` record (Confluent wire format with
    `schema_registry`, plain Avro with `avro_schema`), `image` (PNG/JPEG), or `tensor`
    (raw little-endian float32)."""
    feature_schema: dict[str, FieldType] = Field(alias="schema", default_factory=dict)
    """Feature name -> type, in the model's input order (formats json and avro, where it is
    required); format avro reads a nested field by its dotted path (`user.age`)."""
    schema_registry: SchemaRegistryConfig | None = None
    """Format avro: values in the Confluent wire format (magic byte 0, 4-byte big-endian
    schema id, Avro body); each id's writer schema comes from this registry."""
    avro_schema: LocalPath | None = None
    """Format avro: an `.avsc` file, the one writer schema of plain Avro values."""
    nullable: list[str] = Field(default_factory=list)
    """Features (typed double, float or string; double or float for format avro) that may be
    null or absent (from a JSON object, or from an Avro writer schema): the model gets them
    missing (NaN, or None for strings) instead of the record being dead-lettered.
    Gradient-boosted trees are trained to route missing values; most other models are not."""
    _avro_schema: dict | None = PrivateAttr(default=None)
    passthrough: dict[str, FieldType] = Field(default_factory=dict)
    """Record fields copied to every output row; a list means all typed `string`. A field
    missing from a record (or JSON null) is null on its row, unless `missing_passthrough`."""
    missing_passthrough: Literal["null", "dead_letter"] = "null"
    """A passthrough field absent from a record: `null` on its row, or `dead_letter` it
    (reason "missing passthrough field 'NAME'"); formats json and avro."""
    image_field: str | None = None
    """Format image: JSON field holding the base64 image; unset: the value is the image."""
    tensor_shape: list[int] | None = None
    """Format tensor (required there): shape of one record's tensor, e.g. [3, 8]."""
    max_image_pixels: int = Field(default=16_777_216, ge=1)
    """Format image: larger images (width x height) are dead-lettered before decoding."""
    max_image_side: int = Field(default=65_535, ge=1)
    """Format image: images with a longer width or height are dead-lettered before decoding
    (a 1 x 16M strip takes six times as long to decode as 4096 x 4096)."""
    image_decode_threads: int = Field(default=1, ge=1, le=8)
    """Format image: threads decoding images in each Python worker (Pillow releases the GIL
    while it decodes). 1 unless the executor has cores no task uses: on busy cores a second
    thread only competes with the other tasks."""

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
    def _nullable_features(self) -> "FeaturesConfig":
        wrong = [
            f"{name} ({self.feature_schema.get(name, 'not a feature')})"
            for name in self.nullable
            if self.feature_schema.get(name) not in NULLABLE_TYPES
        ]
        if wrong:
            types = f"{', '.join(NULLABLE_TYPES[:-1])} or {NULLABLE_TYPES[-1]}"
            msg = f"nullable {wrong}: each must be a feature typed {types}"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _fits_format(self) -> "FeaturesConfig":
        fmt, problems = self.format, []
        if fmt in COLUMNAR and not self.feature_schema:
            problems.append(f"format {fmt} needs a non-empty schema")
        if fmt not in COLUMNAR and self.feature_schema:
            problems.append(f"format {fmt} takes no schema (the whole value is the input)")
        if (fmt == "tensor") != (self.tensor_shape is not None):
            problems.append("tensor_shape is required by format tensor and only there")
        if self.tensor_shape is not None and min(self.tensor_shape, default=0) < 1:
            problems.append(f"tensor_shape {self.tensor_shape} needs one or more sizes >= 1")
        if fmt != "image" and self.image_field is not None:
            problems.append("image_field is for format image only")
        if self.passthrough and fmt not in COLUMNAR and self.image_field is None:
            problems.append("passthrough needs records: format json or avro, or image_field")
        if fmt not in COLUMNAR and self.missing_passthrough != "null":
            problems.append("missing_passthrough dead_letter is for formats json and avro only")
        if fmt == "avro" and (self.schema_registry is None) == (self.avro_schema is None):
            problems.append("format avro needs exactly one of schema_registry or avro_schema")
        if fmt != "avro" and (self.schema_registry or self.avro_schema):
            problems.append("schema_registry and avro_schema are for format avro only")
        if fmt not in COLUMNAR and self.nullable:
            problems.append("nullable is for formats json and avro only")
        odd = [n for n in self.nullable if self.feature_schema.get(n) not in ("double", "float")]
        if fmt == "avro" and odd:
            problems.append(
                f"nullable {odd}: format avro takes only features of features.schema typed "
                "double or float"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _read_avro_schema(self) -> "FeaturesConfig":
        if self.avro_schema is not None:
            try:
                self._avro_schema = read_avro_schema(self.avro_schema)
            except ValueError as exc:
                raise _error_at(self, "avro_schema", str(exc)) from None
        return self

    @property
    def writer_schema(self) -> dict | None:
        """The Avro schema `avro_schema` holds, read when the config loaded."""
        return self._avro_schema

    @property
    def input_signature(self) -> str:
        """What the config feeds a model, as `Manifest.input_signature` names it."""
        return input_signature(self.format, self.tensor_shape)


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
    fields (formats json and avro)."""


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
    monitoring: MonitoringConfig = MonitoringConfig()
    logging: LoggingConfig = LoggingConfig()
    spark: dict[str, str] = Field(default_factory=dict)
    """Extra Spark settings (e.g. spark.master) applied when the session is built."""

    _stringify_spark = field_validator("spark", mode="before")(stringify)

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
        if self.features.format not in COLUMNAR:
            msg = (
                "model.route_by needs features.format json or avro (a family's per-key models "
                f"read columns), not {self.features.format}"
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
        if self.features.format not in COLUMNAR:
            msg = (
                "output.include_features needs features.format json or avro, "
                f"not {self.features.format}"
            )
            raise ValueError(msg)
        taken = sorted(set(self.features.feature_schema) & set(ROW_COLUMNS))
        if taken:
            msg = f"output.include_features: features {taken} would shadow output columns"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _transactions_see_whole_partitions(self) -> "ScorerConfig":
        transactional = [
            s for s in [*self.sinks, self.dead_letter]
            if isinstance(s, KafkaSinkConfig) and s.exactly_once
        ]  # fmt: skip
        split = [o for o in (MIN_PARTITIONS, MAX_RECORDS_PER_PARTITION) if o in self.source.options]
        if transactional and split:
            msg = (
                f"source option '{split[0]}' is {self.source.options[split[0]]!r} beside the "
                f"exactly-once Kafka sink of topic '{transactional[0].topic}'; expected it unset: "
                "each input partition's range of a batch must be one task's transaction"
            )
            raise _error_at(self, "source", msg)
        return self

    @model_validator(mode="after")
    def _mlflow_takes_json(self) -> "ScorerConfig":
        if self.model.source == "mlflow" and self.features.format not in COLUMNAR:
            msg = (
                f"model.source mlflow serves scikit-learn models over JSON features, not "
                f"features.format {self.features.format}: serve ONNX models from a model store "
                "(model.source: store, `stream-scorer model publish model.onnx`)"
            )
            raise ValueError(msg)
        return self
