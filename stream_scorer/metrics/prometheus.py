"""An optional Prometheus endpoint exposing the same figures as the per-batch log line."""

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from stream_scorer.errors import ConfigError


class PrometheusExporter:
    """Counters and gauges fed from the listener's batch records; serves `/metrics` on `port`.

    Metrics: `stream_scorer_batches_total`, `stream_scorer_input_rows_total`,
    `stream_scorer_scored_rows_total{model_version}`, `stream_scorer_dead_lettered_rows_total`,
    `stream_scorer_batch_duration_seconds`, `stream_scorer_processed_rows_per_second`,
    `stream_scorer_source_lag{partition="topic/N"}`, `stream_scorer_model_info{model_version}`.

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
        self.version.clear()
        self.version.labels(model_version=version).set(1)

    def close(self) -> None:
        """Stop serving and release the port (a restarted scorer may bind it again)."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
