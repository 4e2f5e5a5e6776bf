"""JSON record values -> typed feature and passthrough columns, with a reason per bad row.

Each value is one JSON object. Declared fields are read, type-checked and converted; extra
fields are ignored. A passthrough field missing from a record is null, or, when passthrough
fields are required, the record's reason. A nullable feature (`features.nullable`) missing or
null is NaN (None for a string). A row that fails gets placeholder values and a
human-readable reason, so one bad record never fails a batch. Column dtypes come from
`stream_scorer.types.TYPES`: features get a type's `dtype` (float64, int64, bool, object),
passthrough columns its `nullable` dtype (Float64, Int64, boolean, object). JSON has one
number type, so ints are doubles and integral floats (``3.0``) are longs; booleans are never
numbers.
"""

import json
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any, cast

import numpy as np
import orjson
import pandas as pd

from stream_scorer.features.base import DecodedBatch, Decoder
from stream_scorer.types import TYPES, FieldType, Scalar

_FLOATS = frozenset(name for name, spec in TYPES.items() if spec.python is float)
_JSON_KINDS = {list: "a list", str: "a string", int: "a number", float: "a number"}
_JSON_KINDS |= {bool: "a boolean", type(None): "null"}


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


def _to_float(value: Any, kind: FieldType) -> float:
    if type(value) is float:
        if not math.isfinite(value):
            raise _FieldError("not a finite number")
        return value
    if type(value) is int:
        return float(value)
    raise _FieldError(f"expected {kind}, got {_describe(value)}")


def _to_int(value: Any, kind: FieldType) -> int:
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int:
        raise _FieldError(f"expected {kind}, got {_describe(value)}")
    bounds = TYPES[kind].int_range
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise _FieldError(f"{value} is out of range for {kind}")
    return value


def _to_bool(value: Any, kind: FieldType) -> bool:
    if type(value) is not bool:
        raise _FieldError(f"expected boolean, got {_describe(value)}")
    return value


def _to_str(value: Any, kind: FieldType) -> str:
    if type(value) is not str:
        raise _FieldError(f"expected string, got {_describe(value)}")
    return value


def _as_text(value: Any, kind: FieldType) -> str:
    """Passthrough strings take any JSON value; non-strings keep their JSON text."""
    if type(value) is str:
        return value
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an int past 64 bits, which only the stdlib fallback reads
        return json.dumps(value)


_Convert = Callable[[Any, FieldType], Scalar]
_BY_PYTHON: dict[type, _Convert] = {float: _to_float, int: _to_int, bool: _to_bool, str: _to_str}
_FEATURE_CONVERT = {name: _BY_PYTHON[spec.python] for name, spec in TYPES.items()}
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


_Schema = dict[str, FieldType]
_Row = list[Scalar | None]
_Parsed = tuple[pd.DataFrame, pd.DataFrame, list[str | None]]
"""(features, passthrough, errors) of a batch."""


def _parse_record(
    value: bytes | None,
    schema: _Schema,
    passthrough: _Schema,
    required: bool = False,
    nullable: frozenset[str] = frozenset(),
) -> tuple[_Row | None, _Row | None, str | None]:
    """The general path: (feature values, passthrough values, reason or None) of one value;
    `required`: a passthrough field missing from it is a reason too; a `nullable` feature
    missing or null is None."""
    doc, reason = _decode(value)
    if not isinstance(doc, dict):
        if reason is None:
            reason = f"JSON value is {_JSON_KINDS.get(type(doc), 'not an object')}, "
            reason += "expected an object"
        return None, None, reason
    problems: list[str] = []
    features: _Row = []
    for name, kind in schema.items():
        if name in nullable and doc.get(name) is None:
            features.append(None)
            continue
        if name not in doc:
            problems.append(f"missing field '{name}'")
            continue
        try:
            features.append(_FEATURE_CONVERT[kind](doc[name], kind))
        except _FieldError as exc:
            problems.append(f"field '{name}': {exc}")
    extra: _Row = []
    for name, kind in passthrough.items():
        if required and name not in doc:
            problems.append(f"missing passthrough field '{name}'")
            continue
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


