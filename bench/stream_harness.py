"""A real scorer on a fresh embedded broker, fed by a `SteadyProducer`: the streaming benches.

Shared by `bench.latency`, `bench.reload` and `bench.memory`. The scorer is the product's
`Scorer` (python-kafka source, `500 milliseconds` trigger, Parquet sink) in this process, on
its own Spark `local[2]` session; the config comes from
`stream_scorer.testing.scorer_setup.scorer_config`.
"""

import json
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
from pyspark.sql import functions as F

from bench.steady_producer import Produced, SteadyProducer
from stream_scorer.devtools import producer, synthetic
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.errors import ScorerError
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.testing.scorer_setup import scorer_config
from stream_scorer.versions.store import ModelStore

TOPIC = "features"
PARTITIONS = 4
WARMUP_RECORDS = 2_000
TRIGGER_S = 0.5
"""The default trigger interval, '500 milliseconds' (scorer_config's)."""
SPARK_CONF = {
    "spark.master": "local[2]",
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.streaming.numRecentProgressUpdates": "10000",  # every batch of a 60 s run
}


class StreamBench:
    """Broker, topic, model store and scorer under `workdir`; a context manager.

    Use: publish a model to `store`, `start()`, `stream(rate)`, act, `finish(producer)`, then
    read `outputs()` and `batches()`. Leaving the context stops scorer, Spark and broker.
    """

    def __init__(
        self,
        workdir: Path,
        schema: dict[str, str],
        partitions: int = PARTITIONS,
        trigger_s: float = TRIGGER_S,
    ):
        self.workdir = workdir
        self.trigger_s = trigger_s
        self.schema = dict(schema)
        self.partitions = partitions
        self.store = ModelStore(workdir / "models")
        self.broker = EmbeddedBroker(log_path=workdir / "broker.log")
        self.scorer: Scorer | None = None
        self.warmed = 0
        """Warm-up records scored before the steady stream."""
        self.first_steady_batch = 0
        """The first micro-batch after the warm-up."""

    def __enter__(self) -> "StreamBench":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.broker.start()
        options = producer.bootstrap_options(self.broker.bootstrap_servers)
        producer.ensure_topic(options, TOPIC, self.partitions)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.scorer is not None:
            self.scorer.close()
            self.scorer.spark.stop()
        self.broker.stop()

    def start(self) -> None:
        """Start the scorer (a model must be published) and wait until its query runs."""
        trigger = {"processingTime": f"{round(self.trigger_s * 1000)} milliseconds"}
        config = scorer_config(
            self.workdir,
            self.broker.bootstrap_servers,
            TOPIC,
            self.schema,
            spark=SPARK_CONF,
            trigger=trigger,
        )
        self.scorer = Scorer(config)
        self.scorer.spark.sparkContext.setLogLevel("ERROR")
        self.scorer.start()

    def warm_up(self, records: int = WARMUP_RECORDS, timeout_s: float = 300.0) -> None:
        """Score `records` records with ids < 0 (Python workers start, model loads), then return.

        Raises ScorerError if they are not all processed within `timeout_s`.
        """
        options = producer.bootstrap_options(self.broker.bootstrap_servers)
        values = synthetic.values(records, self.schema, start_id=-records)
        producer.produce(
            options, TOPIC, values, records, partitions=self.partitions, progress=False
        )
        self.wait_processed(records, timeout_s)
        self.warmed = records
        self.first_steady_batch = self.scorer.pipeline.stats.last.batch_id + 1

    def stream(self, rate: float) -> SteadyProducer:
        """Start a producer of `rate` records/s into the topic."""
        brokers = self.broker.bootstrap_servers
        return SteadyProducer(brokers, TOPIC, self.partitions, rate, list(self.schema)).start()

    def finish(self, steady: SteadyProducer, timeout_s: float = 180.0) -> Produced:
        """Stop `steady`, then wait until the scorer has processed every produced record.

        Raises
        ------
        ScorerError
            If the query stops or falls short of the produced count within `timeout_s`.
        """
        produced = steady.stop()
        self.wait_processed(self.warmed + produced.count, timeout_s)
        return produced

    def wait_processed(self, count: int, timeout_s: float) -> None:
        """Block until `count` records were scored or dead-lettered (ScorerError on timeout)."""
        stats, query = self.scorer.pipeline.stats, self.scorer.query
        deadline = time.monotonic() + timeout_s
        while stats.processed < count:
            if time.monotonic() > deadline or not query.isActive:
                msg = (
                    f"scorer processed {stats.processed} of {count} records in {timeout_s:.0f}s "
                    f"(query active: {query.isActive}, error: {query.exception()})"
                )
                raise ScorerError(msg)
            time.sleep(0.1)

    def wait_scored_by(self, version: str, timeout_s: float) -> None:
        """Block until a finished batch was scored by `version` (ScorerError on timeout)."""
        stats, query = self.scorer.pipeline.stats, self.scorer.query
        deadline = time.monotonic() + timeout_s
        while not stats.scored_by_version[version]:
            if time.monotonic() > deadline or not query.isActive:
                msg = f"no batch scored by model {version} within {timeout_s:.0f}s"
                raise ScorerError(msg)
            time.sleep(0.05)

    def outputs(self) -> pd.DataFrame:
        """Prediction rows of the steady stream (warm-up rows left out).

        Columns: partition, offset, id, model_version, batch_id, `created` (Kafka record
        timestamp) and `scored` (scored_at), both in epoch seconds.
        """
        rows = self.scorer.spark.read.parquet(str(self.workdir / "predictions"))
        return rows.select(
            "partition", "offset", "id", "model_version", "batch_id",
            (F.unix_micros("timestamp") / 1e6).alias("created"),
            (F.unix_micros("scored_at") / 1e6).alias("scored"),
        ).where(F.col("id") >= 0).toPandas()  # fmt: skip

    def batches(self) -> pd.DataFrame:
        """One row per micro-batch after the warm-up that read records: batch_id, trigger_at
        (epoch s), seconds (whole trigger), add_batch_s (foreachBatch: score + sinks), rows."""
        # Records come from the scorer's own counts: with the one-pass path, Spark's
        # numInputRows counts the offset ranges a batch read, not its records.
        stats = self.scorer.pipeline.stats
        rows = [
            (p["batchId"], _epoch(p["timestamp"]), p["durationMs"].get("triggerExecution", 0) / 1e3,
             p["durationMs"].get("addBatch", 0) / 1e3, batch.input_rows)
            for p in self.scorer.query.recentProgress
            if p["numInputRows"] and p["batchId"] >= self.first_steady_batch
            and (batch := stats.batch(p["batchId"])) is not None
        ]  # fmt: skip
        columns = ["batch_id", "trigger_at", "seconds", "add_batch_s", "rows"]
        return pd.DataFrame(rows, columns=columns)


def exactly_once(frame: pd.DataFrame, produced: Produced) -> dict[str, int]:
    """Compare scored (partition, offset) pairs with every produced one.

    Returns counts: produced, rows, lost (produced, never scored), duplicated (rows beyond the
    first per coordinate), unexpected (scored, never produced).
    """
    expected = {(p, o) for p, offsets in produced.acked.items() for o in offsets}
    seen = frame.groupby(["partition", "offset"]).size()
    scored = set(seen.index)
    return {
        "produced": len(expected),
        "rows": len(frame),
        "lost": len(expected - scored),
        "duplicated": int((seen - 1).sum()),
        "unexpected": len(scored - expected),
    }


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


RESULTS_DIR = Path(__file__).parent / "results"


def target_row(metric: str, value: float, unit: str, target: str, met: bool) -> dict:
    """One line of the suite's summary table."""
    return {"metric": metric, "value": value, "unit": unit, "target": target, "met": met}


def save_result(name: str, document: dict) -> Path:
    """Write `document` (with a `summary` list of `target_row`s) to bench/results/<name>.json."""
    path = RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=float))
    return path
