"""The sinks of predictions and dead letters: Parquet, Kafka, console and the tables."""

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from stream_scorer.config.base import Settings, stringify
from stream_scorer.config.paths import Location
from stream_scorer.config.schema_registry import SchemaRegistryConfig
from stream_scorer.config.table_sinks import DeltaSinkConfig, IcebergSinkConfig
from stream_scorer.errors import ConfigError
from stream_scorer.kafka.client_config import confluent_producer
from stream_scorer.kafka.options import KAFKA_PREFIX, redact

TRANSACTIONAL_ID = "transactional.id"
TRANSACTIONAL_NEEDS = {
    "acks": lambda v: v in ("all", "-1"),
    "enable.idempotence": lambda v: v == "true",
    "retries": lambda v: v.isdigit() and int(v) > 0,
    "max.in.flight.requests.per.connection": lambda v: v.isdigit() and 1 <= int(v) <= 5,
}
"""Producer options an exactly-once sink takes only with these values (Kafka's own rules for
an idempotent producer)."""
TRANSACTIONAL_EXPECTED = {
    "acks": "all (or -1)",
    "enable.idempotence": "true",
    "retries": "a number above 0",
    "max.in.flight.requests.per.connection": "1 to 5",
}


class ParquetSinkConfig(Settings):
    """Parquet files under `path`, one directory per micro-batch, idempotent per batch id."""

    kind: Literal["parquet"]
    path: Location
    """Output directory (local path or a Hadoop URL)."""


class KafkaSinkConfig(Settings):
    """JSON (or Avro) values on a Kafka topic; model version and source coordinates in headers."""

    kind: Literal["kafka"]
    topic: str
    """Destination topic."""
    format: Literal["json", "avro"] = "json"
    """Record values: JSON objects, or `avro`: the Confluent wire format, the rows' schema
    registered under `<topic>-value` at `schema_registry` (needed then, and only then)."""
    schema_registry: SchemaRegistryConfig | None = None
    """Format avro: the Schema Registry to register the predictions' schema with."""
    options: dict[str, str] = Field(default_factory=dict)
    """`kafka.*` producer settings, Java client names as librdkafka (confluent-kafka) takes
    them; without `kafka.bootstrap.servers`, the source's servers and security options
    (`kafka.security.protocol`, `kafka.sasl.*`, `kafka.ssl.*`)."""
    exactly_once: bool = False
    """Write each input partition's rows of a batch in one Kafka transaction, committed with
    the input offsets it covered: a `read_committed` consumer (`isolation.level`) sees every
    record once. False: at least once, with the dedup key `<topic>/<partition>/<offset>`."""

    _stringify_options = field_validator("options", mode="before")(stringify)

    @field_validator("options")
    @classmethod
    def _producer_options(cls, options: dict[str, str]) -> dict[str, str]:
        others = sorted(k for k in options if not k.startswith(KAFKA_PREFIX))
        if others:
            msg = f"only kafka.* producer settings; {others} are not (write kafka.<name>)"
            raise ValueError(msg)
        try:
            confluent_producer(options)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return options

    @model_validator(mode="after")
    def _transactions_fit(self) -> "KafkaSinkConfig":
        if KAFKA_PREFIX + TRANSACTIONAL_ID in self.options:
            msg = (
                f"option '{KAFKA_PREFIX}{TRANSACTIONAL_ID}' is not set by hand: set exactly_once: "
                "true, and each task's producer gets an id of the checkpoint and its partition"
            )
            raise ValueError(msg)
        if not self.exactly_once:
            return self
        for key, allowed in TRANSACTIONAL_NEEDS.items():
            value = self.options.get(KAFKA_PREFIX + key)
            if value is not None and not allowed(value.strip().lower()):
                msg = (
                    f"exactly_once needs an idempotent producer: option '{KAFKA_PREFIX}{key}' "
                    f"is {value!r}; expected {TRANSACTIONAL_EXPECTED[key]} (or leave it unset)"
                )
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _registry_with_avro(self) -> "KafkaSinkConfig":
        if (self.format == "avro") != (self.schema_registry is not None):
            msg = "format avro needs schema_registry, and schema_registry is for format avro"
            raise ValueError(msg)
        return self

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
