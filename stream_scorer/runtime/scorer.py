"""Wires a scorer: SparkSession, source, model registry, sinks, the streaming query, stop."""

import functools
import logging
import signal
import threading
import time
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from stream_scorer.config.settings import ScorerConfig, TriggerConfig
from stream_scorer.errors import ModelRejectedError, ModelStoreError, ScorerError
from stream_scorer.features.factory import build_decoder
from stream_scorer.files import files_at, is_local, join
from stream_scorer.kafka.options import redact
from stream_scorer.metrics.history_rows import HistoryPublisher
from stream_scorer.metrics.listener import MetricsListener
from stream_scorer.monitoring.baseline import Baseline
from stream_scorer.monitoring.drift import DriftMonitor
from stream_scorer.monitoring.history import History, location_of
from stream_scorer.runtime.checkpoint import Checkpoint
from stream_scorer.runtime.checkpoint_lock import CheckpointLock, FileLock, in_use
from stream_scorer.runtime.lease import LeaseLock
from stream_scorer.runtime.model_fallback import ModelFallback
from stream_scorer.runtime.pipeline import BatchPipeline
from stream_scorer.runtime.serving_record import ServingRecord
from stream_scorer.runtime.session import ARROW_BATCH_SIZE, build_session, scorer_settings
from stream_scorer.runtime.subscription_check import check_subscription
from stream_scorer.runtime.warm_workers import warm_workers
from stream_scorer.scoring.one_pass import score_ranges
from stream_scorer.scoring.stage import score
from stream_scorer.serving.registry import ModelRegistry
from stream_scorer.sinks.base import NO_HOOKS, BatchHooks
from stream_scorer.sinks.factory import build_sink
from stream_scorer.sources.factory import read_stream
from stream_scorer.sources.spark_api import check_source_runs
from stream_scorer.sources.topic_check import check_source_topics
from stream_scorer.versions.sources.factory import open_source
from stream_scorer.versions.sources.store import StoreSource

log = logging.getLogger(__name__)


def lock_before_spark(config: ScorerConfig) -> CheckpointLock | None:
    """Take a local checkpoint's lock, which needs no Spark; None for a leased checkpoint
    (its lease is written through the session's filesystem, once there is one).

    Raises
    ------
    CheckpointInUseError
        Naming the scorer that holds the checkpoint.
    """
    if is_local(config.checkpoint) and config.checkpoint_lock == "auto":
        return FileLock(config.checkpoint).acquire()
    return None


