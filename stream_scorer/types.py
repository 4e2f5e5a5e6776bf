"""Declared type names and what each one means to JSON, numpy, pandas, Spark and the model.

A feature, a passthrough field and a prediction each have one of these names (Spark SQL
type names). `TYPES` is the one table every part reads: the parser (which JSON values a
type accepts, its column dtypes), the model input (numeric or text), publish (canary
values) and the scoring output (Spark type, nullable pandas dtype).
"""

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeGuard, get_args

import numpy as np
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    StringType,
    StructType,
)

if TYPE_CHECKING:
    import pyarrow as pa

FieldType = Literal["double", "float", "long", "int", "string", "boolean"]
"""Types a feature or passthrough field may declare."""

PredictionType = Literal["double", "long", "string", "boolean"]
"""Types a model's prediction may have: its classes' type, or double for regressors."""

FIELD_TYPES: tuple[FieldType, ...] = get_args(FieldType)
"""Every declared type name, in documentation order."""

Scalar = float | int | bool | str
"""A Python value of a declared type."""


@dataclass(frozen=True)
class TypeSpec:
    """What one declared type name means everywhere a value of it goes."""

    name: FieldType
    python: type[float] | type[int] | type[bool] | type[str]
    """Python type of a converted value; JSON values of other types are converted or refused."""
    json_types: frozenset[type]
    """Types of decoded JSON values taken as they are (JSON ints are doubles, bools are not)."""
    int_range: tuple[int, int] | None
    """Inclusive bounds of an integer type; None for the others."""
    spark: DataType
    """Spark SQL type of an output column."""
    dtype: np.dtype
    """numpy dtype of a column without nulls (features, predictions)."""
    nullable: str
    """pandas dtype of a column that may hold nulls (passthrough fields, UDF outputs)."""
    placeholder: Scalar
    """Value standing in on rows that have an error."""
    canary: tuple[Scalar, Scalar, Scalar]
    """The three synthetic canary values of a feature at publish time."""

    @property
    def numeric(self) -> bool:
        """True when the model gets the feature as float64 (every type but string)."""
        return self.python is not str


def _float(name: FieldType, spark: DataType) -> TypeSpec:
    return TypeSpec(
        name=name,
        python=float,
        json_types=frozenset({float, int}),
        int_range=None,
        spark=spark,
        dtype=np.dtype(np.float64),
        nullable="Float64",
        placeholder=0.0,
        canary=(0.0, 1.0, -1.5),
    )


def _integer(name: FieldType, spark: DataType, bits: int) -> TypeSpec:
    return TypeSpec(
        name=name,
        python=int,
        json_types=frozenset({int}),
        int_range=(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1),
        spark=spark,
        dtype=np.dtype(np.int64),
        nullable="Int64",
        placeholder=0,
        canary=(0, 1, -1),
    )


TYPES: dict[FieldType, TypeSpec] = {
    "double": _float("double", DoubleType()),
    "float": _float("float", FloatType()),
    "long": _integer("long", LongType(), 64),
    "int": _integer("int", IntegerType(), 32),
    "string": TypeSpec(
        name="string",
        python=str,
        json_types=frozenset({str}),
        int_range=None,
        spark=StringType(),
        dtype=np.dtype(object),
        nullable="object",
        placeholder="",
        canary=("", "canary text", ""),
    ),
    "boolean": TypeSpec(
        name="boolean",
        python=bool,
        json_types=frozenset({bool}),
        int_range=None,
        spark=BooleanType(),
        dtype=np.dtype(np.bool_),
        nullable="boolean",
        placeholder=False,
        canary=(False, True, False),
    ),
}
"""Declared type name -> its `TypeSpec`."""


def is_field_type(name: str) -> TypeGuard[FieldType]:
    """True when `name` is a declared type name."""
    return name in TYPES


def arrow_schema(schema: StructType) -> "pa.Schema":
    """Return Spark's Arrow schema of `schema`, timestamps in UTC, on every pyspark.

    pyspark >= 4.2 takes the zone as `timezone`; 4.1, 4.0 and 3.5 write UTC without being asked.
    """
    from pyspark.sql.pandas.types import to_arrow_schema

    if "timezone" in inspect.signature(to_arrow_schema).parameters:
        return to_arrow_schema(schema, timezone="UTC")
    return to_arrow_schema(schema)