def _parse_general(
    values: list[bytes | None],
    schema: _Schema,
    passthrough: _Schema,
    required: bool = False,
    nullable: frozenset[str] = frozenset(),
) -> _Parsed:
    """Every row through `_parse_record`: (features, passthrough, errors)."""
    rows: list[_Row] = []
    extras: list[_Row | None] = []
    errors: list[str | None] = []
    feature_fill: _Row = [TYPES[k].placeholder for k in schema.values()]
    for value in values:
        row, extra, error = _parse_record(value, schema, passthrough, required, nullable)
        rows.append(row or feature_fill)
        extras.append(extra)
        errors.append(error)
    features = _frame(rows, schema, nullable=False)
    return features, _frame(extras, passthrough, nullable=True), errors


def _parse_numeric(
    values: list[bytes | None],
    schema: _Schema,
    passthrough: _Schema,
    required: bool = False,
    nullable: frozenset[str] = frozenset(),
) -> _Parsed:
    """Fast path for all-double schemas: C-level decode, field pick and type checks.

    Rows it doubts (bad JSON, not an object, a missing feature, a value that does not fit
    its type, with `required` a missing passthrough field) are re-read by the general path,
    which names the reason; so both paths give identical results.
    """
    names = list(schema)
    fill = (0.0,) * len(names)
    pick = itemgetter(*names) if len(names) > 1 else (lambda doc: (doc[names[0]],))
    # A value that fails to decode (None included: orjson raises TypeError) fails the pick.
    if passthrough:  # docs are kept for passthrough fields
        docs = _map_each(orjson.loads, values, None)[0]
        rows, doubtful = _map_each(pick, docs, fill)
        for i in doubtful:
            docs[i] = {}  # so that every doc has .get
    else:
        rows, doubtful = _map_each(pick, map(orjson.loads, cast("list[bytes]", values)), fill)
    frame = pd.DataFrame.from_records(rows, columns=names, nrows=len(rows))
    matrix = np.empty((len(rows), len(names)))
    for j in range(len(names)):
        matrix[:, j], odd = _doubles(frame.iloc[:, j], rows, j)
        doubtful += odd
    columns = []
    for name, kind in passthrough.items():  # a missing field is null, as in the general path
        if required:  # the only cost of requiring: one C-level membership test per row
            present = np.fromiter(map(operator.contains, docs, repeat(name)), bool, len(docs))
            doubtful += np.flatnonzero(~present).tolist()
        data, null, odd = _passthrough_column(list(map(dict.get, docs, repeat(name))), kind)
        columns.append((data, null))
        doubtful += odd
    errors: list[str | None] = [None] * len(rows)
    nulls = (None,) * len(passthrough)
    for i in set(doubtful):
        row, extra, errors[i] = _parse_record(values[i], schema, passthrough, required, nullable)
        matrix[i] = row or fill  # numpy makes a nullable feature's None a NaN
        for (data, null), value in zip(columns, extra or nulls, strict=True):
            null[i] = value is None
            if value is not None:
                data[i] = value
    extras = {
        name: _nullable(data, null, kind)
        for name, kind, (data, null) in zip(passthrough, passthrough.values(), columns, strict=True)
    }
    features = pd.DataFrame(matrix, columns=names, copy=False)
    return features, _table(extras, len(rows)), errors


def _map_each(function: Callable, items: Iterable, fill: Any) -> tuple[list, list[int]]:
    """([function(item) for item in items], indices where it raised); those hold `fill`.

    Runs in C; an item that raises KeyError, TypeError or ValueError costs one caught
    exception, and the map goes on with the next item.
    """
    results: list = []
    failed: list[int] = []
    mapped = map(function, items)
    while True:
        try:
            results.extend(mapped)
            return results, failed
        except (KeyError, TypeError, ValueError):  # extend keeps the results before it
            failed.append(len(results))
            results.append(fill)


def _doubles(column: pd.Series, rows: list[tuple], j: int) -> tuple[np.ndarray, list[int]]:
    """A feature column as float64, and the rows whose value is not a number.

    pandas' C type inference does the checking: a column of ints and floats comes out
    numeric, a bool or string makes it object, a null makes a NaN (JSON has no NaN).
    """
    if column.dtype.kind in "fiu":
        doubles = column.to_numpy(dtype=np.float64)
        odd = []
    else:
        values = list(map(itemgetter(j), rows))
        odd = [i for i, v in enumerate(values) if type(v) is not float and type(v) is not int]
        for i in odd:
            values[i] = 0.0
        doubles = np.array(values, dtype=np.float64)
    return doubles, odd + np.flatnonzero(np.isnan(doubles)).tolist()


