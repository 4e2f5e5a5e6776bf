"""The driver's side: payloads merged, PSI over the window, WARNING once per window, first rows."""

import logging

import numpy as np
import pandas as pd
import pytest

from stream_scorer.config.monitoring import MonitoringConfig
from stream_scorer.monitoring.baseline import PREDICTION, build
from stream_scorer.monitoring.counts import BatchCounts, reason_of
from stream_scorer.monitoring.drift import DriftMonitor, VersionInfo
from stream_scorer.monitoring.history import History

MODEL = VersionInfo("v0001", {"a": "double", "b": "double"}, "numeric")


def _rows(rng, n, shift=0.0):
    return pd.DataFrame({"a": rng.normal(shift, 1, n), "b": rng.normal(0, 1, n)})


def _payload(counter: BatchCounts, rows: pd.DataFrame, errors=None) -> bytes:
    decoded = np.arange(len(rows))
    return counter.payload(rows, decoded, rows["b"].to_numpy(), errors or [None] * len(rows))


@pytest.fixture
def baseline():
    rng = np.random.default_rng(7)
    rows = _rows(rng, 20_000)
    return build(rows, MODEL.feature_types, "publish", rows["b"].to_numpy())


def test_a_shifted_feature_warns_once_per_window_and_clears(baseline, caplog):
    monitor = DriftMonitor(MonitoringConfig(window=3), lambda v: baseline)
    rng = np.random.default_rng(3)
    caplog.set_level(logging.INFO, "stream_scorer.monitoring")
    for _ in range(3):
        stats = monitor.observe(MODEL, [_payload(monitor.counter(MODEL), _rows(rng, 2000))])
    assert max(stats.feature_psi.values()) < 0.1 and stats.prediction_psi < 0.1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    for _ in range(5):
        stats = monitor.observe(MODEL, [_payload(monitor.counter(MODEL), _rows(rng, 2000, 2.0))])
    assert stats.feature_psi["a"] > 0.2 and stats.feature_psi["b"] < 0.1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # batches 4 and 7 of the 8: once per window of 3
    assert all("feature 'a' PSI" in w for w in warnings)
    for _ in range(3):
        monitor.observe(MODEL, [_payload(monitor.counter(MODEL), _rows(rng, 2000))])
    assert any("drift cleared: feature 'a'" in r.getMessage() for r in caplog.records)


def test_rates_and_counts_come_from_the_merged_payloads(baseline):
    monitor = DriftMonitor(MonitoringConfig(window=2), lambda v: baseline)
    counter = monitor.counter(MODEL)
    rows = pd.DataFrame({"a": [np.nan, 100.0, 0.0, 0.1], "b": [0.0, 0.0, 0.0, 0.0]})
    stats = monitor.observe(
        MODEL,
        [
            _payload(counter, rows[:2], ["field 'x' expected double, got string \"q\"", None]),
            _payload(counter, rows[2:]),
        ],
    )
    assert stats.feature_null_rate["a"] == 0.25
    assert stats.feature_out_of_range_rate["a"] == 0.25
    assert sum(stats.feature_counts["a"]) == 3  # the null is in no bin
    assert len(stats.feature_counts["a"]) == len(baseline.features["a"].fractions)
    assert sum(stats.feature_counts[PREDICTION]) == 4
    assert stats.dead_letter_reasons == {"field 'x' expected double, got string \"…\"": 1}


def test_reasons_lose_their_values():
    assert reason_of('offset 17: value -3.5 for "abc" is bad') == 'offset N: value N for "…" is bad'


def test_first_rows_become_the_baseline_and_survive_a_restart(tmp_path):
    config = MonitoringConfig(baseline="first_rows", first_rows=1000)
    history = History(str(tmp_path / "history"), 3600)
    monitor = DriftMonitor(config, lambda v: None, history)
    rng = np.random.default_rng(5)
    for _ in range(2):
        stats = monitor.observe(MODEL, [_payload(monitor.counter(MODEL), _rows(rng, 600))])
        assert stats.baseline is None
    baseline = monitor.baseline("v0001")
    assert baseline is not None and baseline.rows == 1000 and baseline.source == "first_rows"
    stats = monitor.observe(MODEL, [_payload(monitor.counter(MODEL), _rows(rng, 600))])
    assert stats.baseline == "first_rows" and stats.feature_psi["a"] < 0.1
    again = DriftMonitor(config, lambda v: None, History(str(tmp_path / "history"), 3600))
    assert again.baseline("v0001") == baseline
