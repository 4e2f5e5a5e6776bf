"""Prediction rows as Avro values in the Confluent wire format, for a Kafka sink `format: avro`.

The record schema is derived from the rows' Arrow schema (every field a union with null,
default null), registered under `<topic>-value` once per Python worker and schema, and
each value is the magic byte 0, the 4-byte schema id, then the row serialised by fastavro.
Field names that Avro does not allow (`user.age`) get `_` for each other character.
"""

import io
import json
import re
import struct
from typing import Any

import pyarrow as pa

from stream_scorer.errors import SinkError
from stream_scorer.kafka.schema_registry import registry_client

_PRIMITIVES = [
    (pa.types.is_float64, "double"),
    (pa.types.is_float32, "float"),
    (pa.types.is_int64, "long"),
    (pa.types.is_integer, "int"),
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_string, "string"),
    (pa.types.is_large_string, "string"),
    (pa.types.is_binary, "bytes"),
    (pa.types.is_large_binary, "bytes"),
]
_IDS: dict[tuple[str, str], int] = {}
"""(registry URL, schema JSON) -> its id under the subject: registered once per process."""


def avro_name(name: str) -> str:
    """`name` as an Avro field name: letters, digits and `_`, not starting with a digit."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return f"_{cleaned}" if cleaned[:1].isdigit() else cleaned


def avro_type(kind: pa.DataType, name: str) -> Any:
    """The Avro type of an Arrow type (records for structs, named after `name`)."""
    for test, avro in _PRIMITIVES:
        if test(kind):
            return avro
    if pa.types.is_timestamp(kind):
        return {"type": "long", "logicalType": "timestamp-micros"}
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return {"type": "array", "items": avro_type(kind.value_type, name)}
    if pa.types.is_map(kind):
        return {"type": "map", "values": avro_type(kind.item_type, name)}
    if pa.types.is_struct(kind):
        return record_schema(pa.schema(list(kind)), f"{avro_name(name)}_record")
    msg = f"column '{name}' of Arrow type {kind} has no Avro type here"
    raise SinkError(msg)


def record_schema(schema: pa.Schema, name: str = "Prediction") -> dict:
    """The Avro record of a row of `schema`: every field nullable, default null."""
    fields = [
        {"name": avro_name(f.name), "type": ["null", avro_type(f.type, f.name)], "default": None}
        for f in schema
    ]
    return {"type": "record", "name": name, "namespace": "stream_scorer", "fields": fields}


class AvroValues:
    """Arrow batches of prediction rows -> wire-format Avro values; picklable, so it reaches
    the executors, where it registers the schema (once per process) and encodes."""

    def __init__(self, topic: str, registry: dict[str, Any]) -> None:
        self.subject = f"{topic}-value"
        self.registry = registry
        """Keyword arguments of `registry_client`."""

    def __call__(self, batch: pa.RecordBatch) -> list[bytes]:
        """The values of `batch`'s rows, in order.

        Raises
        ------
        SinkError
            If the registry refuses the schema or cannot be reached (the task fails, Spark
            retries it, and the batch stays uncommitted until it is sent).
        """
        from fastavro import parse_schema, schemaless_writer

        schema = record_schema(batch.schema)
        header = b"\x00" + struct.pack(">I", self._schema_id(schema))
        parsed = parse_schema(schema)
        names = [avro_name(name) for name in batch.schema.names]
        values = []
        for row in batch.to_pylist(maps_as_pydicts="strict"):
            out = io.BytesIO()
            out.write(header)
            schemaless_writer(out, parsed, dict(zip(names, row.values(), strict=True)))
            values.append(out.getvalue())
        return values

    def _schema_id(self, schema: dict) -> int:
        from confluent_kafka.schema_registry import Schema

        text = json.dumps(schema, sort_keys=True)
        key = (self.registry["url"], text)
        if key not in _IDS:
            try:
                client = registry_client(**self.registry)
                _IDS[key] = client.register_schema(self.subject, Schema(text, "AVRO"))
            except Exception as exc:  # refused (409, 422) or out of reach after its retries
                msg = (
                    f"cannot register the predictions' Avro schema under {self.subject} at "
                    f"{self.registry['url']}: {type(exc).__name__}: {exc}"
                )
                raise SinkError(msg) from None
        return _IDS[key]
