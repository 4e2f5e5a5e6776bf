"""The Prometheus exporter fed from batch records."""

import math

import pytest

from stream_scorer.metrics.prometheus import PrometheusExporter


def _record(fallbacks: int, refusals: int = 0) -> dict:
    return {
        "input_rows": 10,
        "model_version": "v0001",
        "scored": 10,
        "dead_lettered": 0,
        "batch_duration_ms": 100,
        "processed_rows_per_second": 100.0,
        "source_lag": {},
        "model_fallbacks": fallbacks,
        "model_refusals": refusals,
    }


@pytest.fixture
def exporter():
    exporter = PrometheusExporter(0)
    yield exporter
    exporter.close()


def test_fallbacks_counter_follows_the_running_count_of_the_records(exporter):
    for fallbacks in (0, 1, 1):
        exporter(_record(fallbacks))
    assert exporter.registry.get_sample_value("stream_scorer_model_fallbacks_total") == 1


def test_refusals_counter_follows_the_running_count_of_the_records(exporter):
    for refusals in (0, 2, 2, 3):
        exporter(_record(0, refusals))
    assert exporter.registry.get_sample_value("stream_scorer_model_refusals_total") == 3


@pytest.mark.parametrize(
    "name", ["agreement_rate", "mean_absolute_difference", "positive_rate_shift"]
)
def test_shadow_gauges_are_nan_while_no_shadow_was_compared(exporter, name):
    exporter(_record(0))  # a batch without a shadow
    value = exporter.registry.get_sample_value(f"stream_scorer_shadow_{name}")
    assert math.isnan(value)


def test_drift_gauges_follow_the_batch_drift(exporter):
    drift = {
        "baseline": "publish",
        "prediction_psi": 0.31,
        "feature_psi": {"f0": 0.45, "f1": 0.01},
        "feature_null_rate": {"f0": 0.0, "f1": 0.25},
        "feature_out_of_range_rate": {"f0": 0.2, "f1": 0.0},
    }
    exporter({**_record(0), "drift": drift})
    value = exporter.registry.get_sample_value
    assert value("stream_scorer_prediction_psi") == 0.31
    assert value("stream_scorer_feature_psi", {"feature": "f0"}) == 0.45
    assert value("stream_scorer_feature_null_rate", {"feature": "f1"}) == 0.25
    assert value("stream_scorer_feature_out_of_range_rate", {"feature": "f0"}) == 0.2
    exporter({**_record(0), "drift": {**drift, "prediction_psi": None, "feature_psi": {}}})
    assert math.isnan(value("stream_scorer_prediction_psi"))
    assert value("stream_scorer_feature_psi", {"feature": "f0"}) is None
