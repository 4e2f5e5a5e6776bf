"""A batch record and its stats become the batch's history row."""

from stream_scorer.metrics.history_rows import HistoryPublisher
from stream_scorer.metrics.stats import BatchStats, ScorerStats
from stream_scorer.monitoring.drift import DriftStats
from stream_scorer.monitoring.history import History


def _record(batch_id: int, version: str, refusals: int) -> dict:
    return {
        "batch_id": batch_id, "input_rows": 10, "scored": 9, "dead_lettered": 1,
        "model_version": version, "model_refusals": refusals, "model_fallbacks": 0,
        "batch_duration_ms": 250, "processed_rows_per_second": 40.0,
        "source_lag": {"t/0": 3}, "total_lag": 3, "written_at": 1_700_000_000.0,
    }  # fmt: skip


def test_rows_count_this_batch_s_events_and_carry_its_drift(tmp_path):
    stats = ScorerStats()
    drift = DriftStats("publish", 0.05, {"f0": 0.3}, {"f0": 0.0}, {"f0": 0.1}, {"f0": [1, 2]},
                       {"field 'f0' is null or missing": 1})  # fmt: skip
    for batch_id, version in ((0, "v0001"), (1, "v0002")):
        stats.record(BatchStats(batch_id, version, 9, 1, 0.25, drift=drift))
    publisher = HistoryPublisher(History(str(tmp_path), 86_400), stats)
    first = publisher.row(_record(0, "v0001", 1))
    second = publisher.row(_record(1, "v0002", 2))
    assert (first["reloads"], first["refusals"]) == (0, 1)
    assert (second["reloads"], second["refusals"]) == (1, 1)
    assert second["feature_psi"] == {"f0": 0.3} and second["lag"] == 3
    assert second["dead_letter_reasons"] == {"field 'f0' is null or missing": 1}
    assert second["time"].timestamp() == 1_700_000_000.0
