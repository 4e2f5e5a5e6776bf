"""Avro fields by dotted path, and which declared type each Avro type is read as.

| Avro type (writer schema)                        | read as declared type                  |
| ------------------------------------------------ | -------------------------------------- |
| double, float                                    | double, float                          |
| int, long                                        | double, float (widened), long, int     |
| decimal (bytes or fixed)                         | double, float (nearest double)         |
| timestamp-millis/-micros, time-micros (long)     | long (the stored count since epoch)    |
| date, time-millis (int)                          | int, long (days / ms, as stored)       |
| boolean                                          | boolean                                |
| string, uuid, enum (its symbol)                  | string                                 |
| ["null", T] (either order)                       | T, nullable                            |
| bytes, fixed, array, map, record, other unions   | not readable as a feature              |

A passthrough field typed `string` also takes any readable scalar, as its JSON text.
Logical types other than decimal are read as their underlying int or long, exactly.
"""

import copy
from dataclasses import dataclass
from typing import Any

from stream_scorer.types import FieldType

READS: dict[FieldType, frozenset[str]] = {
    "double": frozenset({"double", "float", "int", "long", "decimal"}),
    "float": frozenset({"double", "float", "int", "long", "decimal"}),
    "long": frozenset({"int", "long"}),
    "int": frozenset({"int", "long"}),
    "boolean": frozenset({"boolean"}),
    "string": frozenset({"string", "enum"}),
}
"""Declared feature type -> the Avro kinds (see `AvroField.kind`) it reads."""
SCALARS = frozenset().union(*READS.values())
"""Every Avro kind a passthrough `string` takes."""


@dataclass(frozen=True)
class AvroField:
    """One field of a writer schema, found by its dotted path."""

    kind: str
    """'double', 'float', 'int', 'long', 'boolean', 'string', 'enum', 'decimal', or the
    unreadable 'bytes', 'fixed', 'array', 'map', 'record', 'union'."""
    described: str
    """How the writer schema declares it, for reasons ("long (timestamp-millis)")."""
    nullable: bool
    """A union with null, or inside a nullable record."""
    scale: int = 0
    """Digits after the point of a decimal."""

    def reads_as(self, kind: FieldType, passthrough: bool = False) -> bool:
        """Whether values of this field can be read as the declared `kind`."""
        if passthrough and kind == "string":
            return self.kind in SCALARS
        return self.kind in READS[kind]


def find_field(schema: Any, path: str) -> AvroField | None:
    """The field at dotted `path` of an expanded record schema (`expand_schema`), or None."""
    node: Any = schema
    nullable = False
    for name in path.split("."):
        node, inner_null = _non_null(node)
        nullable |= inner_null
        if not isinstance(node, dict) or node.get("type") != "record":
            return None
        found = [f for f in node["fields"] if f["name"] == name]
        if not found:
            return None
        node = found[0]["type"]
    node, inner_null = _non_null(node)
    return _field(node, nullable or inner_null)


def _non_null(node: Any) -> tuple[Any, bool]:
    """(the branch, True) of a union with null and one other type; else (node, False)."""
    if isinstance(node, list) and "null" in node and len(node) == 2:
        return next(branch for branch in node if branch != "null"), True
    return node, False


def _field(node: Any, nullable: bool) -> AvroField:
    if isinstance(node, list):
        return AvroField("union", f"union {node}", nullable)
    if isinstance(node, str):
        return AvroField(node, node, nullable)
    base, logical = node.get("type"), node.get("logicalType")
    if isinstance(base, dict | list):  # {"type": {...}}: a nested declaration
        return _field(base, nullable)
    if logical == "decimal" and base in ("bytes", "fixed"):
        scale = int(node.get("scale", 0))
        return AvroField("decimal", f"decimal({node.get('precision')}, {scale})", nullable, scale)
    described = f"{base} ({logical})" if logical else str(base)
    return AvroField(str(base), described, nullable)


def without_logical_types(schema: Any) -> Any:
    """A copy of `schema` without `logicalType` annotations: values are read as stored
    (a timestamp-millis as its long, a decimal as its bytes), which `AvroField` converts."""
    schema = copy.deepcopy(schema)
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            node.pop("logicalType", None)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return schema
