"""Each batch's row of the history table (`monitoring.history`), from the listener's record.

`HistoryPublisher` is one of `MetricsListener`'s publishers: it turns a batch record and the
batch's `BatchStats` (its drift measures) into a row of `monitoring.history.SCHEMA` and
writes it. Reloads, refusals and fallbacks are this batch's events: the changes of the
served version and of the registry's running counts since the previous record.
"""

import datetime
import logging

from stream_scorer.metrics.stats import ScorerStats
from stream_scorer.monitoring.history import History

log = logging.getLogger(__name__)


class HistoryPublisher:
    """Writes one history row per batch record (called in Spark's listener thread)."""

    def __init__(self, history: History, stats: ScorerStats) -> None:
        self.history = history
        self.stats = stats
        self._version: str | None = None
        self._refusals = 0
        self._fallbacks = 0

    def __call__(self, record: dict) -> None:
        """Write the row of one `MetricsListener` batch record; a failure is logged, never
        raised (the history must not stop the scorer)."""
        try:
            self.history.write(self.row(record))
        except Exception:
            log.exception("history: cannot write the row of batch %s", record.get("batch_id"))

    def row(self, record: dict) -> dict:
        """The history row of `record` (keys: `monitoring.history.SCHEMA`'s names)."""
        batch = self.stats.batch(record["batch_id"])
        drift = batch.drift if batch else None
        version = record["model_version"] or "unknown"
        reloads = int(self._version is not None and version != self._version)
        self._version = version
        refusals = self._delta("_refusals", record.get("model_refusals"))
        fallbacks = self._delta("_fallbacks", record.get("model_fallbacks"))
        written = datetime.datetime.fromtimestamp(record["written_at"], datetime.timezone.utc)
        return {
            "time": written,
            "batch_id": record["batch_id"],
            "rows": record["input_rows"] or 0,
            "scored": record["scored"] or 0,
            "dead_letters": record["dead_lettered"] or 0,
            "dead_letter_reasons": drift.dead_letter_reasons if drift else {},
            "model_version": version,
            "reloads": reloads,
            "refusals": refusals,
            "fallbacks": fallbacks,
            "duration_ms": float(record["batch_duration_ms"] or 0),
            "records_per_second": float(record["processed_rows_per_second"] or 0),
            "lag": record["total_lag"] if record["source_lag"] else None,
            "prediction_psi": drift.prediction_psi if drift else None,
            "feature_psi": drift.feature_psi if drift else {},
            "feature_null_rate": drift.feature_null_rate if drift else {},
            "feature_out_of_range_rate": drift.feature_out_of_range_rate if drift else {},
            "feature_counts": drift.feature_counts if drift else {},
        }

    def _delta(self, name: str, running: int | None) -> int:
        """The growth of a running count since the previous record."""
        previous = getattr(self, name)
        now = running or 0
        setattr(self, name, max(now, previous))
        return max(0, now - previous)
