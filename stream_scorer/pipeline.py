"""The foreachBatch function: one model version per batch, scored once, written to all sinks."""

import logging
import threading
import time
from collections.abc import Sequence

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from stream_scorer.batch_stats import BatchStats, ScorerStats
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.faults import fault_point
from stream_scorer.models.registry import ModelRegistry
from stream_scorer.scoring.stage import dead_letters, predictions, score
from stream_scorer.sinks.base import Sink

log = logging.getLogger(__name__)


class BatchPipeline:
    """Called by Spark once per micro-batch, on the driver, as `foreachBatch(pipeline)`.

    Guarantees: every row of a batch is scored by the single model version the registry
    serves when the batch starts; the scoring UDF runs once per row (the scored frame is
    persisted for the sinks); each sink is idempotent for a batch id, so a batch that Spark
    replays after a failure writes nothing twice. An exception from a sink fails the batch,
    Spark does not commit its offsets, and a restart replays it.
    """

    def __init__(
        self,
        features: FeaturesConfig,
        registry: ModelRegistry,
        sinks: Sequence[Sink],
        dead_letter: Sink,
        cache_capacity: int = 2,
    ) -> None:
        self.features = features
        self.registry = registry
        self.sinks = list(sinks)
        self.dead_letter = dead_letter
        self.cache_capacity = cache_capacity
        self.stats = ScorerStats()
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

    def _process(self, batch: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        fault_point("slow-batch", batch_id)
        serving = self.registry.refresh()
        scored = score(batch, serving, self.features, self.cache_capacity)
        scored = scored.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            counts = dict(
                scored.groupBy(F.col("error").isNull().alias("ok")).count().collect()  # type: ignore[arg-type]
            )
            good, bad = counts.get(True, 0), counts.get(False, 0)
            if good:
                rows = predictions(scored)
                for sink in self.sinks:
                    sink.write(rows, batch_id)
                    fault_point("between-sinks", batch_id)
            if bad:
                self.dead_letter.write(dead_letters(scored), batch_id)
            fault_point("after-sinks", batch_id)
        finally:
            scored.unpersist()
        self.registry.release_retired()
        stats = BatchStats(batch_id, serving.version, good, bad, time.monotonic() - started)
        self.stats.record(stats)
        log.info(
            "batch %d: %d scored by model %s, %d dead-lettered, %.2fs",
            batch_id,
            good,
            serving.version,
            bad,
            stats.seconds,
        )
