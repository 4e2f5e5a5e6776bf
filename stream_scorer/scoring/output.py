"""What a scored row holds: passthrough, model outputs, provenance; and how the UDF ships it.

`scored_struct` is the row the stage produces. The UDF returns `udf_struct`, the same but
with `probabilities` as one double field per class (`probability_fields`): Spark converts an
array column from pandas to Arrow row by row in Python (measured: ~5x the cost of all other
output columns together), so the stage builds the array in the JVM instead.
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


def probability_fields(manifest: Any) -> list[str]:
    """UDF struct fields holding P(class i), in manifest.classes order (classifiers only)."""
    return [f"_p{i}" for i in range(len(manifest.classes))] if is_classifier(manifest) else []


def udf_struct(manifest: Any, passthrough: dict[str, str]) -> StructType:
    """The struct the scoring UDF returns: `scored_struct` with `probabilities` spread over
    `probability_fields`."""
    fields = []
    for field in scored_struct(manifest, passthrough).fields:
        if field.name == "probabilities":
            fields += [StructField(name, DoubleType()) for name in probability_fields(manifest)]
        else:
            fields.append(field)
    return StructType(fields)
