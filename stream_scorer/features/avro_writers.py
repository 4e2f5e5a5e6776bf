"""Where each Avro value's writer schema comes from: one fixed schema, or a Schema Registry.

`RegistryWriters` reads the Confluent wire format: a zero magic byte, a 4-byte big-endian
schema id, then the Avro body. Each id's schema is fetched once per process (the module's
cache outlives tasks and batches) with confluent-kafka's `SchemaRegistryClient`, which
retries what the registry does not answer. An id the registry answers 404 for is the
record's fault (a reason); a registry that cannot be reached is not
(`SchemaRegistryUnavailableError`).
"""

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence

from stream_scorer.config.schema_registry import SchemaRegistryConfig
from stream_scorer.errors import SchemaRegistryUnavailableError
from stream_scorer.kafka.schema_registry import registry_client

MAGIC = 0
HEADER = 5
"""Bytes before the Avro body: the magic byte and the schema id."""

Framed = dict[int, tuple[list[int], list[bytes]]]
"""Schema id -> (row indices, Avro bodies) of a batch."""

_SCHEMAS: dict[tuple[str, int], dict] = {}
"""(registry URL, schema id) -> writer schema: fetched once per process."""


class UnknownSchemaError(LookupError):
    """The registry does not know a schema id: the records naming it are dead-lettered."""


class WriterSchemas(ABC):
    """Splits values into Avro bodies by writer schema and gives each schema."""

    @abstractmethod
    def frame(self, values: Sequence[bytes | None], errors: list[str | None]) -> Framed:
        """Group the values' bodies by schema key; set `errors[i]` for a value without one."""

    @abstractmethod
    def schema(self, key: int) -> dict:
        """The writer schema of `key`, as parsed JSON.

        Raises
        ------
        UnknownSchemaError
            If no such schema exists.
        SchemaRegistryUnavailableError
            If it cannot be known now.
        """

    @abstractmethod
    def name(self, key: int) -> str:
        """How reasons name the writer schema of `key`."""


class FixedWriter(WriterSchemas):
    """Every value is a plain Avro body of one schema (`features.avro_schema`)."""

    def __init__(self, schema: dict) -> None:
        self.writer = schema

    def frame(self, values: Sequence[bytes | None], errors: list[str | None]) -> Framed:
        """Every non-null value is a body of key 0."""
        rows, bodies = [], []
        for i, value in enumerate(values):
            if value is None:
                errors[i] = "value is null (tombstone)"
            else:
                rows.append(i)
                bodies.append(value)
        return {0: (rows, bodies)}

    def schema(self, key: int) -> dict:
        """The configured schema."""
        return self.writer

    def name(self, key: int) -> str:
        """'the writer schema'."""
        return "the writer schema"


class RegistryWriters(WriterSchemas):
    """Confluent wire-format values; schemas by id from a Schema Registry."""

    def __init__(self, config: SchemaRegistryConfig) -> None:
        self.config = config

    def frame(self, values: Sequence[bytes | None], errors: list[str | None]) -> Framed:
        """Group bodies by the schema id of their header; a value too short for a header or
        with another magic byte gets a reason."""
        framed: Framed = {}
        for i, value in enumerate(values):
            if value is None:
                errors[i] = "value is null (tombstone)"
            elif len(value) < HEADER:
                errors[i] = (
                    f"value has {len(value)} bytes, too short for the Confluent wire format "
                    "(magic byte 0, 4-byte schema id, Avro body)"
                )
            elif value[0] != MAGIC:
                errors[i] = f"magic byte is {value[0]}, expected 0 (Confluent wire format)"
            else:
                rows, bodies = framed.setdefault(int.from_bytes(value[1:HEADER], "big"), ([], []))
                rows.append(i)
                bodies.append(value[HEADER:])
        return framed

    def schema(self, key: int) -> dict:
        """The schema of id `key`, from this process's cache or the registry."""
        cached = _SCHEMAS.get((self.config.url, key))
        if cached is None:
            cached = _SCHEMAS[(self.config.url, key)] = self._fetch(key)
        return cached

    def name(self, key: int) -> str:
        """'schema id N'."""
        return f"schema id {key}"

    def _fetch(self, key: int) -> dict:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            found = registry_client(**self.config.model_dump()).get_schema(key)
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                msg = f"schema id {key} is not in the Schema Registry at {self.config.url}"
                raise UnknownSchemaError(msg) from None
            raise self._unavailable(key, exc) from None
        except Exception as exc:  # httpx's transport errors: refused, timed out, reset
            raise self._unavailable(key, exc) from None
        if found.schema_type not in (None, "AVRO"):
            msg = f"schema id {key} is a {found.schema_type} schema, not Avro"
            raise UnknownSchemaError(msg)
        return json.loads(found.schema_str)

    def _unavailable(self, key: int, exc: Exception) -> SchemaRegistryUnavailableError:
        msg = (
            f"Schema Registry at {self.config.url} did not give schema id {key} after "
            f"{self.config.max_retries} retries ({type(exc).__name__}: {exc}); the batch "
            "fails and is replayed from the checkpoint when the scorer restarts"
        )
        return SchemaRegistryUnavailableError(msg)
