"""Parsing helpers shared by sub-commands."""

from stream_scorer.errors import ConfigError

_TYPES = ("double", "float", "long", "int", "string", "boolean")


def parse_schema(text: str) -> dict[str, str]:
    """Parse 'f0:double,f1:string' into an ordered name -> type mapping."""
    schema: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, kind = item.partition(":")
        kind = kind or "double"
        if kind not in _TYPES:
            msg = f"--schema: field '{name}' has type {kind!r}; expected one of {', '.join(_TYPES)}"
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
