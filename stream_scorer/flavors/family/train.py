"""Fit one estimator per key in parallel on Spark's executors: `groupBy(key).applyInPandas`.

Rows are hash-partitioned by key (an explicit `repartition`, which adaptive execution keeps),
so each Python worker fits whole groups, one after another, each with one BLAS thread. Every
key comes back with its row count, training score, fit seconds, serialised model and a few
canary rows; a key below `min_rows`, or whose fit raises, comes back with the reason
instead. With `fallback`, one more group holding every row fits the fallback model.
"""

import functools
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import orjson
import pandas as pd
from pyspark import Accumulator
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, NumericType, StringType
from pyspark.sql.utils import AnalysisException

from stream_scorer.contract.model_input import model_input
from stream_scorer.errors import ConfigError
from stream_scorer.flavors.family.artefact import FALLBACK_KEY
from stream_scorer.flavors.family.build import FittedKey, TrainSpec
from stream_scorer.flavors.family.members import (
    MEMBER_FORMATS,
    NATIVE_ESTIMATORS,
    check_native_features,
    classes_of,
    fit_params,
)
from stream_scorer.flavors.sklearn.estimator import import_estimator
from stream_scorer.types import FieldType

CANARY_ROWS = 2
"""Training rows per key kept as canary rows in the manifest."""
_GROUP = "_family_key"
_RESULT = (
    "key string, rows long, score double, fit_seconds double, payload binary, "
    "canary string, classes string, error string"
)


@dataclass(frozen=True)
class Trained:
    """What a training run gave: fitted models (the fallback's key is FALLBACK_KEY) and
    the keys without a model, with the reason."""

    fitted: list[FittedKey]
    skipped: dict[str, str]
    dropped_rows: int
    """Training rows left out because a feature, the target or the key was null."""


def read_table(spark: SparkSession, path: str, fmt: str | None = None) -> DataFrame:
    """Read Parquet or CSV (with a header; types inferred) from a local path or a Hadoop URL.

    The format is `fmt`, else 'csv' when the file name contains '.csv', else 'parquet'.
    """
    fmt = fmt or ("csv" if ".csv" in Path(path).name.lower() else "parquet")
    reader = spark.read.format(fmt)
    if fmt == "csv":
        reader = reader.option("header", "true").option("inferSchema", "true")
    try:
        return reader.load(path)
    except AnalysisException as exc:
        msg = f"{path}: cannot read training data as {fmt}: {exc.getMessage()}"
        raise ConfigError(msg) from exc


def feature_types_of(data: DataFrame, names: list[str]) -> dict[str, FieldType]:
    """Declared types of training columns: numbers are 'double', text 'string'."""
    fields = {f.name: f.dataType for f in data.schema.fields}
    types: dict[str, FieldType] = {}
    for name in names:
        kind = fields.get(name)
        if isinstance(kind, NumericType):
            types[name] = "double"
        elif isinstance(kind, StringType | BooleanType):
            types[name] = "string" if isinstance(kind, StringType) else "boolean"
        else:
            msg = f"training column {name!r} is {kind}; expected a number, a string or a boolean"
            raise ConfigError(msg)
    return types


