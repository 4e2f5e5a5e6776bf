"""`stream-scorer demo`: the whole path on this machine, with a hot reload in the middle.

Embedded broker -> demo model v1 published -> records produced (some malformed) and scored
-> model v2 published while the query runs -> more records, scored by v2 -> summary.
"""

import logging
import shutil
import tempfile
import time
from pathlib import Path

from stream_scorer.config.loader import parse_config
from stream_scorer.devtools import producer, synthetic
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.errors import ScorerError
from stream_scorer.runtime import logs
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.runtime.session import build_session, scorer_settings
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore

log = logging.getLogger(__name__)

SCHEMA = {"f0": "double", "f1": "double", "f2": "double", "f3": "double"}
TOPIC, PARTITIONS = "features", 3


def demo_config(workdir: Path, bootstrap: str) -> dict:
    """The demo's scorer config (the same shape as configs/local.yaml)."""
    return {
        "app_name": "stream-scorer-demo",
        "source": {
            "kind": "python-kafka",
            "options": {
                "kafka.bootstrap.servers": bootstrap,
                "subscribe": TOPIC,
                "startingOffsets": "earliest",
                "maxOffsetsPerTrigger": 50_000,
            },
        },
        "features": {"schema": SCHEMA, "passthrough": {"id": "long"}},
        "model": {"store": str(workdir / "models")},
        "checkpoint": str(workdir / "checkpoint"),
        "trigger": {"processingTime": "1 second"},
        "sinks": [{"kind": "parquet", "path": str(workdir / "predictions")}],
        "dead_letter": {"kind": "parquet", "path": str(workdir / "dead-letter")},
        "spark": {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "2"},
    }


def publish_demo_model(store: ModelStore, seed: int, workdir: Path) -> str:
    """Train the binary demo model with `seed`, publish it, and return its version."""
    path = workdir / f"demo-model-{seed}.joblib"
    save_model(train_demo_model("binary", n_features=len(SCHEMA), seed=seed), path)
    return publish_sklearn(store, path, SCHEMA).version


def run_demo(
    workdir: Path, records: int, bad_ratio: float, timeout_s: float, verbose: bool = False
) -> int:
    """Run the demo in `workdir` (wiped first) and print the summary; return an exit code.

    Spark's and the Kafka clients' lines go to `<workdir>/checkpoint/scorer/scorer.log`
    unless `verbose`.
    """
    workdir = workdir.absolute()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    checkpoint = str(workdir / "checkpoint")
    log_file = None if verbose else logs.log_to_file(logs.default_log_file(checkpoint, "demo"))
    started = time.monotonic()
    with EmbeddedBroker(log_path=workdir / "broker.log") as broker:
        print(f"[demo] embedded Kafka broker on {broker.bootstrap_servers}")
        options = producer.bootstrap_options(broker.bootstrap_servers)
        producer.ensure_topic(options, TOPIC, PARTITIONS)
        store = ModelStore(workdir / "models")
        print(f"[demo] published model {publish_demo_model(store, 0, workdir)}")
        config = parse_config(demo_config(workdir, broker.bootstrap_servers), "demo")
        logs.announce_start(checkpoint, log_file)
        spark = build_session(config.app_name, scorer_settings(config), jvm_log=log_file)
        scorer = Scorer(config, spark=spark)
        query = scorer.start()
        half = records // 2
        try:
            for phase, seed in enumerate((0, 1)):
                if phase == 1:
                    version = publish_demo_model(store, 1, workdir)
                    print(f"[demo] published model {version} while the query runs")
                values = synthetic.values(half, SCHEMA, bad_ratio, seed=seed, start_id=phase * half)
                report = producer.produce(
                    options, TOPIC, values, total=half, partitions=PARTITIONS, progress=False
                )
                print(f"[demo] produced {report.sent} records ({report.malformed} malformed)")
                _wait_processed(scorer, (phase + 1) * half, timeout_s)
        finally:
            query.stop()
        elapsed = time.monotonic() - started
        _summary(scorer, workdir, elapsed)
        scorer.spark.stop()
    return 0


def _wait_processed(scorer: Scorer, expected: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    pipeline, query = scorer.running()
    while pipeline.stats.processed < expected:
        if time.monotonic() > deadline or not query.isActive:
            msg = (
                f"demo: {pipeline.stats.processed} of {expected} records processed "
                f"after {timeout_s:.0f}s (query active: {query.isActive}, "
                f"error: {query.exception()})"
            )
            raise ScorerError(msg)
        time.sleep(0.2)


def _summary(scorer: Scorer, workdir: Path, elapsed: float) -> None:
    spark, stats = scorer.spark, scorer.running()[0].stats
    by_version = spark.read.parquet(str(workdir / "predictions")).groupBy("model_version").count()
    dead = spark.read.parquet(str(workdir / "dead-letter"))
    print("\n[demo] summary")
    for row in by_version.orderBy("model_version").collect():
        print(f"  rows scored by model {row['model_version']}: {row['count']}")
    print(f"  rows dead-lettered: {dead.count()}")
    for row in dead.groupBy("error").count().orderBy("count", ascending=False).limit(5).collect():
        print(f"    {row['count']:>6} x {row['error']}")
    busy = stats.busy_seconds
    print(f"  micro-batches: {stats.batches}; time taken: {elapsed:.1f}s (incl. start-up)")
    print(f"  end-to-end: {stats.processed / busy:,.0f} records/s over {busy:.1f}s of batches")
    print(f"  outputs: {workdir}/predictions, {workdir}/dead-letter (Parquet)")


def default_workdir() -> Path:
    """Where the demo writes: ./out/demo, or a temp dir if the cwd is not writable."""
    out = Path("out/demo")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return out
    except OSError:
        return Path(tempfile.mkdtemp(prefix="stream-scorer-demo-"))
