"""The rows of an Arrow batch as JSON objects, built column by column.

Each column becomes one JSON text per row (`_fragments`), with no Python object per value
where Arrow or orjson can format the whole column at once: integers and booleans by Arrow's
cast, floating point numbers by one `orjson.dumps` of the column's NumPy array, strings and
zoned timestamps quoted by Arrow (a string needing escapes goes through orjson), maps of
string keys and lists of those scalars joined by Arrow. Only binary, other maps and lists,
structs, decimals and naive timestamps are converted value by value. Arrow then joins the
texts into objects, row by row, in one call. The result is what
`orjson.dumps` of each row as a dict gives: binary as base64, maps as objects, decimals as
strings, zoned timestamps as ISO-8601 in UTC with the suffix `Z`, NaN and infinities as null.
"""

import base64
from decimal import Decimal
from functools import partial
from itertools import pairwise
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'
_NULL = pa.scalar(b"null", pa.binary())
_QUOTE = pa.scalar(b'"', pa.binary())
_NOTHING = pa.scalar(b"", pa.binary())
_ZULU = pa.scalar(b'Z"', pa.binary())
_COLON = pa.scalar(b":", pa.binary())
_OPEN = pa.scalar(b"{", pa.binary())
_CLOSE = pa.scalar(b"}", pa.binary())
_LIST_OPEN = pa.scalar(b"[", pa.binary())
_LIST_CLOSE = pa.scalar(b"]", pa.binary())


def json_values(batch: pa.RecordBatch) -> list[bytes]:
    """The rows of `batch` as JSON objects, one `bytes` per row (see the module)."""
    if not batch.num_columns:
        return [b"{}"] * batch.num_rows
    parts: list[pa.Array | pa.Scalar] = []
    for i, (name, column) in enumerate(zip(batch.schema.names, batch.columns, strict=True)):
        label = (b"{" if i == 0 else b",") + orjson.dumps(name) + b":"
        parts += [pa.scalar(label, pa.binary()), _fragments(column)]
    parts.append(pa.scalar(b"}", pa.binary()))
    return pc.binary_join_element_wise(*parts, _NOTHING).to_pylist()


def _fragments(column: pa.Array) -> pa.Array:
    """Each value of `column` as JSON text (binary, never null)."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        texts = column.cast(pa.string()).cast(pa.binary())
    elif pa.types.is_floating(kind):
        return _numbers(column)
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        texts = _strings(column.cast(pa.string()))
    elif pa.types.is_timestamp(kind) and kind.tz is not None:
        texts = _timestamps(column)
    elif pa.types.is_map(kind) and pa.types.is_string(kind.key_type) and _flat(kind.item_type):
        return _map(column)
    elif pa.types.is_list(kind) and _flat(kind.value_type):
        return _list(column)
    else:
        dump = partial(orjson.dumps, default=_json_default, option=_JSON_OPTIONS)
        return pa.array(map(dump, _column_values(column)), pa.binary(), size=len(column))
    return pc.fill_null(texts, _NULL) if texts.null_count else texts


def _numbers(column: pa.Array) -> pa.Array:
    """Floating point values as orjson writes a Python float; NaN, infinities, nulls: null."""
    if not len(column):
        return pa.array([], pa.binary())
    values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)  # nulls become NaN
    texts = orjson.dumps(np.ascontiguousarray(values), option=orjson.OPT_SERIALIZE_NUMPY)
    return pa.array(texts[1:-1].split(b","), pa.binary())  # numbers hold no comma


def _strings(column: pa.Array) -> pa.Array:
    """Strings quoted; through orjson when one needs an escape (quote, backslash, control)."""
    if pc.any(pc.match_substring_regex(column, _NEEDS_ESCAPE)).as_py():
        return pa.array(map(orjson.dumps, column.to_pylist()), pa.binary(), size=len(column))
    return _quoted(column)


def _timestamps(column: pa.Array) -> pa.Array:
    """Zoned timestamps as quoted ISO-8601 in UTC, `2024-05-01T08:00:05.500000Z` (as many
    fraction digits as the unit has, as `strftime`'s `%S`); nulls stay null."""
    unit = column.type.unit
    naive = column.cast(pa.timestamp(unit, tz="UTC")).cast(pa.timestamp(unit))
    iso = pc.replace_substring(naive.cast(pa.string()), " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(_QUOTE, iso.cast(pa.binary()), _ZULU, _NOTHING)


def _flat(kind: pa.DataType) -> bool:
    """True for the items `_map` and `_list` encode: numbers, booleans, strings."""
    scalar = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean, pa.types.is_string)
    return any(test(kind) for test in scalar)


def _map(column: pa.MapArray) -> pa.Array:
    """A map of string keys to `_flat` items as objects, entries in their order."""
    entries = pc.binary_join_element_wise(
        _strings(column.keys), _COLON, _fragments(column.items), _NOTHING
    )  # the maps' whole children: `offsets` point into them, sliced or not
    return _joined(column, entries, _OPEN, _CLOSE)


def _list(column: pa.ListArray) -> pa.Array:
    """A list of `_flat` items as arrays."""
    return _joined(column, _fragments(column.values), _LIST_OPEN, _LIST_CLOSE)


def _joined(column: pa.Array, items: pa.Array, open_: pa.Scalar, close: pa.Scalar) -> pa.Array:
    """Each row's `items` (JSON texts of the whole child, which `column.offsets` index)
    joined with commas between `open_` and `close`; null rows as null."""
    joined = pc.binary_join(pa.ListArray.from_arrays(column.offsets, items), b",")
    texts = pc.binary_join_element_wise(open_, joined, close, _NOTHING)
    return pc.if_else(column.is_null(), _NULL, texts) if column.null_count else texts


def _quoted(texts: pa.Array) -> pa.Array:
    """`texts` (strings needing no escape) in quotes; nulls stay null."""
    return pc.binary_join_element_wise(_QUOTE, texts.cast(pa.binary()), _QUOTE, _NOTHING)


def _json_default(value: object) -> object:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)  # exact, as Spark's own to_json writes decimals
    msg = f"cannot encode {type(value).__name__} as JSON"
    raise TypeError(msg)


def _column_values(column: pa.Array) -> list[Any]:
    """The values of a column orjson takes value by value: maps as dicts (without a Python
    object per entry on the way), nested zoned timestamps as UTC datetimes."""
    kind = column.type
    if pa.types.is_map(kind) and column.null_count == 0:
        keys = column.keys.to_pylist()
        items = column.items.cast(_utc(kind.item_type)).to_pylist(maps_as_pydicts="strict")
        bounds = column.offsets.to_pylist()
        return [dict(zip(keys[a:b], items[a:b], strict=True)) for a, b in pairwise(bounds)]
    return column.cast(_utc(kind)).to_pylist(maps_as_pydicts="strict")


def _utc(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        return pa.timestamp(kind.unit, tz="UTC")
    if pa.types.is_list(kind):
        return pa.list_(kind.value_field.with_type(_utc(kind.value_type)))
    if pa.types.is_large_list(kind):
        return pa.large_list(kind.value_field.with_type(_utc(kind.value_type)))
    if pa.types.is_struct(kind):
        return pa.struct([field.with_type(_utc(field.type)) for field in kind])
    if pa.types.is_map(kind):
        return pa.map_(kind.key_field, kind.item_field.with_type(_utc(kind.item_type)))
    return kind
