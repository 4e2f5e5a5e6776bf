"""Counts the scorer keeps per micro-batch and in total, read by the CLI, demo and metrics."""

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from stream_scorer.metrics.shadow import ShadowStats
from stream_scorer.monitoring.drift import DriftStats

RECENT_BATCHES = 64


@dataclass(frozen=True)
class BatchStats:
    """What one micro-batch did."""

    batch_id: int
    model_version: str
    scored: int
    dead_lettered: int
    seconds: float
    shadow: ShadowStats | None = None
    """How the challenger compared, when `model.shadow` is set."""
    drift: DriftStats | None = None
    """What monitoring measured, when `monitoring.enabled`."""

    @property
    def input_rows(self) -> int:
        """Records the batch read from the source."""
        return self.scored + self.dead_lettered


@dataclass
class ScorerStats:
    """Running totals over the life of a query; thread-safe."""

    batches: int = 0
    scored_by_version: Counter = field(default_factory=Counter)
    dead_lettered: int = 0
    busy_seconds: float = 0.0
    last: BatchStats | None = None
    _recent: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, batch: BatchStats) -> None:
        """Add one finished batch."""
        with self._lock:
            self.batches += 1
            self.scored_by_version[batch.model_version] += batch.scored
            self.dead_lettered += batch.dead_lettered
            self.busy_seconds += batch.seconds
            self.last = batch
            self._recent[batch.batch_id] = batch
            while len(self._recent) > RECENT_BATCHES:
                self._recent.popitem(last=False)

    def batch(self, batch_id: int) -> BatchStats | None:
        """The stats of a recent batch, if it ran in this process."""
        with self._lock:
            return self._recent.get(batch_id)

    @property
    def scored(self) -> int:
        """Rows scored so far, over all model versions."""
        with self._lock:
            return sum(self.scored_by_version.values())

    @property
    def processed(self) -> int:
        """Rows scored or dead-lettered so far."""
        with self._lock:
            return sum(self.scored_by_version.values()) + self.dead_lettered