def train_family(
    data: DataFrame,
    spec: TrainSpec,
    allowed: Collection[str] = (),
    partitions: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Trained:
    """Fit `spec.estimator` once per key of `data` on the executors; collect the results.

    Parameters
    ----------
    data
        Training rows holding the key, target and feature columns.
    allowed
        Estimator import paths accepted beyond sklearn.* and `members.NATIVE_ESTIMATORS`
        (`model.train_estimators`).
    partitions
        Spark tasks to spread the keys over; default 4 per core of the session.
    progress
        Called about twice a second with (groups done, groups in all) while fitting.

    Raises
    ------
    ConfigError
        If the estimator or its parameters are refused, a column is missing, or a key
        equals the fallback's name.
    """
    estimator = import_estimator(spec.estimator, [*allowed, *NATIVE_ESTIMATORS])
    check_native_features(spec.estimator, spec.feature_types)
    try:
        estimator(**spec.params)
    except TypeError as exc:
        msg = f"{spec.estimator} does not take the parameters {spec.params}: {exc}"
        raise ConfigError(msg) from exc
    columns = [*spec.feature_types, spec.target]
    missing = [c for c in [spec.key_column, *columns] if c not in data.columns]
    if missing:
        msg = f"training data lacks the columns {missing}; it has {data.columns}"
        raise ConfigError(msg)
    key = F.col(spec.key_column).cast("string")
    complete = F.lit(True)
    for name in [spec.key_column, *columns]:
        complete = complete & F.col(name).isNotNull()
    counts = data.agg(
        F.count_if(~complete).alias("dropped"),
        F.countDistinct(F.when(complete, key)).alias("keys"),
        F.count_if(key == FALLBACK_KEY).alias("fallback_named"),
    ).collect()[0]
    if counts["fallback_named"]:
        msg = f"a key of the training data is {FALLBACK_KEY!r}, the fallback model's name"
        raise ConfigError(msg)
    groups = counts["keys"]
    clean = data.where(complete)
    keyed = clean.select(key.alias(_GROUP), *_typed(spec))
    if spec.fallback:
        keyed = keyed.unionByName(clean.select(F.lit(FALLBACK_KEY).alias(_GROUP), *_typed(spec)))
        groups += 1
    spark = data.sparkSession
    done = spark.sparkContext.accumulator(0)
    partitions = partitions or 4 * spark.sparkContext.defaultParallelism
    fitted = keyed.repartition(partitions, _GROUP).groupBy(_GROUP)
    job = fitted.applyInPandas(_fit_group(spec, done), _RESULT)
    rows = _collect_reporting(job, done, groups, progress)
    return _trained(rows, counts["dropped"])


def _typed(spec: TrainSpec) -> list:
    """Feature columns as the models take them (numbers as double), then the target."""
    features = [
        F.col(name).cast("double") if kind == "double" else F.col(name)
        for name, kind in spec.feature_types.items()
    ]
    return [*features, F.col(spec.target)]


def _fit_group(spec: TrainSpec, done: Accumulator) -> Callable[[tuple, pd.DataFrame], pd.DataFrame]:
    """The applyInPandas function: fit one group, return its one result row."""
    names, types, layout = list(spec.feature_types), dict(spec.feature_types), spec.layout
    fmt = spec.member_format
    dump = MEMBER_FORMATS[fmt].dump

    def fit(group_key: tuple, rows: pd.DataFrame) -> pd.DataFrame:
        _one_blas_thread()
        key = str(group_key[0])
        result = dict.fromkeys(["score", "payload", "canary", "classes", "error"])
        result |= {"key": key, "rows": len(rows), "fit_seconds": 0.0}
        if len(rows) < spec.min_rows and key != FALLBACK_KEY:
            result["error"] = f"{len(rows)} training rows, fewer than --min-rows {spec.min_rows}"
        else:
            inputs = model_input(rows, names, types, layout)
            target = rows[spec.target].to_numpy()
            # The driver checked the path against the allowed ones; this only imports it.
            estimator = import_estimator(spec.estimator, (spec.estimator,))
            model = estimator(**fit_params(spec.estimator, spec.params))
            began = time.perf_counter()
            try:
                model.fit(inputs, target)
                result["fit_seconds"] = time.perf_counter() - began
                result["score"] = float(model.score(inputs, target))
                result["payload"] = dump(model)
                result["classes"] = orjson.dumps(classes_of(model, fmt)).decode()
                canary = rows[names].head(CANARY_ROWS).to_dict("records")
                result["canary"] = orjson.dumps(canary).decode()
            except Exception as exc:  # an estimator may raise anything; the key gets the reason
                result["error"] = f"fit raised {type(exc).__name__}: {exc}"
        done.add(1)
        return pd.DataFrame([result])

    return fit


@functools.cache
def _one_blas_thread() -> None:
    """Hold BLAS and OpenMP to one thread in this Python worker, once: Spark already runs a
    task per core. (A `threadpool_limits` block per group cost more than a small fit.)"""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _collect_reporting(
    job: DataFrame, done: Accumulator, groups: int, progress: Callable[[int, int], None] | None
) -> list:
    """`job.collect()`, calling `progress(done.value, groups)` when it changed (accumulators
    reach the driver as each task ends), and once at the end."""
    if progress is None:
        return job.collect()
    stop = threading.Event()

    def report() -> None:
        shown = -1
        while not stop.wait(0.5):
            if done.value != shown:
                shown = done.value
                progress(shown, groups)

    reporter = threading.Thread(target=report, daemon=True)
    reporter.start()
    try:
        return job.collect()
    finally:
        stop.set()
        reporter.join()
        progress(done.value, groups)


def _trained(rows: list, dropped: int) -> Trained:
    fitted, skipped = [], {}
    for row in sorted(rows, key=lambda r: r["key"]):
        if row["error"] is not None:
            skipped[row["key"]] = row["error"]
            continue
        canary = orjson.loads(row["canary"])
        fitted.append(
            FittedKey(
                row["key"],
                bytes(row["payload"]),
                row["rows"],
                row["score"],
                row["fit_seconds"],
                canary,
                orjson.loads(row["classes"]),
            )
        )
    return Trained(fitted, skipped, dropped)
