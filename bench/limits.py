"""Physical limits: how fast the model alone scores, and what Spark + Arrow cost alone.

`numpy_seconds` times `predict_proba` on in-memory arrays, without Spark: the ceiling any
Spark approach can approach. `noop_pandas_udf` moves the same columns through a pandas UDF
that does no work: the floor of Spark + Arrow overhead.
"""

import itertools
import multiprocessing
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from sklearn.base import ClassifierMixin
from threadpoolctl import threadpool_limits

from bench.data import Features

_shared: tuple[ClassifierMixin, np.ndarray] | None = None
"""(model, X) that forked workers inherit, so no data is pickled to them."""


def numpy_seconds(model: ClassifierMixin, X: np.ndarray, processes: int) -> float:
    """Wall seconds of `model.predict_proba` over all of `X` in `processes` processes.

    Each process scores one contiguous slice with BLAS/OpenMP held to one thread, so N
    processes use N cores. Processes are forked and warmed up before the clock starts; each
    returns only its row count, so the time is scoring, not moving results between processes.
    """
    if processes == 1:
        with threadpool_limits(1):
            start = time.perf_counter()
            model.predict_proba(X)
            return time.perf_counter() - start
    global _shared
    _shared = (model, X)
    bounds = np.linspace(0, len(X), processes + 1).astype(int)
    slices = list(itertools.pairwise(bounds))
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(processes, initializer=threadpool_limits, initargs=(1,)) as pool:
            pool.map(_score_slice, [(0, 1)] * processes)
            start = time.perf_counter()
            counts = pool.map(_score_slice, slices)
            elapsed = time.perf_counter() - start
    finally:
        _shared = None
    assert sum(counts) == len(X)
    return elapsed


def _score_slice(bounds: tuple[int, int]) -> int:
    model, X = _shared
    return len(model.predict_proba(X[bounds[0] : bounds[1]]))


def noop_pandas_udf(df: DataFrame, features: Features) -> DataFrame:
    """Add a column of zeros through an iterator pandas UDF that reads `features.inputs`.

    The same Arrow round trip as approach 5 (columns to Python and a double column back),
    without parsing or scoring.
    """

    def zeros(batches: Iterator[tuple[pd.Series, ...]]) -> Iterator[pd.Series]:
        for batch in batches:
            first = batch if isinstance(batch, pd.Series) else batch[0]
            yield pd.Series(np.zeros(len(first)))

    zeros_udf = F.pandas_udf(zeros, T.DoubleType())
    return df.withColumn("prediction", zeros_udf(*features.inputs))
