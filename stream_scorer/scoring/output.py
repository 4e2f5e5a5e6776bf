"""What a scored row holds (`scored_struct`), and the slimmer struct the UDF ships it in.

`scored_struct` is the row the stage produces. The UDF returns `udf_struct`: only what
Python must compute (included features, passthrough, prediction, one double per class
probability, the scoring wall time in epoch microseconds, error); the stage derives the rest
in the JVM (`probability`, the `probabilities` array, `model_version`, `scored_at` as a
timestamp).
Why: Spark converts an array column from pandas to Arrow row by row in Python, and every
column costs a fixed conversion per Arrow batch; measured, the array alone cost 5x all other
output columns together.
"""

from collections.abc import Mapping

from pyspark.sql.types import (
    ArrayType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from stream_scorer.contract.manifest import Manifest
from stream_scorer.types import TYPES, FieldType

SCORED_AT_MICROS = "_scored_at_us"
"""UDF field: wall time the Arrow batch was scored, microseconds since the epoch (UTC)."""
MODEL_KEY = "model_key"
"""Field of routed rows (a per-key family serves): the key whose model scored the row."""


def scored_struct(
    manifest: Manifest,
    passthrough: Mapping[str, FieldType],
    features: Mapping[str, FieldType] | None = None,
    routed: bool = False,
) -> StructType:
    """Return the scored row's struct type.

    Fields: `features` (the parsed feature columns a row includes, declared types),
    passthrough fields (declared types), `prediction` (manifest.prediction_type),
    for classifiers `probability` (double: binary P(classes[1]), multiclass P(predicted
    class)) and `probabilities` (array<double> in manifest.classes order), then
    `model_version`, when `routed` `model_key` (string), `scored_at` (wall time the Arrow
    batch was scored) and `error` (null when the row was scored).
    """
    fields = _typed_fields(manifest, passthrough, features)
    if manifest.is_classifier:
        fields.append(StructField("probability", DoubleType()))
        fields.append(StructField("probabilities", ArrayType(DoubleType())))
    fields.append(StructField("model_version", StringType()))
    if routed:
        fields.append(StructField(MODEL_KEY, StringType()))
    fields.append(StructField("scored_at", TimestampType()))
    fields.append(StructField("error", StringType()))
    return StructType(fields)


def probability_fields(manifest: Manifest) -> list[str]:
    """UDF fields holding P(class i), in manifest.classes order (classifiers only)."""
    if not manifest.is_classifier:
        return []
    return [f"_p{i}" for i in range(len(manifest.classes or ()))]


def udf_struct(
    manifest: Manifest,
    passthrough: Mapping[str, FieldType],
    features: Mapping[str, FieldType] | None = None,
    routed: bool = False,
) -> StructType:
    """The struct the scoring UDF returns: `features`, passthrough, `prediction`,
    `probability_fields`, when `routed` `MODEL_KEY`, then `SCORED_AT_MICROS` (long) and
    `error`."""
    fields = _typed_fields(manifest, passthrough, features)
    fields += [StructField(name, DoubleType()) for name in probability_fields(manifest)]
    if routed:
        fields.append(StructField(MODEL_KEY, StringType()))
    fields.append(StructField(SCORED_AT_MICROS, LongType()))
    fields.append(StructField("error", StringType()))
    return StructType(fields)


def _typed_fields(
    manifest: Manifest,
    passthrough: Mapping[str, FieldType],
    features: Mapping[str, FieldType] | None,
) -> list[StructField]:
    """Features, passthrough fields, then `prediction`, each of its declared type's Spark type."""
    declared = {**(features or {}), **passthrough}
    fields = [StructField(name, TYPES[kind].spark) for name, kind in declared.items()]
    fields.append(StructField("prediction", TYPES[manifest.prediction_type].spark))
    return fields
