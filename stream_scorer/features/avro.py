"""Avro record values -> typed feature and passthrough columns, with a reason per bad row.

Per Arrow batch, the values are grouped by writer schema (`avro_writers`); each group's
bodies are read as numpy columns when the schema is simple (`avro_columns`), else one
after the other from one buffer with fastavro. Every declared field is taken by its dotted
path and checked once per writer schema, not per row (`avro_fields` has the type table).
Schema evolution: a record is read with the schema it was written with, so any version
serves. A writer schema without a declared feature gives its records that reason, unless
the feature is in `nullable` (then NaN); a passthrough field it lacks is null (or the
reason, when passthrough fields are required). Column dtypes are those of the JSON decoder
(`stream_scorer.types.TYPES`).
"""

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import Any

import numpy as np
import orjson
import pandas as pd
from fastavro import parse_schema, schemaless_reader
from fastavro.schema import expand_schema

from stream_scorer.errors import ConfigError
from stream_scorer.features.avro_columns import Layout, flat_layout, read_columns
from stream_scorer.features.avro_fields import AvroField, find_field, without_logical_types
from stream_scorer.features.avro_writers import FixedWriter, UnknownSchemaError, WriterSchemas
from stream_scorer.features.base import DecodedBatch, Decoder
from stream_scorer.types import TYPES, FieldType


@dataclass(frozen=True)
class _Plan:
    """How to read the declared fields from records of one writer schema."""

    reading: Any
    """The parsed writer schema fastavro reads with (logical types stripped)."""
    fields: dict[str, AvroField | None]
    """Declared name -> its field in the writer schema (None: absent, allowed)."""
    reason: str | None
    """Why no record of this writer schema can be scored, or None."""
    layout: Layout | None = None
    """Every field of a writer schema read as columns (`avro_columns`), or None."""


