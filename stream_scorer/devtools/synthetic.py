"""Synthetic feature records for the producer and the demo, good and deliberately malformed."""

import random
from collections.abc import Iterator, Mapping
from typing import cast

import orjson

from stream_scorer.types import TYPES, FieldType

# Malformed shapes the producer mixes in when asked: each must be dead-lettered, never scored.
MALFORMED_KINDS = ("not-json", "missing-field", "wrong-type", "not-an-object", "empty")


def good_record(i: int, schema: Mapping[str, str], rng: random.Random) -> dict[str, object]:
    """One valid record: an `id` plus a value of the right type for every feature."""
    record: dict[str, object] = {"id": i}
    for name, kind in schema.items():
        python = TYPES[cast(FieldType, kind)].python
        if python is float:
            record[name] = round(rng.gauss(0.0, 1.0), 6)
        elif python is int:
            record[name] = rng.randint(-100, 100)
        elif python is bool:
            record[name] = rng.random() < 0.5
        else:
            record[name] = rng.choice(_WORDS) + " " + rng.choice(_WORDS)
    return record


def malformed_value(i: int, schema: Mapping[str, str], rng: random.Random) -> bytes:
    """A value that cannot be scored, cycling through MALFORMED_KINDS."""
    kind = MALFORMED_KINDS[i % len(MALFORMED_KINDS)]
    record = good_record(i, schema, rng)
    first = next(iter(schema))
    if kind == "not-json":
        return b'{"id": %d, "broken' % i
    if kind == "missing-field":
        del record[first]
    elif kind == "wrong-type":
        record[first] = "not-a-number" if schema[first] != "string" else 42
    elif kind == "not-an-object":
        return orjson.dumps([i])
    else:
        return b""
    return orjson.dumps(record)


def values(
    count: int, schema: Mapping[str, str], bad_ratio: float = 0.0, seed: int = 0, start_id: int = 0
) -> Iterator[tuple[bytes, bool]]:
    """Yield `count` encoded values and whether each is good; about `bad_ratio` are malformed."""
    rng = random.Random(seed)
    for i in range(start_id, start_id + count):
        if bad_ratio and rng.random() < bad_ratio:
            yield malformed_value(i, schema, rng), False
        else:
            yield orjson.dumps(good_record(i, schema, rng)), True


_WORDS = ("spark", "kafka", "stream", "model", "score", "batch", "arrow", "offset", "broker")
