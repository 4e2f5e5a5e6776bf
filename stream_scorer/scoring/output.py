"""What a scored row holds (`scored_struct`), and the slimmer struct the UDF ships it in.

`scored_struct` is the row the stage produces. The UDF returns `udf_struct`: only what
Python must compute (passthrough, prediction, one double per class probability, the
scoring wall time in epoch microseconds, error); the stage derives the rest in the JVM
(`probability`, the `probabilities` array, `model_version`, `scored_at` as a timestamp).
Why: Spark converts an array column from pandas to Arrow row by row in Python, and every
column costs a fixed conversion per Arrow batch; measured, the array alone cost 5x all other
output columns together.
"""

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

SCORED_AT_MICROS = "_scored_at_us"
"""UDF field: wall time the Arrow batch was scored, microseconds since the epoch (UTC)."""


def is_classifier(manifest: Any) -> bool:
    """True when the model has classes, so rows carry `probability` and `probabilities`."""
    return manifest.task != "regression"


def scored_struct(manifest: Any, passthrough: dict[str, str]) -> StructType:
    """Return the scored row's struct type.

    Fields: passthrough fields (declared types), `prediction` (manifest.prediction_type),
    for classifiers `probability` (double: binary P(classes[1]), multiclass P(predicted
    class)) and `probabilities` (array<double> in manifest.classes order), then
    `model_version`, `scored_at` (wall time the Arrow batch was scored) and `error` (null
    when the row was scored).
    """
    fields = [StructField(name, SPARK_TYPES[kind]) for name, kind in passthrough.items()]
    fields.append(StructField("prediction", SPARK_TYPES[manifest.prediction_type]))
    if is_classifier(manifest):
        fields.append(StructField("probability", DoubleType()))
        fields.append(StructField("probabilities", ArrayType(DoubleType())))
    fields += [
        StructField("model_version", StringType()),
        StructField("scored_at", TimestampType()),
        StructField("error", StringType()),
    ]
    return StructType(fields)


def probability_fields(manifest: Any) -> list[str]:
    """UDF fields holding P(class i), in manifest.classes order (classifiers only)."""
    return [f"_p{i}" for i in range(len(manifest.classes))] if is_classifier(manifest) else []


def udf_struct(manifest: Any, passthrough: dict[str, str]) -> StructType:
    """The struct the scoring UDF returns: passthrough, `prediction`, `probability_fields`,
    `SCORED_AT_MICROS` (long) and `error`."""
    fields = [StructField(name, SPARK_TYPES[kind]) for name, kind in passthrough.items()]
    fields.append(StructField("prediction", SPARK_TYPES[manifest.prediction_type]))
    fields += [StructField(name, DoubleType()) for name in probability_fields(manifest)]
    fields.append(StructField(SCORED_AT_MICROS, LongType()))
    fields.append(StructField("error", StringType()))
    return StructType(fields)