class AvroDecoder(Decoder):
    """Avro records -> the declared feature and passthrough columns; never raises for a bad
    record. Raises `SchemaRegistryUnavailableError` when a writer schema cannot be fetched."""

    def __init__(
        self,
        writers: WriterSchemas,
        feature_schema: dict[str, FieldType],
        passthrough: dict[str, FieldType],
        nullable: Sequence[str] = (),
        passthrough_required: bool = False,
    ) -> None:
        self.writers = writers
        self.feature_schema = feature_schema
        self.passthrough = passthrough
        self.nullable = frozenset(nullable)
        self.passthrough_required = passthrough_required
        self._plans: dict[int, _Plan] = {}

    def check(self) -> None:
        """With a fixed writer schema, every declared field must be readable from it."""
        if isinstance(self.writers, FixedWriter):
            reason = self.plan(0).reason
            if reason is not None:
                msg = f"features.avro_schema does not fit features: {reason}"
                raise ConfigError(msg)

    def plan(self, key: int) -> _Plan:
        """The reading plan of writer schema `key` (cached)."""
        if key not in self._plans:
            self._plans[key] = self._plan(key, self.writers.schema(key))
        return self._plans[key]

    def decode(self, values: Sequence[bytes | None]) -> DecodedBatch:
        """Decode every value; see the module."""
        values = values.tolist() if isinstance(values, pd.Series) else list(values)
        n = len(values)
        errors: list[str | None] = [None] * n
        features = {
            name: np.empty(n, TYPES[kind].dtype) for name, kind in self.feature_schema.items()
        }
        extras = {name: np.full(n, None, object) for name in self.passthrough}
        for key, (rows, bodies) in self.writers.frame(values, errors).items():
            try:
                plan = self.plan(key)
            except UnknownSchemaError as exc:
                plan = _Plan({}, {}, str(exc))
            if plan.reason is not None:
                for i in rows:
                    errors[i] = plan.reason
                continue
            rows, values_of = self._read(key, plan, rows, bodies, errors)
            at = np.array(rows, dtype=np.intp)
            for name, kind in self.feature_schema.items():
                field = plan.fields[name]
                if field is None:  # nullable, and absent from this writer schema
                    features[name][at] = math.nan
                    continue
                column, problems = self._feature(name, kind, field, values_of(name))
                features[name][at] = column
                for k, reason in problems:
                    errors[rows[k]] = errors[rows[k]] or reason
            for name, kind in self.passthrough.items():
                field = plan.fields[name]
                if field is not None:
                    convert = _converter(field, kind)
                    raw = values_of(name)
                    raw = raw.tolist() if isinstance(raw, np.ndarray) else raw
                    extras[name][at] = [convert(value) for value in raw]
                    for k in _out_of_range(raw, kind) if field.kind == "long" else ():
                        errors[rows[k]] = errors[rows[k]] or (
                            f"field '{name}': {raw[k]} is out of range for {kind}"
                        )
        bad = [i for i, error in enumerate(errors) if error is not None]
        for name, kind in self.feature_schema.items():
            features[name][bad] = TYPES[kind].placeholder
        index = pd.RangeIndex(n)
        passthrough = {
            name: pd.array(extras[name], dtype=TYPES[kind].nullable)
            for name, kind in self.passthrough.items()
        }
        return DecodedBatch(
            pd.DataFrame(features, index=index, columns=list(self.feature_schema)),
            pd.DataFrame(passthrough, index=index, columns=list(self.passthrough)),
            errors,
        )

    def _read(
        self, key: int, plan: _Plan, rows: list[int], bodies: list[bytes], errors: list[str | None]
    ) -> tuple[list[int], Callable[[str], list | np.ndarray]]:
        """(the rows whose body decoded, a function giving a declared field's values on them);
        the other rows get their reason in `errors`. Simple schemas are read as columns (see
        `avro_columns`), others record by record with fastavro."""
        where = self.writers.name(key)
        if plan.layout is not None:
            columns, nulls, ok = read_columns(bodies, plan.layout, set(plan.fields))
            if not ok.all():
                odd = np.flatnonzero(~ok).tolist()
                _read([bodies[k] for k in odd], plan.reading, where, [rows[k] for k in odd], errors)
                for k in odd:  # the reader names the reason; a byte that is not a boolean's
                    errors[rows[k]] = errors[rows[k]] or f"a boolean of {where} is not 0 or 1"
                rows = [rows[k] for k in np.flatnonzero(ok).tolist()]
                columns = {path: column[ok] for path, column in columns.items()}
                nulls = {path: null[ok] for path, null in nulls.items()}
            return rows, partial(_column, columns, nulls)
        records = _read(bodies, plan.reading, where, rows, errors)
        if None in records:  # drop the bodies that did not decode
            rows = [i for i, record in zip(rows, records, strict=True) if record is not None]
            records = [record for record in records if record is not None]
        return rows, lambda name: _values(records, name)

    def _feature(
        self, name: str, kind: FieldType, field: AvroField, raw: list | np.ndarray
    ) -> tuple[np.ndarray, list[tuple[int, str]]]:
        """A feature's values, of `kind`'s dtype, and (position, reason) of each value that
        does not fit: null (NaN where `nullable`), not finite, out of range."""
        spec = TYPES[kind]
        if field.kind == "decimal":
            convert = _converter(field, kind)
            raw = [convert(value) for value in raw]
        problems: list[tuple[int, str]] = []
        if field.nullable and isinstance(raw, list) and None in raw:
            nulls = [k for k, value in enumerate(raw) if value is None]
            fill = math.nan if name in self.nullable else spec.placeholder
            for k in nulls:
                raw[k] = fill
            if name not in self.nullable:
                problems += [(k, f"field '{name}' is null or missing") for k in nulls]
        column = np.asarray(raw, dtype=spec.dtype)
        if spec.python is float:
            odd = np.flatnonzero(
                np.isinf(column) if name in self.nullable else ~np.isfinite(column)
            )
            problems += [(k, f"field '{name}': not a finite number") for k in odd.tolist()]
        elif spec.int_range is not None and field.kind == "long" and kind == "int":
            low, high = spec.int_range
            for k in np.flatnonzero((column < low) | (column > high)).tolist():
                problems.append((k, f"field '{name}': {column[k]} is out of range for {kind}"))
        return column, problems

    def _plan(self, key: int, writer: dict) -> _Plan:
        """Check every declared field against writer schema `key` once."""
        where = self.writers.name(key)
        try:
            expanded = expand_schema(writer)
            reading = parse_schema(without_logical_types(writer))
        except Exception as exc:  # fastavro's SchemaParseException, KeyError, ...
            return _Plan({}, {}, f"{where} is not a valid Avro schema: {exc}")
        fields: dict[str, AvroField | None] = {}
        problems = []
        for name, kind in {**self.feature_schema, **self.passthrough}.items():
            field = fields[name] = find_field(expanded, name)
            is_passthrough = name in self.passthrough
            if field is None:
                if is_passthrough and self.passthrough_required:
                    problems.append(f"missing passthrough field '{name}' ({where} has none)")
                elif not is_passthrough and name not in self.nullable:
                    problems.append(f"{where} has no field '{name}' (a feature, not nullable)")
            elif not field.reads_as(kind, is_passthrough):
                problems.append(f"field '{name}' is Avro {field.described} in {where}, not {kind}")
        return _Plan(reading, fields, "; ".join(problems) or None, flat_layout(expanded))


