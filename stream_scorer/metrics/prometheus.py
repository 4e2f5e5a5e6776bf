"""An optional Prometheus endpoint exposing the same figures as the per-batch log line."""

import math

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from stream_scorer.errors import ConfigError


class PrometheusExporter:
    """Counters and gauges fed from the listener's batch records; serves `/metrics` on `port`.

    Metrics: `stream_scorer_batches_total`, `stream_scorer_input_rows_total`,
    `stream_scorer_scored_rows_total{model_version}`, `stream_scorer_dead_lettered_rows_total`,
    `stream_scorer_batch_duration_seconds`, `stream_scorer_processed_rows_per_second`,
    `stream_scorer_source_lag{partition="topic/N"}`, `stream_scorer_model_info{model_version}`,
    `stream_scorer_model_source_info{role, source, model_version}` (role `served` or `shadow`),
    `stream_scorer_model_fallbacks_total` (versions refused after failing a batch),
    `stream_scorer_model_refusals_total` (versions refused and failed reads of the model source)
    and, with a shadow, `stream_scorer_shadow_compared_rows_total{shadow_model_version}`,
    `stream_scorer_shadow_errors_total` and the last batch's `stream_scorer_shadow_agreement_rate`,
    `stream_scorer_shadow_mean_absolute_difference`, `stream_scorer_shadow_positive_rate_shift`
    (NaN where they do not apply); with monitoring, over its window,
    `stream_scorer_feature_psi{feature}`, `stream_scorer_prediction_psi` (NaN without a
    baseline), `stream_scorer_feature_null_rate{feature}` and
    `stream_scorer_feature_out_of_range_rate{feature}`.

    Raises
    ------
    ConfigError
        If `addr:port` cannot be bound (in use, or not an address of this host).
    """

    def __init__(self, port: int, addr: str = "127.0.0.1") -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.batches = Counter("stream_scorer_batches", "Micro-batches completed", registry=r)
        self.input_rows = Counter("stream_scorer_input_rows", "Records read", registry=r)
        self.scored = Counter(
            "stream_scorer_scored_rows", "Rows scored", ["model_version"], registry=r
        )
        self.dead = Counter("stream_scorer_dead_lettered_rows", "Rows dead-lettered", registry=r)
        self.duration = Gauge(
            "stream_scorer_batch_duration_seconds", "Last micro-batch duration", registry=r
        )
        self.rate = Gauge(
            "stream_scorer_processed_rows_per_second", "Last batch processing rate", registry=r
        )
        self.lag = Gauge(
            "stream_scorer_source_lag",
            "Records behind the latest offset",
            ["partition"],
            registry=r,
        )
        self.version = Gauge(
            "stream_scorer_model_info", "Serving model version (1)", ["model_version"], registry=r
        )
        self.sources = Gauge(
            "stream_scorer_model_source_info",
            "Where each model comes from, and its version (1)",
            ["role", "source", "model_version"],
            registry=r,
        )
        self.fallbacks = Counter(
            "stream_scorer_model_fallbacks",
            "Model versions refused after failing a batch, the previous one serving again",
            registry=r,
        )
        self.refusals = Counter(
            "stream_scorer_model_refusals",
            "Model versions refused (verification, validation) and failed reads of the source",
            registry=r,
        )
        self._seen = {"model_fallbacks": 0, "model_refusals": 0}
        """The listener's running counts (`model_fallbacks`, `model_refusals`) applied so far."""
        self.shadow = ShadowGauges(r)
        self.drift = DriftGauges(r)
        try:
            self.server, self.thread = start_http_server(port, addr=addr, registry=r)
        except OSError as exc:
            msg = (
                f"metrics.prometheus_port: cannot serve on {addr}:{port}: {exc.strerror}; "
                "choose a free port or another metrics.prometheus_addr"
            )
            raise ConfigError(msg) from exc

    def __call__(self, record: dict) -> None:
        """Apply one batch record from `MetricsListener`."""
        self.batches.inc()
        self.input_rows.inc(record["input_rows"] or 0)
        version = record["model_version"] or "unknown"
        self.scored.labels(model_version=version).inc(record["scored"] or 0)
        self.dead.inc(record["dead_lettered"] or 0)
        self.duration.set((record["batch_duration_ms"] or 0) / 1000)
        self.rate.set(record["processed_rows_per_second"] or 0)
        for partition, lag in record["source_lag"].items():
            self.lag.labels(partition=partition).set(lag)
        self._advance(self.fallbacks, "model_fallbacks", record)
        self._advance(self.refusals, "model_refusals", record)
        self.version.clear()
        self.version.labels(model_version=version).set(1)
        self.sources.clear()
        if record.get("model_source"):
            self.sources.labels("served", record["model_source"], version).set(1)
        if record.get("drift") is not None:
            self.drift(record["drift"])
        shadow = record.get("shadow")
        if shadow is not None:
            shadow_version = shadow["model_version"] or "none"
            self.sources.labels("shadow", record["shadow_source"], shadow_version).set(1)
            self.shadow(shadow)

    def _advance(self, counter: Counter, key: str, record: dict) -> None:
        """Add what the running count `record[key]` gained since the last record."""
        count = record.get(key) or 0
        counter.inc(max(0, count - self._seen[key]))
        self._seen[key] = max(count, self._seen[key])

    def close(self) -> None:
        """Stop serving and release the port (a restarted scorer may bind it again)."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class ShadowGauges:
    """The challenger's per-batch comparison (`ShadowStats` as a dict) as Prometheus metrics."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.compared = Counter(
            "stream_scorer_shadow_compared_rows",
            "Rows both the served model and the shadow scored",
            ["shadow_model_version"],
            registry=r,
        )
        self.errors = Counter(
            "stream_scorer_shadow_errors",
            "Rows the served model scored, the shadow not",
            registry=r,
        )
        self.gauges = {
            name: Gauge(f"stream_scorer_shadow_{name}", doc, registry=r)
            for name, doc in (
                ("agreement_rate", "Last batch: share of compared rows predicted alike"),
                ("mean_absolute_difference", "Last batch: mean |served - shadow| (regressors)"),
                ("positive_rate_shift", "Last batch: shadow minus served positive rate (binary)"),
            )
        }
        for gauge in self.gauges.values():  # no shadow compared yet (or none configured)
            gauge.set(math.nan)

    def __call__(self, shadow: dict) -> None:
        """Apply one batch's `ShadowStats` dict."""
        version = shadow["model_version"] or "none"
        self.compared.labels(shadow_model_version=version).inc(shadow["compared"])
        self.errors.inc(shadow["errors"])
        for name, gauge in self.gauges.items():
            value = shadow[name]
            gauge.set(math.nan if value is None else value)


class DriftGauges:
    """The monitoring window's drift (`DriftStats.summary`) as Prometheus gauges."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.prediction_psi = Gauge(
            "stream_scorer_prediction_psi",
            "PSI of the predictions against the baseline, over the monitoring window",
            registry=r,
        )
        self.prediction_psi.set(math.nan)
        self.features = {
            key: Gauge(f"stream_scorer_{key}", doc, ["feature"], registry=r)
            for key, doc in (
                ("feature_psi", "PSI of a feature against the baseline, over the window"),
                ("feature_null_rate", "Share of a feature's values that are null, over the window"),
                (
                    "feature_out_of_range_rate",
                    "Share of a feature's values outside the baseline's range or categories",
                ),
            )
        }

    def __call__(self, drift: dict) -> None:
        """Apply one batch's drift summary; a feature without a value this batch is dropped."""
        value = drift.get("prediction_psi")
        self.prediction_psi.set(math.nan if value is None else value)
        for key, gauge in self.features.items():
            gauge.clear()
            for feature, rate in (drift.get(key) or {}).items():
                if rate is not None:
                    gauge.labels(feature=feature).set(rate)
