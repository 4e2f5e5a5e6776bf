"""Test-side helpers to configure a scorer, make feature records and read its sinks.

The scorer's config and model come from `stream_scorer.testing.scorer_setup`, which the
benchmarks share.
"""

import random
from pathlib import Path

import orjson
import pandas as pd

from stream_scorer.testing.scorer_setup import NUMERIC, publish, scorer_config

__all__ = [
    "NUMERIC",
    "TEXT",
    "coordinates",
    "encode",
    "model_frame",
    "publish",
    "read_sink",
    "records",
    "scorer_config",
]

TEXT = {"text": "string"}
WORDS = ["spark", "kafka", "goal", "match", "stock", "market", "vote", "party", "team"]


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
