"""Run the scoring benchmark: `python -m bench.run [--quick] [--only NAME ...] [--rows N]`.

Every approach scores the same rows with the same models in one local[2] SparkSession. Each
timed run scores a cached, materialised input and writes it to the noop sink; the clock covers
scoring + write only. Results go to stdout (a table), `bench/results/scoring.json` and
`bench/results/scoring.png`.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

import joblib
import numpy as np
from pyspark.sql import DataFrame, SparkSession
from sklearn.base import ClassifierMixin

from bench import baselines, limits
from bench.data import FEATURES, Features, kafka_frame, make_rows, train_models, typed_frame
from stream_scorer.errors import ScorerError
from stream_scorer.versions.publish import publish_sklearn

Scorer = Callable[[DataFrame, ClassifierMixin, Features], DataFrame]
RESULTS_DIR = Path(__file__).parent / "results"
REFERENCE = ("pandas_udf", "columns")
"""Approach and input every row is compared with ("x vs 5"), for the same model."""


@dataclass(frozen=True)
class Approach:
    """One benchmarked way of scoring, with the inputs it runs on and its row caps."""

    key: str
    label: str
    score: Scorer | None
    kinds: tuple[str, ...] = ("columns", "json")
    caps: dict[str, int] = field(default_factory=dict)
    """Model name -> most rows to score; rows/s is then extrapolated from that subsample."""


def limits_scorer(df: DataFrame, _model: ClassifierMixin, features: Features) -> DataFrame:
    """The no-op pandas UDF as a Scorer (it ignores the model)."""
    return limits.noop_pandas_udf(df, features)


APPROACHES = (
    Approach("unpickle", "1 row UDF, unpickle per call", baselines.per_call_unpickle,
             caps={"LR": 10_000, "RF": 500}),
    Approach("row_udf", "2 broadcast + row UDF", baselines.broadcast_row_udf,
             caps={"LR": 50_000, "RF": 2_000}),
    Approach("grouped", "3 grouped collect_list", baselines.grouped_map),
    Approach("rdd", "4 RDD mapPartitions", baselines.rdd_map_partitions),
    Approach("pandas_udf", "5 pandas_udf (iterator)", baselines.pandas_udf_iterator),
    Approach("predict_batch", "6 predict_batch_udf", baselines.predict_batch),
    Approach("stage", "7 stream-scorer stage", None, kinds=("json",)),
    Approach("noop_udf", "limit: no-op pandas UDF", limits_scorer),
)  # fmt: skip
NUMPY = {"numpy_1": 1, "numpy_2": 2}
FULL_ROWS = 1_000_000
QUICK_SCALE = 10
"""--quick divides rows and row caps by this and runs once."""


@dataclass
class Result:
    """Timed runs of one approach on one input and model."""

    key: str
    label: str
    input: str
    model: str
    rows: int
    seconds: list[float]
    note: str = ""

    def rates(self) -> list[float]:
        """Rows per second of each run."""
        return [self.rows / s for s in self.seconds]

    def line(self) -> str:
        """One progress line: label, model, median rows/s or the note."""
        rate = f"{statistics.median(self.rates()):>12,.0f} rows/s" if self.seconds else ""
        return f"{self.label:<36} {self.model}  {rate} {self.note}".rstrip()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the selected approaches, print and save the results."""
    args = _parse(argv)
    started = time.time()
    models = train_models()
    X, _ = make_rows(args.rows)
    results = []
    for key, procs in NUMPY.items():
        if key not in args.only:
            continue
        label = f"limit: numpy {procs} process{'es' if procs > 1 else ''}"
        for name, model in models.items():
            seconds = [limits.numpy_seconds(model, X, procs) for _ in range(args.repeats)]
            results.append(Result(key, label, "array", name, len(X), seconds))
    spark = _session()
    frames = _Frames(spark, X)
    _time_once(limits_scorer, frames.get("columns", 1000), models["LR"], "columns")  # warm-up
    with tempfile.TemporaryDirectory(prefix="bench-stage-") as workdir:
        for approach in APPROACHES:
            if approach.key in args.only:
                results += _run_approach(approach, frames, models, args, Path(workdir))
    frames.release()
    print_table(results, sys.stdout)
    write_json(results, args, started, RESULTS_DIR / "scoring.json")
    write_plot(results, RESULTS_DIR / "scoring.png")
    print(f"\nwrote {RESULTS_DIR}/scoring.json and scoring.png in {time.time() - started:.0f} s")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    keys = [a.key for a in APPROACHES] + list(NUMPY)
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="1/10 of the rows and row caps, 1 repeat"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=keys,
        default=keys,
        metavar="NAME",
        help=f"run only these: {', '.join(keys)}",
    )
    parser.add_argument("--rows", type=int, help="rows per approach (1,000,000; quick 100,000)")
    parser.add_argument("--repeats", type=int, help="timed runs per approach (3; quick 1)")
    args = parser.parse_args(argv)
    args.scale = QUICK_SCALE if args.quick else 1
    args.rows = args.rows or FULL_ROWS // args.scale
    args.repeats = args.repeats or (1 if args.quick else 3)
    return args


