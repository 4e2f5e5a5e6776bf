"""Test-side helpers to configure a scorer, make feature records and read its sinks."""

import random
from pathlib import Path

import orjson
import pandas as pd

from stream_scorer.config.loader import parse_config
from stream_scorer.config.settings import ScorerConfig
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.models.store import ModelStore

NUMERIC = {"f0": "double", "f1": "double", "f2": "double", "f3": "double"}
TEXT = {"text": "string"}
WORDS = ["spark", "kafka", "goal", "match", "stock", "market", "vote", "party", "team"]


def scorer_config(
    tmp: Path, bootstrap: str, topic: str, schema: dict[str, str] = NUMERIC, **overrides
) -> ScorerConfig:
    """A scorer config writing Parquet under `tmp`; `overrides` replace top-level keys."""
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
    return parse_config(raw, "test")


def publish(store_dir: Path, kind: str, schema: dict[str, str], seed: int = 0) -> str:
    """Train a demo model of `kind`, publish it to the store and return its version."""
    path = store_dir.parent / f"model-{kind}-{seed}.joblib"
    n = len(schema) if kind != "text" else 1
    save_model(train_demo_model(kind, n_features=n, seed=seed), path)
    return ModelStore(store_dir).publish(path, schema).version


def records(ids: range, schema: dict[str, str], seed: int = 0) -> list[dict]:
    """Good feature records with an `id`, deterministic for `seed`."""
    rng = random.Random(seed)
    out = []
    for i in ids:
        rec: dict = {"id": i}
        for name, kind in schema.items():
            if kind == "string":
                rec[name] = " ".join(rng.choice(WORDS) for _ in range(4))
            else:
                rec[name] = round(rng.uniform(-3, 3), 5)
        out.append(rec)
    return out


def encode(recs: list[dict]) -> list[bytes]:
    """JSON-encode records as Kafka values."""
    return [orjson.dumps(r) for r in recs]


def model_frame(recs: list[dict], schema: dict[str, str]):
    """The model's input for `recs`: a DataFrame, or a 1-D array for a single text feature."""
    frame = pd.DataFrame(recs)[list(schema)]
    if list(schema.values()) == ["string"]:
        return frame[next(iter(schema))].to_numpy()
    return frame


def read_sink(spark, path: Path) -> pd.DataFrame:
    """All rows of a Parquet sink as pandas (empty frame if nothing was written)."""
    if not path.exists():
        return pd.DataFrame(columns=["topic", "partition", "offset"])
    return spark.read.parquet(str(path)).toPandas()


def coordinates(frame: pd.DataFrame) -> list[tuple[str, int, int]]:
    """Sorted (topic, partition, offset) triples, duplicates kept."""
    return sorted(zip(frame["topic"], frame["partition"], frame["offset"], strict=True))
