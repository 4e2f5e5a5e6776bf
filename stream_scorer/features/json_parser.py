"""JSON record values -> typed feature and passthrough columns, with a reason per bad row.

Each value is one JSON object. Declared fields are read, type-checked and converted; extra
fields are ignored. A row that fails gets placeholder values and a human-readable reason,
so one bad record never fails a batch. Types: double/float -> float64, long/int -> int64,
boolean -> bool, string -> object (features); passthrough columns are nullable
(float64 with NaN, Int64, boolean, object). JSON has one number type, so ints are doubles
and integral floats (``3.0``) are longs; booleans are never numbers.
"""

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import orjson
import pandas as pd

_CHUNK = 512
"""Rows the fast path parses per C-level pass; a bad row sends its chunk row by row."""
_FLOATS = frozenset({"double", "float"})
_INT_RANGE = {"long": (-(2**63), 2**63 - 1), "int": (-(2**31), 2**31 - 1)}
_FEATURE_DTYPES = {"double": "float64", "float": "float64", "long": "int64", "int": "int64"}
_FEATURE_DTYPES |= {"boolean": "bool", "string": "object"}
_PASSTHROUGH_DTYPES = {"double": "float64", "float": "float64", "long": "Int64", "int": "Int64"}
_PASSTHROUGH_DTYPES |= {"boolean": "boolean", "string": "object"}
_PLACEHOLDERS = {"double": 0.0, "float": 0.0, "long": 0, "int": 0, "boolean": False, "string": ""}
_JSON_KINDS = {list: "a list", str: "a string", int: "a number", float: "a number"}
_JSON_KINDS |= {bool: "a boolean", type(None): "null"}


@dataclass(frozen=True)
class ParsedBatch:
    """Columns parsed from a batch of values; every field aligned with the input."""

    features: pd.DataFrame
    """Feature columns in schema order; placeholder values on rows with an error."""
    passthrough: pd.DataFrame
    """Passthrough columns (nullable); missing or null fields are null."""
    errors: list[str | None]
    """Why each row cannot be scored, or None."""


class _FieldError(ValueError):
    """A field's value does not fit its declared type; the message is the reason's tail."""


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        return "string " + json.dumps(shown, ensure_ascii=False)
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    return repr(value)


def _to_float(value: Any, kind: str) -> float:
    if type(value) is float:
        if not math.isfinite(value):
            raise _FieldError("not a finite number")
        return value
    if type(value) is int:
        return float(value)
    raise _FieldError(f"expected {kind}, got {_describe(value)}")


def _to_int(value: Any, kind: str) -> int:
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int:
        raise _FieldError(f"expected {kind}, got {_describe(value)}")
    low, high = _INT_RANGE[kind]
    if not low <= value <= high:
        raise _FieldError(f"{value} is out of range for {kind}")
    return value


def _to_bool(value: Any, kind: str) -> bool:
    if type(value) is not bool:
        raise _FieldError(f"expected boolean, got {_describe(value)}")
    return value


def _to_str(value: Any, kind: str) -> str:
    if type(value) is not str:
        raise _FieldError(f"expected string, got {_describe(value)}")
    return value


def _as_text(value: Any, kind: str) -> str:
    """Passthrough strings take any JSON value; non-strings keep their JSON text."""
    return value if type(value) is str else orjson.dumps(value).decode()


_Convert = Callable[[Any, str], Any]
_FEATURE_CONVERT: dict[str, _Convert] = {"double": _to_float, "float": _to_float}
_FEATURE_CONVERT |= {"long": _to_int, "int": _to_int, "boolean": _to_bool, "string": _to_str}
_PASSTHROUGH_CONVERT = {**_FEATURE_CONVERT, "string": _as_text}


def _decode(value: bytes | None) -> tuple[Any, str | None]:
    """Return (JSON value, None) or (None, reason)."""
    if value is None:
        return None, "value is null (tombstone)"
    if len(value) == 0:
        return None, "value is empty"
    try:
        return orjson.loads(value), None
    except orjson.JSONDecodeError as exc:
        strict = f"not valid JSON: {exc}"
    try:
        text = bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    try:  # the stdlib reads NaN/Infinity, so a non-finite field can be named
        return json.loads(text), strict
    except ValueError:
        return None, strict


def _parse_record(value: bytes | None, schema: dict[str, str], passthrough: dict[str, str]):
    """The general path: (feature values, passthrough values, reason or None) of one value."""
    doc, reason = _decode(value)
    if not isinstance(doc, dict):
        if reason is None:
            reason = f"JSON value is {_JSON_KINDS.get(type(doc), 'not an object')}, "
            reason += "expected an object"
        return None, None, reason
    problems: list[str] = []
    features = []
    for name, kind in schema.items():
        if name not in doc:
            problems.append(f"missing field '{name}'")
            continue
        try:
            features.append(_FEATURE_CONVERT[kind](doc[name], kind))
        except _FieldError as exc:
            problems.append(f"field '{name}': {exc}")
    extra = []
    for name, kind in passthrough.items():
        field = doc.get(name)
        try:
            extra.append(None if field is None else _PASSTHROUGH_CONVERT[kind](field, kind))
        except _FieldError as exc:
            problems.append(f"field '{name}': {exc}")
    if problems:
        return None, None, "; ".join(problems)
    if reason is not None:  # only the stdlib could read it, and no declared field is at fault
        return None, None, reason
    return features, extra, None