def _passthrough_column(values: list, kind: FieldType) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(data, null mask, rows whose value does not fit `kind`) of one passthrough field.

    `values` are decoded by orjson (None for null or missing). If a C-level type census
    finds only the plain types of `kind`, the column converts whole; otherwise only the
    other values are converted one by one. Consumes `values`.
    """
    spec = TYPES[kind]
    plain = spec.json_types
    null = np.zeros(len(values), dtype=bool)
    odd = []
    if not plain.issuperset(map(type, values)):
        convert = _PASSTHROUGH_CONVERT[kind]
        for i in [i for i, v in enumerate(values) if type(v) not in plain]:
            value, values[i] = values[i], spec.placeholder
            if value is None:
                null[i] = True
                continue
            try:
                values[i] = convert(value, kind)
            except _FieldError:
                odd.append(i)
    if spec.int_range is not None and values:  # all ints now; orjson reads up to 2**64 - 1
        low, high = spec.int_range
        if min(values) < low or max(values) > high:
            for i in [i for i, v in enumerate(values) if not low <= v <= high]:
                values[i] = spec.placeholder
                odd.append(i)
    return np.array(values, dtype=spec.dtype), null, odd


def _nullable(
    data: np.ndarray, null: np.ndarray, kind: FieldType
) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """Values and a null mask -> a column of the nullable dtype of `kind`."""
    python = TYPES[kind].python
    if python is float:
        return pd.arrays.FloatingArray(data, null)
    if python is int:
        return pd.arrays.IntegerArray(data, null)
    if python is bool:
        return pd.arrays.BooleanArray(data, null)
    data[null] = None
    return data


def _frame(rows: list, types: dict[str, FieldType], nullable: bool) -> pd.DataFrame:
    """Rows (lists, or None for all-null) -> one column per field, of the type's dtype
    (`nullable`: its nullable dtype)."""
    columns = {
        name: pd.Series(
            [row[j] if row else None for row in rows],
            dtype=TYPES[kind].nullable if nullable else TYPES[kind].dtype,
        )
        for j, (name, kind) in enumerate(types.items())
    }
    return _table(columns, len(rows))


def _table(columns: dict, length: int) -> pd.DataFrame:
    """Columns (name -> Series or array) -> a frame of `length` rows, even with no columns."""
    if not columns:
        return pd.DataFrame(index=pd.RangeIndex(length))
    return pd.DataFrame(columns, index=pd.RangeIndex(length), columns=list(columns))


def parse_json(
    values: Sequence[bytes | None],
    feature_schema: dict[str, FieldType],
    passthrough: dict[str, FieldType],
    passthrough_required: bool = False,
    nullable: frozenset[str] = frozenset(),
) -> DecodedBatch:
    """Parse Kafka values (JSON objects) into typed feature and passthrough columns.

    Guarantees every output is aligned with `values`; never raises for a bad record: its
    reason is in `errors` (several field problems are joined with '; '). A passthrough field
    missing from a record is null, unless `passthrough_required`: then the record gets the
    reason "missing passthrough field '<name>'" (an explicit JSON null stays null). A
    `nullable` feature missing or null is NaN (None for a string feature).
    """
    values = values.tolist() if isinstance(values, pd.Series) else list(values)
    parse = _parse_numeric if set(feature_schema.values()) <= _FLOATS else _parse_general
    parsed = parse(values, feature_schema, passthrough, passthrough_required, nullable)
    return DecodedBatch(*parsed)


class JsonDecoder(Decoder):
    """JSON objects -> the declared feature and passthrough columns (`parse_json`)."""

    def __init__(
        self,
        feature_schema: dict[str, FieldType],
        passthrough: dict[str, FieldType],
        passthrough_required: bool = False,
        nullable: frozenset[str] = frozenset(),
    ) -> None:
        self.feature_schema = feature_schema
        self.passthrough = passthrough
        self.passthrough_required = passthrough_required
        self.nullable = nullable

    def decode(self, values: Sequence[bytes | None]) -> DecodedBatch:
        """Parse every value; see `parse_json`."""
        return parse_json(
            values, self.feature_schema, self.passthrough, self.passthrough_required, self.nullable
        )