def _read(
    bodies: list[bytes], reading: dict, where: str, rows: list[int], errors: list[str | None]
) -> list[Any]:
    """Read each body in turn from one buffer; a body that does not decode to its exact
    length is None, with the reason in `errors` at its row."""
    stream = io.BytesIO(b"".join(bodies))
    records: list[Any] = []
    end = 0
    for row, body in zip(rows, bodies, strict=True):
        start, end = end, end + len(body)
        try:
            if stream.tell() != start:
                stream.seek(start)
            record = schemaless_reader(stream, reading, None)
            read = stream.tell() - start
        except Exception as exc:  # fastavro raises EOFError, ValueError, IndexError, ...
            record, read = None, -1
            errors[row] = f"Avro body of {len(body)} bytes does not decode with {where}: {exc!r}"
        if read != -1 and read != len(body):
            record = None
            errors[row] = (
                f"Avro body of {len(body)} bytes does not decode with {where} "
                f"(a record of it takes {read} bytes here)"
            )
        records.append(record)
    return records


def _column(
    columns: dict[str, np.ndarray], nulls: dict[str, np.ndarray], path: str
) -> list | np.ndarray:
    """A column of `read_columns`; a list with None for its nulls, if it has any."""
    null = nulls.get(path)
    if null is None or not null.any():
        return columns[path]
    values = columns[path].tolist()
    for k in np.flatnonzero(null).tolist():
        values[k] = None
    return values


def _out_of_range(values: list, kind: FieldType) -> list[int]:
    """Positions of the values outside `kind`'s integer range (none for other types)."""
    bounds = TYPES[kind].int_range
    if bounds is None:
        return []
    low, high = bounds
    return [k for k, value in enumerate(values) if value is not None and not low <= value <= high]


def _values(records: list[Any], path: str) -> list:
    """The value at dotted `path` of each record; None where a nullable record on the way
    is null. The plan checked that every record of its writer schema has the path."""
    if "." not in path:
        return list(map(itemgetter(path), records))
    values = records
    for name in path.split("."):
        values = [None if value is None else value[name] for value in values]
    return values


def _converter(field: AvroField, kind: FieldType) -> Callable[[Any], Any]:
    """Stored value -> the declared type's Python value (None stays None)."""
    if field.kind == "decimal":
        scale = 10**field.scale

        def decimal(raw: Any) -> Any:
            if raw is None:
                return None
            number = int.from_bytes(raw, "big", signed=True) / scale
            return _text(number) if kind == "string" else number

        return decimal
    if kind == "string" and field.kind not in ("string", "enum"):
        return lambda raw: None if raw is None else _text(raw)
    if TYPES[kind].python is float and field.kind in ("int", "long"):
        return lambda raw: None if raw is None else float(raw)
    return _same


def _same(raw: Any) -> Any:
    return raw


def _text(value: Any) -> str:
    return orjson.dumps(value).decode()