class Scorer:
    """One streaming scorer built from a `ScorerConfig`.

    Building one takes the checkpoint (see `checkpoint_lock`): a second scorer on it fails
    with `CheckpointInUseError` naming the holder; `close()` gives it up.
    `start()` checks that a model can serve (fails fast otherwise), then starts the query;
    it resumes from the checkpoint when one exists. `run()` blocks until the query ends or a
    stop is requested (SIGTERM/SIGINT), and stops between batches so no batch is cut short.
    `once=True` (`run --once`) is `trigger: {availableNow: true}`: drain what is there, stop.
    `topics_checked=True` skips `start()`'s check that the source's topics exist, for a
    caller that has just run it (`stream-scorer run` does, before the JVM starts); `lock` is
    the checkpoint's lock that caller took before building `spark` (`lock_before_spark`).
    """

    def __init__(
        self,
        config: ScorerConfig,
        spark: SparkSession | None = None,
        once: bool = False,
        topics_checked: bool = False,
        hooks: BatchHooks = NO_HOOKS,
        lock: CheckpointLock | None = None,
    ) -> None:
        if once:
            config = config.model_copy(update={"trigger": TriggerConfig(availableNow=True)})
        check_source_runs(config.source, config.trigger.availableNow)
        self.config = config
        self._topics_checked = topics_checked
        self._hooks = hooks
        self._closers: list = []
        self._stop = threading.Event()
        self._lost: str | None = None
        # A local checkpoint is locked before the session starts (`lock_before_spark`), so a
        # second scorer fails in a moment; a leased one needs the session's filesystem.
        lock = lock or lock_before_spark(config)
        try:
            self.spark = spark or build_session(config.app_name, scorer_settings(config))
            if lock is None:
                files = files_at(config.checkpoint, self.spark)
                lock = LeaseLock(config.checkpoint, files, self._checkpoint_lost).acquire()
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        self._closers.append(lock.release)  # closers run last-in first-out: this one last
        self.spark.conf.set(ARROW_BATCH_SIZE, str(config.scoring.arrow_batch_size))
        self.checkpoint = Checkpoint.at(config.checkpoint, self.spark)
        feature_types = dict(config.features.feature_schema)
        signature = config.features.input_signature
        self.registry = ModelRegistry(
            config.model, feature_types, self.spark, input_signature=signature
        )
        self.shadow: ModelRegistry | None = None
        if config.model.shadow:
            source = open_source(config.model, feature_types, shadow=True)
            self.shadow = ModelRegistry(
                config.model, feature_types, self.spark, source, "shadow", signature
            )
        self.pipeline: BatchPipeline | None = None
        self.query: StreamingQuery | None = None
        self.listener: MetricsListener | None = None
        self.history: History | None = None

    def start(self) -> StreamingQuery:
        """Start the streaming query and return it."""
        cfg = self.config
        if self._local_master:
            warm_workers(self.spark)
        self.checkpoint.verify()
        check_subscription(self.checkpoint, cfg.source)
        record = ServingRecord(self.checkpoint.files)
        fallback = ModelFallback(
            self.registry, record, cfg.model.max_batch_attempts, cfg.model.max_error_rate
        )
        serving = self.registry.refresh()
        build_decoder(cfg.features, serving.manifest, serving.route_by).check()
        log.info("model %s serving from %s", serving.version, self.registry.source.location)
        log.info("source %s %s", cfg.source.kind, redact(cfg.source.options))
        if not self._topics_checked:
            check_source_topics(cfg.source)
        sinks_dir = join(cfg.checkpoint, "sinks")
        sinks = [
            build_sink(
                sink, join(sinks_dir, f"{i}-{sink.kind}"), cfg.source, f"sinks[{i}]", cfg.checkpoint
            )
            for i, sink in enumerate(cfg.sinks)
        ]
        dead_letter = build_sink(
            cfg.dead_letter,
            join(sinks_dir, "dead-letter"),
            cfg.source,
            "dead_letter",
            cfg.checkpoint,
        )
        for sink in [*sinks, dead_letter]:
            sink.open(self.spark)
            self._closers.append(sink.close)
        self.checkpoint.refuse_reused_sinks([*sinks, dead_letter])
        log.info("start-time checks done: starting the query")
        monitor = self._monitor()
        pipeline = self.pipeline = BatchPipeline(
            cfg.features,
            self.registry,
            sinks,
            dead_letter,
            cfg.model.worker_cache_versions,
            self._hooks,
            self.shadow,
            fallback,
            cfg.output,
            self._scoring(),
            files_in_pass=self._one_pass and self._local_master,
            monitor=monitor,
        )
        listener = self._add_listener(pipeline)
        writer = (
            read_stream(self.spark, cfg.source, ranges=self._one_pass)
            .writeStream.queryName(cfg.app_name)
            .foreachBatch(self.pipeline)
            .option("checkpointLocation", cfg.checkpoint)
        )
        if cfg.trigger.availableNow:
            writer = writer.trigger(availableNow=True)
        else:
            writer = writer.trigger(processingTime=cfg.trigger.processingTime or "")
        query = self.query = writer.start()
        listener.query_id = str(query.id)
        log.info("query %s started (checkpoint %s)", query.id, cfg.checkpoint)
        return query

    def running(self) -> tuple[BatchPipeline, StreamingQuery]:
        """The pipeline and the query that `start` made.

        Raises
        ------
        ScorerError
            Before `start`.
        """
        if self.pipeline is None or self.query is None:
            msg = "the scorer's query has not started"
            raise ScorerError(msg)
        return self.pipeline, self.query

    @property
    def _local_master(self) -> bool:
        return (self.spark.sparkContext.master or "").startswith("local")

    @property
    def _one_pass(self) -> bool:
        return self.config.source.kind == "python-kafka" and self.config.scoring.one_pass

    def _scoring(self) -> Callable[..., DataFrame]:
        """How a batch is scored: in one Python pass over its offset ranges (python-kafka
        source), or by the scoring UDF over its records."""
        if not self._one_pass:
            return score
        rows = self.config.scoring.arrow_batch_size
        return functools.partial(
            score_ranges, source=self.config.source.parsed, rows_per_batch=rows
        )

    def _monitor(self) -> DriftMonitor | None:
        """Drift against each version's baseline and the history table, unless
        `monitoring.enabled` is false."""
        monitoring = self.config.monitoring
        if not monitoring.enabled:
            return None
        self.history = History(location_of(self.config), monitoring.retention_seconds)
        return DriftMonitor(monitoring, self._stored_baseline, self.history)

    def _stored_baseline(self, version: str) -> Baseline | None:
        """The baseline `version` was published with (our store only), or None; one that
        does not match its manifest is refused (an ERROR), the version serves on."""
        source = self.registry.source
        if not isinstance(source, StoreSource):
            return None
        try:
            data = source.store.baseline(version)
            return Baseline.from_json(data) if data is not None else None
        except (ModelStoreError, ModelRejectedError, ValueError) as exc:
            log.error("model %s: its baseline is refused, no drift is measured: %s", version, exc)
            return None

    def _add_listener(self, pipeline: BatchPipeline) -> MetricsListener:
        publishers: list = [self.checkpoint.write_status]  # read by `stream-scorer status`
        if self.history is not None:
            publishers.append(HistoryPublisher(self.history, pipeline.stats))
        metrics = self.config.metrics
        if metrics.prometheus_port:
            from stream_scorer.metrics.prometheus import PrometheusExporter

            exporter = PrometheusExporter(metrics.prometheus_port, metrics.prometheus_addr)
            self._closers.append(exporter.close)
            publishers.append(exporter)
        listener = self.listener = MetricsListener(
            pipeline.stats,
            lambda: self.registry.serving_version,
            tuple(publishers),
            model_refusals=lambda: self.registry.refusals,
            model_cache_failures=self._cache_failures,
            model_fallbacks=lambda: self.registry.fallbacks,
            model_source=self.registry.source.location,
            shadow_source=self.shadow.source.location if self.shadow else None,
        )
        self.spark.streams.addListener(listener)
        self._closers.append(lambda: self.spark.streams.removeListener(listener))
        return listener

    def _cache_failures(self) -> int:
        """Big versions, served or shadow, that a machine could not copy into its cache: both
        fill the same cache directories."""
        shadow = self.shadow.cache_failures if self.shadow else 0
        return self.registry.cache_failures + shadow

    def close(self) -> None:
        """Stop the query if it runs; release the listener, the metrics port and the sinks."""
        if self.query is not None and self.query.isActive:
            self.query.stop()
        if self.listener is not None:  # progress events arrive asynchronously: get the last
            self.listener.wait_terminated(30)
        while self._closers:
            self._closers.pop()()

    def _checkpoint_lost(self, why: str) -> None:
        log.error("checkpoint %s lost: %s; stopping now", self.config.checkpoint, why)
        self._lost = why
        self._stop.set()

    def request_stop(self) -> None:
        """Ask `run()` to stop at the next batch boundary."""
        self._stop.set()

    def run(self, stop_timeout_s: float = 120.0) -> int:
        """Start, then block until the query ends or a stop is requested; return an exit code.

        A query that fails re-raises its error (StreamingQueryException).
        """
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, lambda *_: self.request_stop())
        try:
            query = self.start()
            pipeline, _ = self.running()
            while query.isActive and not self._stop.is_set():
                query.awaitTermination(0.5)  # type: ignore[arg-type]  # seconds: a float works
            if self._lost is not None:  # another scorer writes now: not one more batch
                query.stop()
                raise in_use(self.config.checkpoint, self._lost)
            if query.isActive:
                self._stop_between_batches(pipeline, query, stop_timeout_s)
            error = query.exception()
            if error is not None:
                raise error
            if self.listener is not None:  # the last batch's line comes before the end's
                self.listener.wait_terminated(30)
            log.info("query stopped after %d batches", pipeline.stats.batches)
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()

    def _stop_between_batches(
        self, pipeline: BatchPipeline, query: StreamingQuery, timeout_s: float
    ) -> None:
        deadline = time.monotonic() + timeout_s
        log.info("stop requested: finishing the batch in flight")
        # foreachBatch returning is not enough: Spark writes the commit log after it, and the
        # trigger stays active until that commit is written.
        while time.monotonic() < deadline and not (
            pipeline.idle and not query.status["isTriggerActive"]
        ):
            time.sleep(0.05)
        query.stop()
