"""The scoring stage foreachBatch calls: score a micro-batch, then split it into predictions
and dead letters.

`score` evaluates the scoring UDF once per row only if the caller persists its result
before deriving both outputs; the UDF is non-deterministic, so Spark neither pushes the
`error` filters below it nor duplicates it when the struct is flattened.
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import BinaryType, StringType, StructField, StructType

from stream_scorer.config.settings import FeaturesConfig, OutputConfig
from stream_scorer.kafka.schema import KAFKA_SCHEMA
from stream_scorer.monitoring.counts import DRIFT, BatchCounts
from stream_scorer.scoring import shadow as shadow_scoring
from stream_scorer.scoring.output import SCORED_AT_MICROS, probability_fields, scored_struct
from stream_scorer.scoring.udf import BatchScoring, scoring_udf
from stream_scorer.serving.model import ServingModel

SOURCE_COLUMNS = ["key", "value", "topic", "partition", "offset", "timestamp"]
"""Columns of the Kafka source kept on every scored row."""
COORDINATES = ["topic", "partition", "offset", "timestamp"]
"""Where a record came from; with `model_version`, its identity in every output."""
SCORED = "_scored"
"""The struct column the scoring pass fills."""
_OUTPUT_KEY = "_output_key"
"""Column of `score` holding the key as prediction rows carry it (`output.include_key`)."""


def score(
    batch: DataFrame,
    serving: ServingModel,
    features: FeaturesConfig,
    cache_capacity: int = 2,
    shadow: ServingModel | None = None,
    with_shadow: bool = False,
    output: OutputConfig | None = None,
    counts: BatchCounts | None = None,
) -> DataFrame:
    """Score every row of a Kafka-schema micro-batch with the serving model version.

    Returns `key, value, topic, partition, offset, timestamp`, with `output.include_key` the
    key as `predictions` names it `key` (in `output.key_format`), with
    `output.include_features` the feature columns (declared types), the passthrough fields,
    `prediction`, for classifiers `probability, probabilities`, then `model_version`, for a
    per-key family `model_key`, then `scored_at, error` (null when scored); with
    `with_shadow`, then `shadow_prediction`, for classifiers `shadow_probability`,
    `shadow_model_version` and `shadow_error`, from the challenger `shadow` (null while it
    is None); with monitoring `counts`, last `DRIFT` (binary: an Arrow batch's measures on
    its first row, null elsewhere; never in `predictions`). Lazy: nothing runs until an
    action; persist the result before calling both `predictions` and `dead_letters` so the
    UDF runs once per row.
    """
    output = output or OutputConfig()
    scoring = BatchScoring.of(
        serving, features, cache_capacity, shadow, with_shadow, output.include_features, counts
    )
    udf = scoring_udf(scoring)
    scored = batch.select(*SOURCE_COLUMNS, udf(F.col("value")).alias(SCORED))
    return scored_columns(
        scored, serving, features, shadow, with_shadow, output, counts is not None
    )


def scored_columns(
    scored: DataFrame,
    serving: ServingModel,
    features: FeaturesConfig,
    shadow: ServingModel | None,
    with_shadow: bool,
    output: OutputConfig,
    measured: bool = False,
) -> DataFrame:
    """`score`'s columns from `SOURCE_COLUMNS` and the struct `SCORED` the scoring pass
    filled (`udf.BatchScoring.struct`); the JVM derives the rest (see `output`). `measured`:
    the struct holds `DRIFT` (monitoring)."""
    derived = _derived(serving)
    included = dict(features.feature_schema) if output.include_features else None
    routed = serving.route_by is not None
    row = scored_struct(serving.manifest, dict(features.passthrough), included, routed)
    columns = [derived.get(name, _field(name)).alias(name) for name in row.names]
    if output.include_key:
        key = F.col("key").cast("string") if output.key_format == "string" else F.col("key")
        columns.insert(0, key.alias(_OUTPUT_KEY))
    if with_shadow:
        columns += shadow_scoring.output_columns(shadow, serving.manifest, _field)
    if measured:
        columns.append(_field(DRIFT).alias(DRIFT))
    return scored.select(*SOURCE_COLUMNS, *columns)


def predictions(scored: DataFrame) -> DataFrame:
    """Rows of `score` that were scored: coordinates, the key and features if included,
    passthrough, model outputs, provenance."""
    keep = [
        F.col(f"`{c}`").alias("key" if c == _OUTPUT_KEY else c)  # quoted: `user.age`
        for c in scored.columns
        if c not in ("key", "value", "error", DRIFT)
    ]
    return scored.filter(F.col("error").isNull()).select(*keep)


def predictions_schema(
    serving: ServingModel, features: FeaturesConfig, output: OutputConfig
) -> StructType:
    """The columns `predictions` gives for `score`'s batches without a shadow, as Spark
    writes them to files (every one nullable), computed without the JVM."""
    included = dict(features.feature_schema) if output.include_features else None
    routed = serving.route_by is not None
    row = scored_struct(serving.manifest, dict(features.passthrough), included, routed)
    key = StringType() if output.key_format == "string" else BinaryType()
    keys = [StructField("key", key)] if output.include_key else []
    fields = [KAFKA_SCHEMA[name] for name in COORDINATES] + keys
    fields += [field for field in row.fields if field.name != "error"]
    return StructType([StructField(field.name, field.dataType) for field in fields])


def dead_letters(scored: DataFrame) -> DataFrame:
    """Rows of `score` that could not be scored, with the raw key and value and the reason."""
    keep = [*COORDINATES, "key", "value", "error", "model_version", "scored_at"]
    return scored.filter(F.col("error").isNotNull()).select(*keep)


def _field(name: str) -> Column:
    return F.col(SCORED).getField(name)  # a name may hold dots (an Avro path, `user.age`)


def failure_columns(scored: DataFrame, serving: ServingModel, measured: bool = False) -> DataFrame:
    """The columns `dead_letters` reads, from `SOURCE_COLUMNS` and the struct `SCORED`: for
    a batch whose scored rows went elsewhere (`one_pass.score_ranges` with files); with
    `measured`, `DRIFT` too."""
    provenance = [column.alias(name) for name, column in _provenance(serving).items()]
    drift = [_field(DRIFT).alias(DRIFT)] if measured else []
    return scored.select(*SOURCE_COLUMNS, _field("error").alias("error"), *provenance, *drift)


def _provenance(serving: ServingModel) -> dict[str, Column]:
    """Which version scored a row, and when."""
    return {
        "model_version": F.lit(serving.version),
        "scored_at": F.timestamp_micros(_field(SCORED_AT_MICROS)),
    }


def _derived(serving: ServingModel) -> dict[str, Column]:
    """Row fields the JVM computes from the UDF's fields (see `output.udf_struct`)."""
    columns = _provenance(serving)
    fields = [_field(name) for name in probability_fields(serving.manifest)]
    if fields:
        binary = serving.manifest.task == "binary"
        columns["probability"] = fields[1] if binary else F.greatest(*fields)
        columns["probabilities"] = F.when(fields[0].isNotNull(), F.array(*fields))
    return columns
