"""A scorer set up for tests and benchmarks: its config and a published demo model."""

from pathlib import Path

from stream_scorer.config.loader import parse_config
from stream_scorer.config.settings import ScorerConfig
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore

NUMERIC = {"f0": "double", "f1": "double", "f2": "double", "f3": "double"}
"""The feature schema of most tests and benchmarks: four doubles."""


def scorer_config(
    tmp: Path, bootstrap: str, topic: str, schema: dict[str, str] = NUMERIC, **overrides
) -> ScorerConfig:
    """A scorer config writing Parquet under `tmp`; `overrides` replace top-level keys."""
    return parse_config(raw_config(tmp, bootstrap, topic, schema, **overrides), "test")


def raw_config(
    tmp: Path, bootstrap: str, topic: str, schema: dict[str, str] = NUMERIC, **overrides
) -> dict:
    """`scorer_config` as the mapping a YAML config file holds (for a `stream-scorer` process)."""
    raw = {
        "source": {
            "kind": "python-kafka",
            "options": {
                "kafka.bootstrap.servers": bootstrap,
                "subscribe": topic,
                "startingOffsets": "earliest",
                "kafkaConsumer.pollTimeoutMs": "20000",
            },
        },
        "features": {"schema": schema, "passthrough": {"id": "long"}},
        "model": {"store": str(tmp / "models")},
        "checkpoint": str(tmp / "checkpoint"),
        "trigger": {"processingTime": "500 milliseconds"},
        "sinks": [{"kind": "parquet", "path": str(tmp / "predictions")}],
        "dead_letter": {"kind": "parquet", "path": str(tmp / "dead-letter")},
    }
    raw.update(overrides)
    return raw


def publish(store_dir: Path, kind: str, schema: dict[str, str], seed: int = 0) -> str:
    """Train a demo model of `kind`, publish it to the store and return its version."""
    path = store_dir.parent / f"model-{kind}-{seed}.joblib"
    n = len(schema) if kind != "text" else 1
    save_model(train_demo_model(kind, n_features=n, seed=seed), path)
    return publish_sklearn(ModelStore(store_dir), path, schema).version
