"""Operational metrics: a JSON log line per batch, Prometheus gauges, a status file."""
