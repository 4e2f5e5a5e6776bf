"""Training one model per key, three ways, on the same keys x rows, in one run.

1. seed 004: one gzip CSV file per key, so Spark reads each key into its own partition, and a
   scalar pandas UDF fits the batch it is handed and `joblib.dump`s the model to a local file
   (the seed's LinearRegression replaced by the estimator under test, for a like-for-like fit);
2. a sequential Python loop: pandas reads the Parquet file, `groupby(key)`, fit each group;
3. `model train`'s path: `train_family` (Spark `groupBy(key).applyInPandas`), then
   `build_family` and `ModelStore.add` timed apart.
Data preparation (the Parquet file, the per-key CSV files) is not timed. Each approach runs
`--repeats` times, taking turns; the medians are reported with the load average.
Run: `python -m bench.family_train [--keys 1000] [--rows 1000] [--repeats 3]`.
"""

import argparse
import gzip
import os
import pickle
import statistics
import tempfile
import time
from pathlib import Path

import joblib
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql.functions import pandas_udf
from pyspark.sql.types import DoubleType
from threadpoolctl import threadpool_limits

from bench.stream_harness import save_result
from stream_scorer.flavors.family.build import TrainSpec, build_family
from stream_scorer.flavors.family.train import read_table, train_family
from stream_scorer.flavors.sklearn.estimator import import_estimator
from stream_scorer.runtime.session import build_session
from stream_scorer.versions.store import ModelStore
from tests.family_helpers import FEATURES, keyed_frame
from tests.scorer_helpers import NUMERIC


def seed_approach(spark: SparkSession, csv_glob: str, estimator: str, out: Path) -> int:
    """Seed 004: a partition per gzip file, a scalar pandas UDF fitting and dumping a model."""
    cls = import_estimator(estimator)

    @pandas_udf(returnType=DoubleType())
    def train_udf(*cols: pd.Series) -> pd.Series:
        df = pd.concat(cols, axis=1)
        df.columns = [*FEATURES, "y", "store"]
        model = cls().fit(df[FEATURES], df["y"])
        joblib.dump(model, out / f"model{df.loc[0, 'store']}.joblib")
        return pd.Series(model.predict(df[FEATURES]))

    frame = spark.read.option("header", "true").option("inferSchema", "true").csv(csv_glob)
    scored = frame.select(train_udf(*FEATURES, "y", "store").alias("TrainPrediction"))
    return scored.rdd.count()  # the seed's action: it touches every partition


def loop_approach(parquet: Path, estimator: str) -> int:
    """A sequential loop over groups in this process, each model pickled."""
    cls = import_estimator(estimator)
    frame = pd.read_parquet(parquet)
    blobs = []
    with threadpool_limits(1):
        for _, rows in frame.groupby("store"):
            model = cls().fit(rows[FEATURES].to_numpy(), rows["y"].to_numpy())
            blobs.append(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    return len(blobs)


def model_train(spark: SparkSession, parquet: Path, spec: TrainSpec, store: Path) -> dict:
    """`model train` minus the JVM start: fit on Spark, then build and publish the family."""
    began = time.perf_counter()
    trained = train_family(read_table(spark, str(parquet)), spec)
    fitted_at = time.perf_counter()
    payload, manifest = build_family(spec, trained.fitted, trained.skipped)
    ModelStore(store).add(manifest, payload)
    done = time.perf_counter()
    return {"fit_s": fitted_at - began, "publish_s": done - fitted_at, "keys": len(trained.fitted)}


def main(argv: list[str] | None = None) -> int:
    """Prepare the data, time the three approaches in turns, print and save the medians."""
    args = _parse(argv)
    frame = keyed_frame(args.keys, args.rows)
    spec = TrainSpec("store", "y", dict(NUMERIC), args.estimator, {})
    runs: dict[str, list[float]] = {"seed": [], "loop": [], "train": [], "publish": []}
    with tempfile.TemporaryDirectory(prefix="bench-family-train-") as tmp:
        root = Path(tmp)
        parquet = root / "train.parquet"
        frame.to_parquet(parquet)
        csv_dir = root / "csv"
        csv_dir.mkdir()
        for key, rows in frame.groupby("store"):
            with gzip.open(csv_dir / f"{key}.csv.gz", "wt") as handle:
                rows[[*FEATURES, "y", "store"]].to_csv(handle, index=False)
        conf = {"spark.master": args.master, "spark.driver.memory": "2g"}
        spark = build_session("bench-family-train", conf)
        spark.sparkContext.setLogLevel("ERROR")
        loop_approach(parquet, args.estimator)  # imports, page cache
        train_family(read_table(spark, str(parquet)), spec)  # Python workers, JIT
        for run in range(args.repeats):
            out = root / f"seed-models-{run}"
            out.mkdir()
            began = time.perf_counter()
            rows = seed_approach(spark, str(csv_dir / "*.csv.gz"), args.estimator, out)
            assert rows == len(frame)
            runs["seed"].append(time.perf_counter() - began)
            began = time.perf_counter()
            assert loop_approach(parquet, args.estimator) == args.keys
            runs["loop"].append(time.perf_counter() - began)
            timed = model_train(spark, parquet, spec, root / f"store-{run}")
            assert timed["keys"] == args.keys
            runs["train"].append(timed["fit_s"])
            runs["publish"].append(timed["publish_s"])
            print(f"run {run}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in runs.items())
                  + f"; load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        spark.stop()
    medians = {name: statistics.median(seconds) for name, seconds in runs.items()}
    document = {
        "settings": vars(args),
        "runs_s": runs,
        "median_s": medians,
        "speedup_vs_loop": {k: medians["loop"] / medians[k] for k in ("seed", "train")},
        "load_average": os.getloadavg(),
        "summary": [],
    }
    print(f"medians (s): {medians}; speed-up vs loop: {document['speedup_vs_loop']}")
    print(f"wrote {save_result('family_train', document)}")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.family_train", description=__doc__)
    parser.add_argument("--keys", type=int, default=1_000)
    parser.add_argument("--rows", type=int, default=1_000, help="rows per key")
    parser.add_argument("--estimator", default="sklearn.linear_model.Ridge")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
