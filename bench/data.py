"""Synthetic data, the two benchmark models, and the input DataFrames every approach scores.

Everything is seeded, so two runs score the same rows with the same models.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sklearn.base import ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from stream_scorer.kafka.schema import kafka_schema

FEATURES: tuple[str, ...] = tuple(f"f{i}" for i in range(8))
SEED = 20260101
TRAIN_ROWS = 20_000
PARTITIONS = 4
"""Input partitions of every benchmark DataFrame: 2 tasks per core of local[2]."""


def make_rows(rows: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Return `rows` x 8 float64 features and float labels 0.0/1.0, the same for a seed."""
    X, y = make_classification(
        n_samples=rows, n_features=len(FEATURES), n_informative=5, random_state=seed
    )
    return X, y.astype(np.float64)


def train_models(seed: int = SEED) -> dict[str, ClassifierMixin]:
    """Fit the benchmark models on numpy arrays (no feature names), as the seed articles do.

    Returns {"LR": LogisticRegression, "RF": RandomForestClassifier(100 trees, max_depth 10)};
    labels are 0.0/1.0, so `classes_` is [0.0, 1.0] as seed article 002 assumes.
    """
    X, y = make_rows(TRAIN_ROWS, seed + 1)
    return {
        "LR": LogisticRegression(max_iter=1000).fit(X, y),
        "RF": RandomForestClassifier(
            n_estimators=100, max_depth=10, random_state=seed, n_jobs=1
        ).fit(X, y),
    }


def typed_frame(spark: SparkSession, X: np.ndarray) -> DataFrame:
    """Return a cached, materialised DataFrame `id long, f0..f7 double` of `X`."""
    pdf = pd.DataFrame(X, columns=list(FEATURES))
    pdf.insert(0, "id", np.arange(len(X), dtype=np.int64))
    return _materialised(spark.createDataFrame(pdf).repartition(PARTITIONS))


def kafka_frame(spark: SparkSession, X: np.ndarray) -> DataFrame:
    """Return a cached, materialised DataFrame with Spark's Kafka schema.

    `value` is the JSON object {"f0": ..., "f7": ...} as bytes (Jackson writes doubles that
    round-trip exactly); `offset` is the row id, unique since every row is in partition 0.
    """
    typed = spark.createDataFrame(
        pd.DataFrame(X, columns=list(FEATURES)).assign(id=np.arange(len(X), dtype=np.int64))
    )
    kafka = typed.select(
        F.lit(None).cast("binary").alias("key"),
        F.to_json(F.struct(*FEATURES)).cast("binary").alias("value"),
        F.lit("bench").alias("topic"),
        F.lit(0).alias("partition"),
        F.col("id").alias("offset"),
        F.current_timestamp().alias("timestamp"),
        F.lit(0).alias("timestampType"),
    )
    typed_like_kafka = kafka.select(*(F.col(f.name).cast(f.dataType) for f in kafka_schema()))
    return _materialised(typed_like_kafka.repartition(PARTITIONS))


def _materialised(df: DataFrame) -> DataFrame:
    df = df.cache()
    df.count()
    return df


@dataclass(frozen=True)
class Features:
    """What an approach receives, and how its Python code turns that into model rows.

    kind "columns": eight double columns f0..f7 (what the seed articles assume);
    kind "json": the Kafka `value` bytes, parsed with `json.loads` per row, as an article's
    code would do it (the "7b" fairness variant: approach 7 parses JSON too).
    """

    kind: Literal["columns", "json"]

    @property
    def inputs(self) -> list[str]:
        """Columns handed to the approach's UDF or RDD code."""
        return list(FEATURES) if self.kind == "columns" else ["value"]

    @property
    def id_column(self) -> str:
        """A unique row id in the input frame."""
        return "id" if self.kind == "columns" else "offset"

    def row(self, values: Sequence) -> list[float]:
        """One model row from a UDF's arguments (or an RDD Row of `inputs`)."""
        if self.kind == "columns":
            return list(values)
        record = json.loads(values[0])
        return [record[name] for name in FEATURES]

    def rows(self, items: Sequence[Sequence]) -> Sequence[Sequence]:
        """Model rows from many `row` inputs; typed rows pass through untouched."""
        return items if self.kind == "columns" else [self.row(item) for item in items]

    def matrix(self, batch: pd.Series | Sequence[pd.Series]) -> np.ndarray:
        """A 2-D float array from a pandas UDF batch (one Series per input column)."""
        if isinstance(batch, pd.Series):
            batch = (batch,)
        if self.kind == "columns":
            return np.column_stack([s.to_numpy() for s in batch])
        return np.array([[r[n] for n in FEATURES] for r in map(json.loads, batch[0])])
