"""Parsing helpers shared by sub-commands."""

from stream_scorer.errors import ConfigError
from stream_scorer.types import FIELD_TYPES, FieldType, is_field_type

NOT_CURRENT = 3
"""Exit code of a publish (or train) whose version was stored but not made CURRENT (a newer
one is)."""


def parse_schema(text: str) -> dict[str, FieldType]:
    """Parse 'f0:double,f1:string' into an ordered name -> type mapping (default double)."""
    schema: dict[str, FieldType] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, kind = item.partition(":")
        kind = kind or "double"
        if not is_field_type(kind):
            expected = ", ".join(FIELD_TYPES)
            msg = f"--schema: field '{name}' has type {kind!r}; expected one of {expected}"
            raise ConfigError(msg)
        schema[name] = kind
    if not schema:
        msg = f"--schema: got {text!r}; expected 'name:type,...'"
        raise ConfigError(msg)
    return schema


def kafka_option_pairs(pairs: list[str]) -> dict[str, str]:
    """Parse repeated 'kafka.key=value' flags."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.startswith("kafka."):
            msg = f"--kafka-option: got {pair!r}; expected kafka.KEY=VALUE"
            raise ConfigError(msg)
        out[key] = value
    return out
