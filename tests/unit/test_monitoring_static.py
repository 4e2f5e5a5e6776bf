"""The dashboards and alert rules of docker/ name only metrics the scorer exports: each PromQL
expression of docker/prometheus/alerts.yml and docker/grafana/dashboards/*.json against the
`/metrics` exposition of a real `PrometheusExporter` fed one batch record; and the compose
`monitoring` profile mounts them."""

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from stream_scorer.metrics.prometheus import PrometheusExporter

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DASHBOARDS = sorted((DOCKER / "grafana" / "dashboards").glob("*.json"))
PROMETHEUS_OWN = {"up"}
"""Series Prometheus itself writes for every scrape target."""
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or"}
KEYWORDS |= {"unless", "bool", "offset", "inf", "nan"}
_NOISE = re.compile(
    r"\{[^}]*\}"  # label matchers
    r"|\[[^\]]*\]"  # range and subquery durations
    r"|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"  # label lists
    r'|"[^"]*"'  # strings
    r"|\$__\w+"  # Grafana's variables
)
_NAME = re.compile(r"(?<![\w:.])[a-zA-Z_:][\w:]*(?![\w:]|\s*\()")
"""A whole identifier not followed by `(`: a metric name (or a keyword), not a function;
not the exponent of a number (`1e3`)."""


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    bare = _NOISE.sub(" ", expr)
    return set(_NAME.findall(bare)) - KEYWORDS


@pytest.fixture(scope="module")
def exported() -> set[str]:
    """Every sample name of the scorer's `/metrics` after one batch with a shadow."""
    exporter = PrometheusExporter(0)
    try:
        exporter(
            {
                "input_rows": 10,
                "model_version": "v0001",
                "scored": 9,
                "dead_lettered": 1,
                "batch_duration_ms": 100,
                "processed_rows_per_second": 100.0,
                "source_lag": {"features/0": 3},
                "model_fallbacks": 0,
                "model_refusals": 0,
                "model_source": "/models",
                "shadow_source": "/models",
                "drift": {
                    "baseline": "publish",
                    "prediction_psi": 0.01,
                    "feature_psi": {"f0": 0.01},
                    "feature_null_rate": {"f0": 0.0},
                    "feature_out_of_range_rate": {"f0": 0.0},
                },
                "shadow": {
                    "model_version": "v0002",
                    "compared": 9,
                    "errors": 0,
                    "agreement_rate": 1.0,
                    "mean_absolute_difference": None,
                    "positive_rate_shift": 0.0,
                },
            }
        )
        text = generate_latest(exporter.registry).decode()
    finally:
        exporter.close()
    families = text_string_to_metric_families(text)
    return {sample.name for family in families for sample in family.samples}


def alert_rules() -> list[dict]:
    groups = yaml.safe_load((DOCKER / "prometheus" / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_exprs() -> list[tuple[str, str]]:
    out = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            out += [(panel["title"], t["expr"]) for t in panel.get("targets", [])]
    return out


def test_metric_names_are_read_from_promql():
    expr = 'sum by (feature) (rate(a_total{job="x"}[5m])) / b > 0.2 and on (x) c[5m:1m] * 1e3'
    assert metric_names(expr) == {"a_total", "b", "c"}


def test_every_metric_of_the_alert_rules_is_exported(exported):
    known = exported | PROMETHEUS_OWN
    for rule in alert_rules():
        missing = metric_names(rule["expr"]) - known
        assert not missing, f"alert {rule['alert']}: {missing} not in the scorer's /metrics"


def test_every_metric_of_the_dashboards_is_exported(exported):
    assert DASHBOARDS
    known = exported
    for title, expr in dashboard_exprs():
        assert metric_names(expr), f"panel {title!r}: {expr!r} names no metric"
        missing = metric_names(expr) - known
        assert not missing, f"panel {title!r}: {missing} not in the scorer's /metrics"


def test_the_alerts_cover_lag_stalls_dead_letters_refusals_fallbacks_and_drift():
    named = set().union(*(metric_names(rule["expr"]) for rule in alert_rules()))
    assert {
        "stream_scorer_source_lag",
        "stream_scorer_batches_total",
        "stream_scorer_dead_lettered_rows_total",
        "stream_scorer_model_refusals_total",
        "stream_scorer_model_fallbacks_total",
        "stream_scorer_feature_psi",
        "stream_scorer_prediction_psi",
    } <= named
    drift = [r["expr"] for r in alert_rules() if "psi" in r["expr"]]
    assert drift and all(expr.endswith("> 0.2") for expr in drift)
    assert all(rule["labels"]["severity"] in ("warning", "critical") for rule in alert_rules())


def test_panels_use_the_provisioned_datasource():
    path = DOCKER / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
    (source,) = yaml.safe_load(path.read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090"
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == source["uid"], panel["title"]


def test_prometheus_scrapes_the_scorers_port_and_loads_the_alerts():
    config = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text())
    docker_yaml = yaml.safe_load((ROOT / "configs" / "docker.yaml").read_text())
    (job,) = config["scrape_configs"]
    assert job["static_configs"][0]["targets"] == [
        f"scorer:{docker_yaml['metrics']['prometheus_port']}"
    ]
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_the_monitoring_profile_mounts_the_files_of_docker():
    services = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]
        for volume in services[name]["volumes"]:
            host, _, _ = volume.partition(":")
            if host.startswith("./"):
                assert (DOCKER / host).exists(), f"{name} mounts {host}, which does not exist"
    mounts = {v.split(":")[1] for v in services["prometheus"]["volumes"]}
    assert "/etc/prometheus/alerts.yml" in mounts
