"""Synthetic records as Avro in the Confluent wire format, for `produce --format avro`.

The schema of the generated records (an `id` long, then the fields of `--schema`) is
registered under the topic's value subject (`<topic>-value`) by confluent-kafka's own
`AvroSerializer`, which also writes every value: the bytes are those real producers write.
"""

import json
import random
from collections.abc import Iterator, Mapping

from stream_scorer.devtools.synthetic import good_record
from stream_scorer.types import FieldType

MALFORMED_KINDS = ("wrong-magic-byte", "truncated", "empty")
"""Values `--bad-ratio` mixes in: each must be dead-lettered, never scored."""


def record_schema(schema: Mapping[str, FieldType], name: str = "Features") -> dict:
    """The Avro record schema of `synthetic.good_record`: `id` (long), then `schema`'s fields
    (declared types are Avro's primitive names)."""
    fields = [{"name": "id", "type": "long"}]
    fields += [{"name": field, "type": kind} for field, kind in schema.items()]
    return {"type": "record", "name": name, "namespace": "stream_scorer", "fields": fields}


def avro_values(
    count: int,
    schema: Mapping[str, FieldType],
    topic: str,
    registry_url: str,
    bad_ratio: float = 0.0,
    seed: int = 0,
    start_id: int = 0,
) -> Iterator[tuple[bytes, bool]]:
    """Yield `count` wire-format values and whether each is good; registers the schema with
    the first one. About `bad_ratio` are malformed, cycling through MALFORMED_KINDS."""
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    client = SchemaRegistryClient({"url": registry_url})
    serializer = AvroSerializer(client, json.dumps(record_schema(schema)))
    context = SerializationContext(topic, MessageField.VALUE)
    rng = random.Random(seed)
    for i in range(start_id, start_id + count):
        value = serializer(good_record(i, schema, rng), context)
        if bad_ratio and rng.random() < bad_ratio:
            yield _malformed(i, value), False
        else:
            yield value, True


def _malformed(i: int, value: bytes) -> bytes:
    kind = MALFORMED_KINDS[i % len(MALFORMED_KINDS)]
    if kind == "wrong-magic-byte":
        return b"\x01" + value[1:]
    if kind == "truncated":
        return value[:-3]
    return b""
