"""The struct the scoring UDF returns for every row: passthrough, model outputs, provenance."""

from typing import Any

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

SPARK_TYPES: dict[str, DataType] = {
    "double": DoubleType(),
    "float": FloatType(),
    "long": LongType(),
    "int": IntegerType(),
    "string": StringType(),
    "boolean": BooleanType(),
}
"""Declared field or prediction type name -> Spark SQL type."""


def is_classifier(manifest: Any) -> bool:
    """True when the model has classes, so rows carry `probability` and `probabilities`."""
    return manifest.task != "regression"


def scored_struct(manifest: Any, passthrough: dict[str, str]) -> StructType:
    """Return the UDF's struct type.

    Fields: passthrough fields (declared types), `prediction` (manifest.prediction_type),
    for classifiers `probability` (double) and `probabilities` (array<double> in
    manifest.classes order), then `model_version`, `scored_at` (wall time the Arrow batch
    was scored) and `error` (null when the row was scored).
    """
    fields = [StructField(name, SPARK_TYPES[kind]) for name, kind in passthrough.items()]
    fields.append(StructField("prediction", SPARK_TYPES[manifest.prediction_type]))
    if is_classifier(manifest):
        fields.append(StructField("probability", DoubleType()))
        fields.append(StructField("probabilities", ArrayType(DoubleType(), containsNull=False)))
    fields += [
        StructField("model_version", StringType()),
        StructField("scored_at", TimestampType()),
        StructField("error", StringType()),
    ]
    return StructType(fields)
