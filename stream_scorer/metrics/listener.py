"""A StreamingQueryListener that reports each micro-batch as one structured JSON log line."""

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict

from pyspark.sql.streaming import StreamingQueryListener

from stream_scorer.metrics.lag import partition_lag
from stream_scorer.metrics.stats import ScorerStats

log = logging.getLogger("stream_scorer.metrics")
batches = logging.getLogger("stream_scorer.batches")
"""The line a person reads per batch; its duration is the JSON line's `batch_duration_ms`."""

Publisher = Callable[[dict], None]


class MetricsListener(StreamingQueryListener):
    """Emits `{"event": "batch", ...}` per progress: rows, rates, duration (the trigger's,
    `batch_duration_ms`: planning, scoring, sinks and commit; the readable line before it,
    `batch N: ...`, shows the same number), counts, lag,
    `model_refusals` (model versions refused and failed reads of the source so far),
    `model_cache_failures` (big versions a machine could not copy into its cache, disk full),
    `model_fallbacks` (versions refused after failing a batch, the previous one serving again),
    `model_source` (store directory or `models:/NAME@ALIAS`), `shadow` (`ShadowStats`
    of the batch, or null) and `drift` (`DriftStats.summary`: PSI, null and out-of-range
    rates per feature over the monitoring window; null with monitoring off).

    Runs on the driver, after each micro-batch, in Spark's listener thread. It also hands the
    record to each `publishers` callable (the checkpoint's status file, read by `stream-scorer
    status`, and the Prometheus exporter).

    Spark delivers these events asynchronously: a process that exits right after its query
    stops loses the last batch's report unless it first calls `wait_terminated`.
    """

    def __init__(
        self,
        stats: ScorerStats,
        serving_version: Callable[[], str | None],
        publishers: tuple[Publisher, ...] = (),
        model_refusals: Callable[[], int] | None = None,
        model_cache_failures: Callable[[], int] | None = None,
        model_fallbacks: Callable[[], int] | None = None,
        model_source: str | None = None,
        shadow_source: str | None = None,
    ) -> None:
        self.stats = stats
        self.serving_version = serving_version
        self.model_refusals = model_refusals
        """The registry's refusal count so far (`ModelRegistry.refusals`), if known."""
        self.model_cache_failures = model_cache_failures
        """The registries' `cache_failures` so far (served model and shadow), if known."""
        self.model_fallbacks = model_fallbacks
        """The registry's fallback count so far (`ModelRegistry.fallbacks`), if known."""
        self.model_source = model_source
        self.shadow_source = shadow_source
        self.publishers = publishers
        self.query_id: str | None = None
        """Only events of this query are reported (set once the query has started)."""
        self._terminated = threading.Event()

    def _ours(self, query_id: object) -> bool:
        return self.query_id is not None and str(query_id) == self.query_id

    def onQueryStarted(self, event) -> None:
        """Query start events arrive before `query_id` is known; `Scorer` logs the start."""

    def onQueryProgress(self, event) -> None:
        if not self._ours(event.progress.id):
            return
        record = self.progress_record(event.progress)
        if record["scored"] is not None:
            batches.info(
                "batch %d: %d scored by model %s, %d dead-lettered, %.2fs",
                record["batch_id"],
                record["scored"],
                record["model_version"],
                record["dead_lettered"],
                (record["batch_duration_ms"] or 0) / 1000,
            )
        log.info(json.dumps(record, sort_keys=True))
        for publish in self.publishers:
            publish(record)

    def onQueryIdle(self, event) -> None:
        """Idle triggers carry no batch; nothing to report."""

    def onQueryTerminated(self, event) -> None:
        if not self._ours(event.id):
            return
        log.info(json.dumps({"event": "query_terminated", "exception": event.exception}))
        self._terminated.set()

    def wait_terminated(self, timeout_s: float = 30.0) -> bool:
        """Block until the query's termination event has been handled; return whether it was.

        Spark posts it after the query's last progress event, so once this returns True every
        batch has been logged and published.
        """
        return self._terminated.wait(timeout_s)

    def progress_record(self, progress) -> dict:
        """The JSON-able record of one progress event."""
        batch = self.stats.batch(progress.batchId)
        lag: dict[str, int] = {}
        for source in progress.sources:
            lag.update(partition_lag(source.endOffset, source.latestOffset))
        # Spark counts every read of the source: a batch whose dead letters rescored it (see
        # BatchPipeline._needs_cache) shows twice its records. Ours count each record once.
        rows = batch.input_rows if batch else progress.numInputRows
        scale = rows / progress.numInputRows if progress.numInputRows else 1.0
        return {
            "event": "batch",
            "batch_id": progress.batchId,
            "timestamp": progress.timestamp,
            "input_rows": rows,
            "input_rows_per_second": _finite(progress.inputRowsPerSecond * scale),
            "processed_rows_per_second": _finite(progress.processedRowsPerSecond * scale),
            "batch_duration_ms": progress.durationMs.get("triggerExecution"),
            "scored": batch.scored if batch else None,
            "dead_lettered": batch.dead_lettered if batch else None,
            "model_version": batch.model_version if batch else self.serving_version(),
            "model_refusals": self.model_refusals() if self.model_refusals else None,
            "model_cache_failures": (
                self.model_cache_failures() if self.model_cache_failures else None
            ),
            "model_fallbacks": self.model_fallbacks() if self.model_fallbacks else None,
            "model_source": self.model_source,
            "shadow_source": self.shadow_source,
            "shadow": asdict(batch.shadow) if batch and batch.shadow else None,
            "drift": batch.drift.summary() if batch and batch.drift else None,
            "source_lag": lag,
            "total_lag": sum(lag.values()),
            "written_at": time.time(),
        }


def _finite(value: float) -> float | None:
    return round(value, 1) if math.isfinite(value) else None
