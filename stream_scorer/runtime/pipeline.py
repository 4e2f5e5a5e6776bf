"""The foreachBatch function: one model version per batch, scored once, written to all sinks."""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from stream_scorer.config.settings import FeaturesConfig, OutputConfig
from stream_scorer.flavors.base import MODEL_ERROR
from stream_scorer.metrics import shadow as shadow_metrics
from stream_scorer.metrics.shadow import ShadowStats
from stream_scorer.metrics.stats import BatchStats, ScorerStats
from stream_scorer.monitoring.counts import DRIFT, BatchCounts
from stream_scorer.monitoring.drift import DriftMonitor, DriftStats, VersionInfo
from stream_scorer.runtime.model_fallback import ModelFallback
from stream_scorer.scoring.shadow import skip_reason
from stream_scorer.scoring.stage import dead_letters, predictions, score
from stream_scorer.serving.model import ServingModel
from stream_scorer.serving.registry import ModelRegistry
from stream_scorer.sinks.base import NO_HOOKS, BatchHooks, Sink
from stream_scorer.sinks.task_files import BatchDirectory

log = logging.getLogger(__name__)


class BatchPipeline:
    """Called by Spark once per micro-batch, on the driver, as `foreachBatch(pipeline)`.

    Guarantees: every row of a batch is scored by the single model version the registry
    serves when the batch starts (`scoring`: `stage.score` of a Kafka-schema batch, or
    `one_pass.score_ranges` of a batch of offset ranges); the scored frame is persisted
    when it is expected to be read more than once (`_needs_cache`), so each row is scored
    once except when bad rows turn up unexpectedly; each sink is idempotent for a batch
    id, so a batch that Spark replays after a failure writes nothing twice. An exception
    from a sink fails the batch, Spark does not commit its offsets, and a restart replays
    it. `hooks` observe each batch (started, each sink's write, all written); production
    runs with none. With a `shadow` registry, its version (polled per batch too) scores the
    same rows beside the served one. With `files_in_pass` (a `scoring` that takes `files`,
    `one_pass.score_ranges`, on a local master), when every pending sink takes task-written
    files (`Sink.task_writes`: a local Parquet sink, a Delta or Iceberg table with local data,
    a Kafka sink with local state) and no shadow scores, the scoring tasks write the sinks'
    files (send the Kafka records) themselves (`sinks.task_files`) and the JVM sees the
    failed rows only. The first batch of a newly
    switched version (`ModelFallback.on_probation`) is scored in full and kept before any
    sink writes it: a version that fails it whole or row by row (`model.max_error_rate`)
    leaves no row of it in any sink, and the previous version rescores it. With a
    `monitor`, the scoring pass also measures each batch (`monitoring.counts`, in the same
    `Observation` as the counts) and the batch's `BatchStats.drift` says what it found.
    """

    def __init__(
        self,
        features: FeaturesConfig,
        registry: ModelRegistry,
        sinks: Sequence[Sink],
        dead_letter: Sink,
        cache_capacity: int = 2,
        hooks: BatchHooks = NO_HOOKS,
        shadow: ModelRegistry | None = None,
        fallback: ModelFallback | None = None,
        output: OutputConfig | None = None,
        scoring: Callable[..., DataFrame] = score,
        files_in_pass: bool = False,
        monitor: DriftMonitor | None = None,
    ) -> None:
        self.features = features
        self.monitor = monitor
        self.scoring = scoring
        self.files_in_pass = files_in_pass
        self.output = output
        self.registry = registry
        self.shadow = shadow
        self.fallback = fallback
        self._shadow_skipped: str | None = None
        self.sinks = list(sinks)
        self.dead_letter = dead_letter
        self.cache_capacity = cache_capacity
        self.hooks = hooks
        self.stats = ScorerStats()
        self._last_bad = 0
        self._error_rate = 0.0
        """Share of the last scored batch's decoded rows the model failed."""
        self._idle = threading.Event()
        self._idle.set()

    @property
    def idle(self) -> bool:
        """True between batches: a stop now interrupts no batch."""
        return self._idle.is_set()

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        self._idle.clear()
        try:
            self._process(batch, batch_id)
        finally:
            self._idle.set()

    def _needs_cache(self, pending: Sequence[Sink], in_pass: bool) -> bool:
        """Whether to persist the scored batch: yes if it will be read more than once.

        A sink that evaluates its frame twice, or two sinks, read it twice; so does the
        dead-letter sink, which is expected to be needed when the previous batch had bad
        rows. Otherwise one pass writes the predictions (`in_pass`: the tasks write every
        sink's files in one pass) and, should bad rows turn up after all, the dead letters
        rescore the batch (same offsets, same model: same rows).
        """
        passes = 1 if in_pass else sum(1 if sink.single_pass else 2 for sink in pending)
        return passes + (self._last_bad > 0) > 1

    def _process(self, batch: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        self.hooks.batch_started(batch_id)
        serving = self.registry.refresh()
        try:
            good, bad, compared, measures = self._score_and_write(batch, batch_id, serving)
        except Exception as exc:
            older = self._fall_back(exc, batch_id, serving)
            if older is None:
                raise
            serving = older
            good, bad, compared, measures = self._score_and_write(batch, batch_id, serving)
        if self.fallback is not None:
            self.fallback.written(serving, self._error_rate)
        self.registry.release_retired(self.shadow.serving if self.shadow else None)
        if self.shadow is not None:
            self.shadow.release_retired(self.registry.serving)
        drift = self._observe(serving, measures)
        seconds = time.monotonic() - started
        stats = BatchStats(
            batch_id, serving.version, good, bad, seconds, shadow=compared, drift=drift
        )
        self.stats.record(stats)  # the listener logs it, with the trigger's duration

    def _score_and_write(
        self, batch: DataFrame, batch_id: int, serving: ServingModel
    ) -> tuple[int, int, ShadowStats | None, list]:
        """Score the batch with `serving` and write it to every sink that has not committed
        it; return the rows scored, the rows dead-lettered, the shadow's comparison and the
        monitoring payloads."""
        shadow, with_shadow = self._challenger(serving), self.shadow is not None
        pending = [sink for sink in self.sinks if not sink.is_committed(batch_id)]
        on_probation = self.fallback is not None and self.fallback.on_probation(serving)
        probation = self.fallback if on_probation else None
        directories = {} if probation else self._task_directories(pending, batch_id, with_shadow)
        counts = self._counts(serving)
        counter = Observation()
        scored = self._scored(batch, serving, shadow, directories, counts).observe(
            counter,
            F.count_if(F.col("error").isNull()).alias("good"),
            F.count_if(F.col("error").isNotNull()).alias("bad"),
            F.count_if(F.col("error").startswith(MODEL_ERROR)).alias("model_errors"),
            *(shadow_metrics.aggregates(serving.manifest) if with_shadow else []),
            *([F.collect_list(DRIFT).alias("drift")] if counts is not None else []),
        )
        cached = on_probation or self._needs_cache(pending, bool(directories))
        if cached:
            scored = scored.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            if probation is not None:  # scored in full before any sink writes
                scored.write.format("noop").mode("overwrite").save()
                good = int(counter.get["good"])
                probation.check_error_rate(batch_id, serving, _model_error_rate(counter, good))
            if directories:  # the tasks write the sinks' files as they score
                scored.write.format("noop").mode("overwrite").save()
                written = [
                    sink.commit(directory, batch_id, self.hooks)
                    for sink, directory in directories.items()
                ]
                good = written[0]  # every sink holds the same rows
            elif pending:
                rows = predictions(scored)
                for sink in pending:
                    sink.write(rows, batch_id, self.hooks)
            else:  # a replay every sink already holds: score only to count and dead-letter
                scored.write.format("noop").mode("overwrite").save()
            bad = int(counter.get["bad"])
            if not directories:
                good = int(counter.get["good"])
            self._error_rate = _model_error_rate(counter, good)
            if bad:
                letters = scored if cached or not directories else self._scored(batch, serving)
                self.dead_letter.write(dead_letters(letters), batch_id, self.hooks)
            self.hooks.sinks_written(batch_id)
        finally:
            if cached:
                scored.unpersist()
        self._last_bad = bad
        compared = shadow_metrics.stats(counter.get, shadow) if with_shadow else None
        measures = _observed_list(counter.get["drift"]) if counts is not None else []
        return good, bad, compared, measures

    def _counts(self, serving: ServingModel) -> BatchCounts | None:
        """What the scoring pass measures for monitoring, if it does."""
        if self.monitor is None:
            return None
        return self.monitor.counter(VersionInfo.of(serving.version, serving.manifest))

    def _observe(self, serving: ServingModel, measures: list) -> DriftStats | None:
        """The monitor's view of the batch; a fault of monitoring never fails a batch."""
        if self.monitor is None:
            return None
        try:
            return self.monitor.observe(VersionInfo.of(serving.version, serving.manifest), measures)
        except Exception:
            log.exception("monitoring failed on a batch of model %s", serving.version)
            return None

    def _scored(
        self,
        batch: DataFrame,
        serving: ServingModel,
        shadow: ServingModel | None = None,
        directories: dict[Sink, BatchDirectory] | None = None,
        counts: BatchCounts | None = None,
    ) -> DataFrame:
        """The batch scored by `serving` (beside `shadow`); the tasks write the prediction
        rows to `directories` themselves, if any, and the frame holds the failed rows (and
        with monitoring `counts`, the rows carrying the measures)."""
        files: dict = {"files": list(directories.values())} if directories else {}
        if counts is not None:
            files["counts"] = counts
        return self.scoring(
            batch,
            serving,
            self.features,
            self.cache_capacity,
            shadow=shadow,
            with_shadow=self.shadow is not None,
            output=self.output,
            **files,
        )

    def _task_directories(
        self, pending: Sequence[Sink], batch_id: int, with_shadow: bool
    ) -> dict[Sink, BatchDirectory]:
        """The prepared batch directories the tasks write into, one per pending sink, or none
        if any pending sink cannot take task-written files (see the class)."""
        if not self.files_in_pass or with_shadow or not pending:
            return {}
        directories = {}
        for sink in pending:
            directory = sink.task_writes(batch_id)
            if directory is None:
                return {}
            directories[sink] = directory
        for directory in directories.values():
            directory.prepare()
        return directories

    def _fall_back(
        self, error: Exception, batch_id: int, serving: ServingModel
    ) -> ServingModel | None:
        """The version to rescore a failed batch with (see the class), or None to fail it."""
        if self.fallback is None:
            return None
        committed = any(s.is_committed(batch_id) for s in [*self.sinks, self.dead_letter])
        return self.fallback.after_failure(error, batch_id, serving, committed)

    def _challenger(self, serving: ServingModel) -> ServingModel | None:
        """The shadow version to score beside `serving` this batch, if any can be compared."""
        shadow = self.shadow.poll() if self.shadow is not None else None
        reason = skip_reason(serving, shadow)
        if reason is not None and reason != self._shadow_skipped:
            log.warning("shadow not scored: %s", reason)
        self._shadow_skipped = reason
        return None if reason else shadow


def _observed_list(value: Any) -> list:
    """An array metric of an `Observation` as a Python list: pyspark before 4.2 hands the
    Scala Seq itself over (a py4j `JavaObject`), later ones a list."""
    if isinstance(value, list | tuple):
        return list(value)
    return [value.apply(i) for i in range(value.length())]


def _model_error_rate(counter: Observation, good: int) -> float:
    """Share of the batch's rows that reached the model (decoded) which it failed, of which
    `good` were scored."""
    failed = int(counter.get["model_errors"])
    return failed / (failed + good) if failed + good else 0.0
