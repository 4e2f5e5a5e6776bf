"""Quick benchmark of the scoring stage against a hand-written iterator pandas UDF.

Run: `.venv/bin/python -m bench.scoring_stage_quick [--rows 1000000]`. Prints rows/s of
`parse_json` alone (one core), then of each approach writing 1M Kafka rows (8 double
features, JSON values) to Spark's noop sink on local[2], for Arrow batches of 1k/10k/50k:

- `stage`: `stream_scorer.scoring.stage.score` (parse, predict_proba, probabilities,
  provenance and per-row errors);
- `baseline-json`: iterator pandas UDF on `value`, model from a broadcast, orjson per row
  into a frame, `predict_proba` (prediction + probability, no error handling);
- `baseline-columns`: Spark's `from_json` into 8 columns, then the same UDF over columns.

Baselines add their outputs with `withColumn`, so, like the stage, they keep the source
columns (the stage must: dead letters carry the raw value).

The best of `--repeats` interleaved runs is reported; the input frame is cached first.
"""

import argparse
import io
import time
from collections.abc import Iterator

import joblib
import numpy as np
import orjson
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from sklearn.linear_model import LogisticRegression

from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.distribution.broadcast import BroadcastArtefact
from stream_scorer.features.json_parser import parse_json
from stream_scorer.flavors.sklearn.describe import describe
from stream_scorer.runtime.session import ARROW_BATCH_SIZE, build_session
from stream_scorer.scoring.stage import score
from stream_scorer.serving.model import ServingModel

NAMES = [f"f{i}" for i in range(8)]
SCHEMA = dict.fromkeys(NAMES, "double")
BATCH_SIZES = (1_000, 10_000, 50_000)


def parser_rate(rows: int = 200_000, batch: int = 10_000, repeats: int = 5) -> float:
    """Rows/s of parse_json on this core, 8 double features, best of `repeats`."""
    rng = np.random.default_rng(0)
    values = [
        orjson.dumps(dict(zip(NAMES, r.tolist(), strict=True))) for r in rng.normal(size=(rows, 8))
    ]
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(0, rows, batch):
            parse_json(values[i : i + batch], SCHEMA, {})
        best = max(best, rows / (time.perf_counter() - start))
    return best


def kafka_frame(spark: SparkSession, rows: int) -> DataFrame:
    """`rows` Kafka-schema rows whose value is a JSON object of 8 doubles; cached."""
    features = [F.randn(seed=i).alias(name) for i, name in enumerate(NAMES)]
    frame = spark.range(rows, numPartitions=4).select(
        F.lit(None).cast("binary").alias("key"),
        F.to_json(F.struct(*features)).cast("binary").alias("value"),
        F.lit("bench").alias("topic"),
        F.lit(0).alias("partition"),
        F.col("id").alias("offset"),
        F.current_timestamp().alias("timestamp"),
        F.lit(0).alias("timestampType"),
    )
    frame = frame.cache()
    frame.count()
    return frame


def baseline_json(df: DataFrame, model: LogisticRegression) -> DataFrame:
    handle = df.sparkSession.sparkContext.broadcast(model)
    out = "prediction long, probability double"

    @F.pandas_udf(out)  # type: ignore[call-overload]
    def predict(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        model = handle.value
        for values in batches:
            X = pd.DataFrame.from_records(map(orjson.loads, values), columns=NAMES).to_numpy()
            proba = model.predict_proba(X)
            yield pd.DataFrame(
                {"prediction": model.classes_[proba.argmax(axis=1)], "probability": proba[:, 1]}
            )

    return df.withColumn("scored", predict("value"))


def baseline_columns(df: DataFrame, model: LogisticRegression) -> DataFrame:
    handle = df.sparkSession.sparkContext.broadcast(model)
    schema = T.StructType([T.StructField(n, T.DoubleType()) for n in NAMES])
    parsed = df.withColumn("j", F.from_json(F.col("value").cast("string"), schema))
    parsed = parsed.select("*", *(F.col(f"j.{name}").alias(name) for name in NAMES)).drop("j")

    @F.pandas_udf("double")  # type: ignore[call-overload]
    def predict(batches: Iterator[tuple[pd.Series, ...]]) -> Iterator[pd.Series]:
        model = handle.value
        for columns in batches:
            X = np.column_stack([c.to_numpy() for c in columns])
            yield pd.Series(model.predict_proba(X)[:, 1])

    return parsed.withColumn("probability", predict(*NAMES))


def timed(df: DataFrame, rows: int) -> float:
    start = time.perf_counter()
    df.write.format("noop").mode("overwrite").save()
    return rows / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(f"parse_json, 8 doubles, one core: {parser_rate():,.0f} rows/s")

    spark = build_session(
        "scoring-stage-quick", {"spark.master": "local[2]", "spark.ui.showConsoleProgress": "false"}
    )
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20_000, 8))
    model = LogisticRegression().fit(X, (X[:, 0] + X[:, 3] > 0).astype(np.int64))
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    payload = buffer.getvalue()
    manifest = describe(model, payload, "joblib", SCHEMA)
    artefact = BroadcastArtefact(spark.sparkContext.broadcast(payload))
    serving = ServingModel("bench", manifest, artefact, trusted_types=())
    features = FeaturesConfig(schema=SCHEMA)
    df = kafka_frame(spark, args.rows)

    approaches = {
        "stage": lambda: score(df, serving, features),
        "baseline-json": lambda: baseline_json(df, model),
        "baseline-columns": lambda: baseline_columns(df, model),
    }
    print(f"{'arrow batch':>12} " + " ".join(f"{name:>17}" for name in approaches))
    for size in BATCH_SIZES:
        spark.conf.set(ARROW_BATCH_SIZE, str(size))
        rates = [0.0] * len(approaches)
        for _ in range(args.repeats):  # interleaved, so a busy spell hits every approach
            for i, make in enumerate(approaches.values()):
                rates[i] = max(rates[i], timed(make(), args.rows))
        print(f"{size:>12,} " + " ".join(f"{rate:>12,.0f} r/s" for rate in rates), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
