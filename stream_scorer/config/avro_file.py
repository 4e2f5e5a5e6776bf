"""`features.avro_schema`: an `.avsc` file, read when the config loads: a bad one fails at start."""

import json
from pathlib import Path


def read_avro_schema(path: str) -> dict:
    """The Avro record schema in the file at `path`, as parsed JSON.

    Raises
    ------
    ValueError
        If the file cannot be read, is not JSON, or holds no record schema; the message says
        what was expected (the loader prefixes the key and the value).
    """
    try:
        text = Path(path).read_text()
    except OSError as exc:
        msg = f"a readable .avsc file ({exc.strerror})"
        raise ValueError(msg) from None
    try:
        schema = json.loads(text)
    except ValueError as exc:
        msg = f"an Avro schema as JSON ({exc})"
        raise ValueError(msg) from None
    if not isinstance(schema, dict) or schema.get("type") != "record":
        msg = 'an Avro record schema ({"type": "record", "name": ..., "fields": [...]})'
        raise ValueError(msg)
    return schema
