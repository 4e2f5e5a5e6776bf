"""Approaches 1-6: the field's patterns for scoring a scikit-learn model on Spark.

Each function follows one seed article (listed in bench/README.md, cited by number in its
docstring) as its author wrote it; deviations are named where they happen. Every function
takes the input DataFrame, a fitted model and `Features` (what the approach receives) and
returns the lazy scored DataFrame; the runner times its noop write. None of them is used by
stream-scorer.
"""

import atexit
import functools
import math
import os
import pickle
import tempfile
from collections.abc import Iterator

import numpy as np
import pandas as pd
from pyspark.ml.functions import predict_batch_udf
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T
from sklearn.base import ClassifierMixin

from bench.data import FEATURES, Features

ROWS_PER_GROUP = 50_000
"""Approach 3's group size: seed 002 advises "groups of 50-100k records each"."""
PREDICT_BATCH_SIZE = 10_000
"""Approach 6's batch size: Spark's default Arrow batch (maxRecordsPerBatch)."""


def per_call_unpickle(df: DataFrame, model: ClassifierMixin, features: Features) -> DataFrame:
    """Approach 1, seed 000 "Option 1": a row UDF that opens and unpickles the model per call.

    The model is pickled to a driver-local file ("step 2"), which Python workers can read only
    because the master is local. Deviation: sklearn needs a 2-D input and FloatType a Python
    float, so the UDF returns `float(model.predict([row])[0])` where the source returned
    `model.predict([s_l, s_w, p_l, p_w])`.
    """
    path = _pickled(model)

    def predictor(*values):
        # open pickled model (as the source: a bare open/close around pickle.load)
        serialized_model = open(path, "rb")  # noqa: SIM115
        model = pickle.load(serialized_model)
        serialized_model.close()
        return float(model.predict([features.row(values)])[0])

    udf_predictor = F.udf(predictor, T.FloatType())
    return df.withColumn("prediction", udf_predictor(*features.inputs))


def broadcast_row_udf(df: DataFrame, model: ClassifierMixin, features: Features) -> DataFrame:
    """Approach 2, seed 000 "Option 2": broadcast the model, predict row by row in a UDF.

    Deviations: the source calls `sc.broadcast(model)` but drops the handle, so its UDF ships
    the model in its closure; we read the broadcast's value, as its text intends (the per-row
    cost is the same). 2-D input and `float(...)` as in approach 1.
    """
    model_broadcast = df.sparkSession.sparkContext.broadcast(model)

    def predictor(*values):
        return float(model_broadcast.value.predict([features.row(values)])[0])

    udf_predictor = F.udf(predictor, T.FloatType())
    return df.withColumn("prediction", udf_predictor(*features.inputs))


def grouped_map(df: DataFrame, model: ClassifierMixin, features: Features) -> DataFrame:
    """Approach 3, seed 002: `row_number % n` groups, `create_map`, `collect_list`, map UDF.

    As the source: a window over one constant partition numbers the rows, the UDF returns
    {unique_id: P(class 1.0)} as MapType(long, float), and `explode` yields
    `unique_id, probability_estimate`. The number of groups follows the article's advice
    (groups of ~50k records; its code's `nparts = 5000` was for 100M records). Deviations:
    `from pyspark.sql import Window` (the source's `import pyspark.sql.window.Window as w` is
    not valid Python); with JSON input the map value is `array(value)`, parsed in the UDF.
    """
    model_broadcast = df.sparkSession.sparkContext.broadcast(model)

    def predict_new(feature_map):
        ids, rows = zip(*[(k, v) for d in feature_map for k, v in d.items()], strict=True)
        ind = model_broadcast.value.classes_.tolist().index(1.0)
        probs = [float(v) for v in model_broadcast.value.predict_proba(features.rows(rows))[:, ind]]
        return dict(zip(ids, probs, strict=True))

    predict_new_udf = F.udf(predict_new, T.MapType(T.LongType(), T.FloatType()))
    nparts = max(1, math.ceil(df.count() / ROWS_PER_GROUP))
    one_group = Window.partitionBy(F.lit(1)).orderBy(F.lit(1))
    return (
        df.select(
            F.create_map(F.col(features.id_column), F.array(*features.inputs)).alias("feature_map"),
            (F.row_number().over(one_group) % nparts).alias("grouper"),
        )
        .groupby(F.col("grouper"))
        .agg(F.collect_list(F.col("feature_map")).alias("feature_map"))
        .select(predict_new_udf(F.col("feature_map")).alias("results"))
        .select(F.explode(F.col("results")).alias("unique_id", "probability_estimate"))
    )