def _parse_general(values, schema, passthrough):
    features, extras, errors = [], [], []
    feature_fill = [_PLACEHOLDERS[k] for k in schema.values()]
    for value in values:
        row, extra, error = _parse_record(value, schema, passthrough)
        features.append(row or feature_fill)
        extras.append(extra)
        errors.append(error)
    return _frame(features, schema, _FEATURE_DTYPES), extras, errors


def _parse_numeric(values, schema, passthrough):
    """Fast path for all-double schemas: one orjson call and a C-level field pick per row.

    Rows the fast path doubts (bad JSON, missing fields, non-numbers) are re-read by the
    general path, which names the reason; so both paths give identical results.
    """
    names = list(schema)
    pick = itemgetter(*names) if len(names) > 1 else (lambda doc: (doc[names[0]],))
    loads = orjson.loads
    fill = (0.0,) * len(names)
    docs = list(map(_safe_loads, values)) if passthrough else []
    rows, doubtful = [], []
    for start in range(0, len(values), _CHUNK):
        chunk = docs[start : start + _CHUNK] if passthrough else values[start : start + _CHUNK]
        try:  # all C-level calls; a chunk with a bad row is redone row by row
            rows += map(pick, chunk) if passthrough else map(pick, map(loads, chunk))
        except (KeyError, TypeError, ValueError):
            del rows[start:]
            for i, item in enumerate(chunk, start):
                try:
                    rows.append(pick(item if passthrough else loads(item)))
                except (KeyError, TypeError, ValueError):
                    rows.append(fill)
                    doubtful.append(i)
    matrix, odd = _numbers(rows, names)
    if odd:
        doubtful = sorted(set(doubtful).union(odd))
    errors: list[str | None] = [None] * len(rows)
    extras = [_passthrough_of(doc, passthrough) for doc in docs] or [None] * len(rows)
    for i in doubtful:
        row, extras[i], errors[i] = _parse_record(values[i], schema, passthrough)
        matrix[i] = row or fill
    if passthrough:
        for i, extra in enumerate(extras):
            if isinstance(extra, str):  # a passthrough field did not fit its type
                errors[i], extras[i] = extra, None
                matrix[i] = fill
    return pd.DataFrame(matrix, columns=names, copy=False), extras, errors


def _safe_loads(value: bytes | None) -> Any:
    try:
        return orjson.loads(value)
    except (TypeError, ValueError):
        return None


def _numbers(rows: list[tuple], names: list[str]) -> tuple[np.ndarray, list[int]]:
    """Rows of JSON scalars -> (float64 matrix, indices of rows holding a non-number).

    pandas' C type inference does the checking: a column of ints and floats comes out
    numeric, a bool or string makes it object, a null makes a NaN (JSON has no NaN).
    """
    frame = pd.DataFrame.from_records(rows, columns=names, nrows=len(rows))
    odd: list[int] = []
    if any(dtype.kind not in "fiu" for dtype in frame.dtypes):
        odd = [i for i, row in enumerate(rows) if not _all_numbers(row)]
        fill = (0.0,) * len(names)
        rows = list(rows)
        for i in odd:
            rows[i] = fill
        frame = pd.DataFrame.from_records(rows, columns=names, nrows=len(rows))
    matrix = frame.to_numpy(dtype=np.float64)
    nulls = np.isnan(matrix).any(axis=1)
    if nulls.any():  # only from a JSON null: non-numbers were caught above
        matrix[nulls] = 0.0
        odd = sorted(set(odd).union(np.flatnonzero(nulls).tolist()))
    return matrix, odd


def _all_numbers(row: tuple) -> bool:
    return all(type(v) is float or type(v) is int for v in row)


def _passthrough_of(doc: Any, passthrough: dict[str, str]) -> list | str | None:
    """Passthrough values of a fast-path row, the reason they fail, or None (no object)."""
    if not isinstance(doc, dict):
        return None
    values, problems = [], []
    for name, kind in passthrough.items():
        field = doc.get(name)
        try:
            values.append(None if field is None else _PASSTHROUGH_CONVERT[kind](field, kind))
        except _FieldError as exc:
            problems.append(f"field '{name}': {exc}")
    return "; ".join(problems) if problems else values


def _frame(rows: list, types: dict[str, str], dtypes: dict[str, str]) -> pd.DataFrame:
    """Rows (lists, or None for all-null) -> one typed column per field."""
    if not types:
        return pd.DataFrame(index=pd.RangeIndex(len(rows)))
    data = {
        name: pd.Series([row[j] if row else None for row in rows], dtype=dtypes[kind])
        for j, (name, kind) in enumerate(types.items())
    }
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)), columns=list(types))


def parse_json(
    values: Sequence[bytes | None],
    feature_schema: dict[str, str],
    passthrough: dict[str, str],
) -> ParsedBatch:
    """Parse Kafka values (JSON objects) into typed feature and passthrough columns.

    Guarantees every output is aligned with `values`; never raises for a bad record: its
    reason is in `errors` (several field problems are joined with '; ').
    """
    values = values.tolist() if isinstance(values, pd.Series) else list(values)
    parse = _parse_numeric if set(feature_schema.values()) <= _FLOATS else _parse_general
    features, extras, errors = parse(values, feature_schema, passthrough)
    return ParsedBatch(features, _frame(extras, passthrough, _PASSTHROUGH_DTYPES), errors)
