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
    "produce_records",
    "publish",
    "read_sink",
    "records",
    "reloaded_at",
    "score_once",
    "scored_coordinates",
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


def produce_records(bootstrap: str, topic: str, ids: range, partitions: int = 1) -> None:
    """Produce the good records `ids` (schema NUMERIC) round-robin over `partitions`."""
    from tests.kafka_helpers import produce_exact, spread

    produce_exact(bootstrap, topic, spread(encode(records(ids, NUMERIC)), partitions))


def score_once(spark, tmp_path: Path, bootstrap: str, topic: str, **overrides) -> int:
    """Run a scorer of `scorer_config(tmp_path, ...)` in this process over what `topic` holds
    now (`once`); return its exit code."""
    from stream_scorer.runtime.scorer import Scorer

    config = scorer_config(tmp_path, bootstrap, topic, **overrides)
    return Scorer(config, spark=spark, once=True).run()


def scored_coordinates(spark, tmp_path: Path) -> list[tuple[str, int, int]]:
    """`coordinates` of the Parquet sink `tmp_path / "predictions"` (`scorer_config`'s)."""
    return coordinates(read_sink(spark, tmp_path / "predictions"))


def reloaded_at(spark, tmp_path: Path, switch: int, total: int) -> pd.DataFrame:
    """The Parquet sink's rows, checked for a hot reload from v0001 to v0002 at record id
    `switch`: each of `total` records scored once, ids below `switch` by v0001 and the rest by
    v0002, and every batch by one version."""
    scored = read_sink(spark, tmp_path / "predictions")
    assert len(set(coordinates(scored))) == len(scored) == total
    versions = scored.set_index("id")["model_version"]
    assert set(versions.loc[range(switch)]) == {"v0001"}
    assert set(versions.loc[range(switch, total)]) == {"v0002"}
    mixed = scored.groupby("batch_id")["model_version"].nunique()
    assert (mixed == 1).all(), f"batches scored by two versions: {list(mixed[mixed > 1].index)}"
    return scored