def rdd_map_partitions(df: DataFrame, model: ClassifierMixin, features: Features) -> DataFrame:
    """Approach 4, seed 001: `zipWithIndex`, broadcast model, one `predict` per partition.

    As the source: `mapPartitions(batch)` turns a partition into one list, then
    `flatMap(zip(index, b_model.value.predict(rows)))`. Deviations: the rows come from the
    cached input DataFrame (`df.rdd`) rather than `sc.parallelize(X_test)`, and the result
    goes to a DataFrame (`id, prediction`) for the noop sink instead of `collect()`, so the
    predictions become Python floats (`tolist()`).
    """
    sc = df.sparkSession.sparkContext

    def batch(value):
        yield list(value)

    rdd = df.select(*features.inputs).rdd.zipWithIndex()
    b_model = sc.broadcast(model)
    result = (
        rdd.mapPartitions(batch)
        .map(lambda value: ([x[0] for x in value], [x[1] for x in value]))
        .flatMap(
            lambda x: zip(x[1], b_model.value.predict(features.rows(x[0])).tolist(), strict=True)
        )
    )
    return df.sparkSession.createDataFrame(result, "id long, prediction double")


def pandas_udf_iterator(df: DataFrame, model: ClassifierMixin, features: Features) -> DataFrame:
    """Approach 5, seeds 003 and 004: a hand-written pandas UDF with a broadcast model.

    Seed 003 broadcasts the model's weights and predicts on whole Arrow batches; seed 004 joins
    the UDF's column Series into one frame. Deviation: the iterator form, so the model is read
    from the broadcast once per task, not once per batch; seed 003 uses the scalar form
    (`PandasUDFType.SCALAR`).
    """
    model_broadcast = df.sparkSession.sparkContext.broadcast(model)

    def predict(batches: Iterator[tuple[pd.Series, ...]]) -> Iterator[pd.Series]:
        model = model_broadcast.value
        for batch in batches:
            yield pd.Series(model.predict(features.matrix(batch)))

    predict_udf = F.pandas_udf(predict, T.DoubleType())
    return df.withColumn("prediction", predict_udf(*features.inputs))


def predict_batch(df: DataFrame, model: ClassifierMixin, features: Features) -> DataFrame:
    """Approach 6: `pyspark.ml.functions.predict_batch_udf` (PySpark's API docs, no seed).

    As its docs show for tabular data: the scalar columns combined with `array()` and
    `input_tensor_shapes=[[8]]`; `make_predict_fn` takes the model from a broadcast and is
    cached per Python worker by PySpark. With JSON input the `value` column goes in as is and
    `predict` parses it.
    """
    model_broadcast = df.sparkSession.sparkContext.broadcast(model)
    as_columns = features.kind == "columns"

    def make_predict_fn():
        model = model_broadcast.value

        def predict(inputs: np.ndarray) -> np.ndarray:
            return model.predict(inputs if as_columns else features.matrix(pd.Series(inputs)))

        return predict

    predict_udf = predict_batch_udf(
        make_predict_fn,
        return_type=T.DoubleType(),
        batch_size=PREDICT_BATCH_SIZE,
        input_tensor_shapes=[[len(FEATURES)]] if as_columns else None,
    )
    column = F.array(*FEATURES) if as_columns else F.col("value")
    return df.withColumn("prediction", predict_udf(column))


@functools.cache
def _pickled(model: ClassifierMixin) -> str:
    """Pickle `model` to a temporary file (removed at exit) and return its path."""
    fd, path = tempfile.mkstemp(prefix="bench-model-", suffix=".pkl")
    with os.fdopen(fd, "wb") as out:
        pickle.dump(model, out)
    atexit.register(os.remove, path)
    return path