def _session() -> SparkSession:
    from stream_scorer.runtime.session import build_session

    spark = build_session(
        "stream-scorer-bench",
        {"spark.master": "local[2]", "spark.ui.showConsoleProgress": "false",
         "spark.driver.memory": "8g"},
    )  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class _Frames:
    """Cached input DataFrames of the first `rows` of `X`, built once per (input kind, rows)."""

    def __init__(self, spark: SparkSession, X: np.ndarray):
        self.spark, self.X, self._built = spark, X, {}

    def get(self, kind: str, rows: int) -> DataFrame:
        if (kind, rows) not in self._built:
            build = typed_frame if kind == "columns" else kafka_frame
            self._built[kind, rows] = build(self.spark, self.X[:rows])
        return self._built[kind, rows]

    def release(self) -> None:
        for frame in self._built.values():
            frame.unpersist()


def _run_approach(approach, frames, models, args, workdir) -> list[Result]:
    """Time `approach` on each of its inputs and models; a failure is reported, not raised."""
    results = []
    for kind in approach.kinds:
        for name, model in models.items():
            cap = approach.caps.get(name)
            total = len(frames.X)
            rows = total if cap is None else min(total, cap // args.scale)
            json_variant = kind == "json" and approach.key != "stage"
            label = f"{approach.label} [json]" if json_variant else approach.label
            result = Result(approach.key, label, kind, name, rows, [])
            results.append(result)
            score = approach.score
            if score is None:
                score = stage_scorer(frames.spark, model, workdir)
                if isinstance(score, str):
                    result.note = score
                    print(f"{label} {name}: {score}", flush=True)
                    continue
            try:
                for _ in range(args.repeats):
                    result.seconds.append(_time_once(score, frames.get(kind, rows), model, kind))
            except Exception as exc:  # a broken approach must not cost the others' results
                result.note = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            print(result.line(), flush=True)
    return results


def _time_once(score: Scorer, df: DataFrame, model: ClassifierMixin, kind: str) -> float:
    start = time.perf_counter()
    score(df, model, Features(kind)).write.format("noop").mode("overwrite").save()
    return time.perf_counter() - start


def stage_scorer(spark: SparkSession, model: ClassifierMixin, workdir: Path) -> Scorer | str:
    """Approach 7: stream-scorer's own stage, `stream_scorer.scoring.stage.score`.

    The model is published as a new version of the store `workdir/store` and served the real
    way, by `ModelRegistry.refresh()` (verify, broadcast), once before timing, as a running
    scorer does once per model version. One store for every model, because Python workers
    cache models by version: a second store's v0001 would hit the first one's cache entry.
    Returns the scorer, or why it is skipped (a string).
    """
    try:
        from stream_scorer.config.model_settings import ModelConfig
        from stream_scorer.config.settings import FeaturesConfig
        from stream_scorer.scoring.stage import score
        from stream_scorer.serving.registry import ModelRegistry
        from stream_scorer.versions.store import ModelStore
    except ImportError as exc:
        return f"skipped: stream-scorer's stage is not importable yet ({exc})"
    types = dict.fromkeys(FEATURES, "double")
    with tempfile.NamedTemporaryFile(suffix=".joblib", dir=workdir, delete=False) as artefact:
        joblib.dump(model, artefact)
    try:
        publish_sklearn(ModelStore(workdir / "store"), Path(artefact.name), types)
        registry = ModelRegistry(ModelConfig(store=str(workdir / "store")), types, spark)
        serving = registry.refresh()
    except ScorerError as exc:
        return f"skipped: the model could not be published and served ({exc})"
    features = FeaturesConfig(schema=types)
    return lambda df, _model, _features: score(df, serving, features, cache_capacity=2)


def print_table(results: list[Result], out) -> None:
    """Print approach, input, model, rows, rows/s median/min/max and x vs approach 5."""
    out.write(f"\n{'approach':<36} {'input':<7} model {'rows':>9} {'median':>11} "
              f"{'min':>11} {'max':>11} {'x vs 5':>7}\n")  # fmt: skip
    for r in results:
        if not r.seconds:
            out.write(f"{r.label:<36} {r.input:<7} {r.model:<5} {r.note}\n")
            continue
        rates = r.rates()
        ratio = _vs_reference(r, results)
        out.write(
            f"{r.label:<36} {r.input:<7} {r.model:<5} {r.rows:>9,} "
            f"{statistics.median(rates):>11,.0f} {min(rates):>11,.0f} {max(rates):>11,.0f} "
            f"{'' if ratio is None else f'{ratio:.3g}':>7} {r.note}\n"
        )


def _vs_reference(result: Result, results: list[Result]) -> float | None:
    for ref in results:
        if (ref.key, ref.input) == REFERENCE and ref.model == result.model and ref.seconds:
            return statistics.median(result.rates()) / statistics.median(ref.rates())
    return None


def write_json(results: list[Result], args: argparse.Namespace, started: float, path: Path):
    """Write the machine, the run's settings and every result (runs in seconds) as JSON."""
    packages = ["pyspark", "scikit-learn", "numpy", "pandas", "pyarrow"]
    machine = {
        "cpu": _cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
        "load_avg_at_end": os.getloadavg(), **{p: version(p) for p in packages},
    }  # fmt: skip
    rows = [
        {**asdict(r), "rows_per_s": r.rates(), "x_vs_5": _vs_reference(r, results)} for r in results
    ]
    settings = {"rows": args.rows, "repeats": args.repeats, "quick": args.quick}
    document = {"started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
                "machine": machine, "settings": settings, "results": rows}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def write_plot(results: list[Result], path: Path) -> None:
    """Bar chart, log scale: median rows/s per approach and input, one bar per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timed = [r for r in results if r.seconds]
    labels = list(dict.fromkeys(r.label for r in timed))
    models = list(dict.fromkeys(r.model for r in timed))
    fig, ax = plt.subplots(figsize=(12, 6))
    width = 0.8 / max(1, len(models))
    for i, model in enumerate(models):
        medians = {r.label: statistics.median(r.rates()) for r in timed if r.model == model}
        xs = [j + i * width for j, label in enumerate(labels) if label in medians]
        ax.bar(xs, [medians[label] for label in labels if label in medians], width, label=model)
    ax.set_xticks([j + width * (len(models) - 1) / 2 for j in range(len(labels))])
    ax.set_xticklabels(labels, rotation=40, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("rows/s (median)")
    ax.set_title("Scoring throughput, Spark local[2], noop sink")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
