"""Helpers shared by sub-commands: schema parsing, and how a new version becomes CURRENT."""

import argparse
import json
import sys
from typing import Any

from stream_scorer.config import load_config
from stream_scorer.errors import ConfigError
from stream_scorer.types import FIELD_TYPES, FieldType, is_field_type
from stream_scorer.versions.store import ModelStore

NOT_CURRENT = 3
"""Exit code of a publish (or train) whose version was stored but not made CURRENT (a newer
one is)."""


def add_store_options(parser: argparse.ArgumentParser, with_config: bool = True) -> None:
    """Add `--store DIR` and, unless the command has its own, `--config C` (whose
    `model.store` is the store when `--store` is not given)."""
    parser.add_argument(
        "--store",
        help="model store: a directory or s3://bucket/prefix (default: --config's model.store)",
    )
    if with_config:
        parser.add_argument("--config", help="scorer YAML config: its model.store is the store")


def store_of(args: argparse.Namespace) -> ModelStore:
    """The store `--store` names, else `--config`'s `model.store`; with `--config`, its
    `model.store_options` open an object store.

    Raises
    ------
    ConfigError
        If neither names a store.
    """
    model = load_config(args.config).model if getattr(args, "config", None) else None
    if args.store:
        return ModelStore(args.store, model.store_options if model else None)
    if model is not None:
        if model.store:
            return ModelStore(model.store, model.store_options)
        msg = (
            f"{args.config}: model.store is not set (model.source {model.source}); give --store DIR"
        )
        raise ConfigError(msg)
    msg = "no model store: give --store DIR, or --config C whose model.store names one"
    raise ConfigError(msg)


def advance_current(store: ModelStore, version: str, previous: str | None) -> int:
    """Make the stored `version` CURRENT unless a newer one is; print the outcome and return
    the exit code (0, or `NOT_CURRENT` when a concurrent publish was newer)."""
    current = store.advance_current(version)
    if current != version:
        print(
            f"{version} stored but not CURRENT: {current}, published meanwhile, is "
            f"newer; `stream-scorer model promote {version}` would serve this one",
            file=sys.stderr,
        )
        return NOT_CURRENT
    print(f"CURRENT -> {version} (was {previous or 'none'})")
    return 0


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


def json_object(text: str, where: str, expected: str) -> dict[str, Any]:
    """Parse `text` as one JSON object, or raise ConfigError naming `where` and `expected`."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{where}: not JSON ({exc.msg}); expected {expected}"
        raise ConfigError(msg) from exc
    if not isinstance(value, dict):
        msg = f"{where}: got {text.strip()!r}; expected {expected}"
        raise ConfigError(msg)
    return value
