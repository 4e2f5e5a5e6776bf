"""Synthetic monitoring history in the layout the scorer writes (`monitoring.history`): one
Parquet file per batch, baselines beside them.

`write_history` draws a scorer's life: a reload to v0002, a refused v0003, a fallback, dead
letters of three reasons, and feature `f2` drifting over the last third of the batches.
"""

import json
import math
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

NUMERIC = ("f0", "f1", "f2", "f3")
CATEGORIES = ("de", "fr", "us")
FEATURES = (*NUMERIC, "country")
PREDICTION = "__prediction__"
REASONS = ("field 'f0' is null or missing", "not valid JSON", "field 'f1' is not a double")

SCHEMA = pa.schema(
    [
        ("time", pa.timestamp("us", tz="UTC")),
        ("batch_id", pa.int64()),
        ("rows", pa.int64()),
        ("scored", pa.int64()),
        ("dead_letters", pa.int64()),
        ("dead_letter_reasons", pa.map_(pa.string(), pa.int64())),
        ("model_version", pa.string()),
        ("reloads", pa.int64()),
        ("refusals", pa.int64()),
        ("fallbacks", pa.int64()),
        ("duration_ms", pa.float64()),
        ("records_per_second", pa.float64()),
        ("lag", pa.int64()),
        ("prediction_psi", pa.float64()),
        ("feature_psi", pa.map_(pa.string(), pa.float64())),
        ("feature_null_rate", pa.map_(pa.string(), pa.float64())),
        ("feature_out_of_range_rate", pa.map_(pa.string(), pa.float64())),
        ("feature_counts", pa.map_(pa.string(), pa.list_(pa.int64()))),
    ]
)


def baseline() -> dict:
    """A baseline by the contract: four standard-normal numbers, a country, a probability."""
    normal = {
        "kind": "numeric",
        "edges": [-1.28, -0.84, -0.52, -0.25, 0.0, 0.25, 0.52, 0.84, 1.28],
        "fractions": [0.1] * 10,
        "null_rate": 0.0,
        "min": -4.0,
        "max": 4.0,
    }
    country = {
        "kind": "categorical",
        "categories": list(CATEGORIES),
        "fractions": [0.5, 0.3, 0.2, 0.0],
        "null_rate": 0.0,
    }
    prediction = {**normal, "edges": [i / 10 for i in range(1, 10)], "min": 0.0, "max": 1.0}
    features = {name: normal for name in NUMERIC} | {"country": country}
    return {"rows": 10000, "source": "publish", "features": features, "prediction": prediction}


def shifted_fractions(shift: float) -> list[float]:
    """The baseline's 10 bins' fractions of a standard normal moved by `shift`."""
    edges = [-math.inf, *baseline()["features"]["f0"]["edges"], math.inf]
    cdf = [0.5 * (1 + math.erf((e - shift) / math.sqrt(2))) for e in edges]
    return [b - a for a, b in pairwise(cdf)]


def history_rows(
    batches: int,
    end: datetime | None = None,
    step: timedelta = timedelta(seconds=10),
    seed: int = 7,
) -> list[dict]:
    """`batches` rows by the contract, one per `step` up to `end` (default now)."""
    rng = np.random.default_rng(seed)
    end = end or datetime.now(timezone.utc)
    first = end - step * (batches - 1)
    rows = []
    for i in range(batches):
        drift = max(0.0, (i - 2 * batches / 3) / (batches / 3))  # 0 .. 1 over the last third
        version = "v0001" if i < batches * 0.4 else "v0002"
        records = int(rng.integers(900, 1100))
        dead = int(rng.integers(0, 8))
        reasons = dict(zip(REASONS, rng.multinomial(dead, [0.6, 0.3, 0.1]).tolist(), strict=True))
        duration = float(rng.gamma(9.0, 40.0))
        psi = {f: float(abs(rng.normal(0.02, 0.01))) for f in FEATURES}
        psi["f2"] += 0.6 * drift
        counts = {f: rng.multinomial(records, [0.1] * 10).tolist() for f in NUMERIC}
        counts["f2"] = rng.multinomial(records, shifted_fractions(2.0 * drift)).tolist()
        counts["country"] = rng.multinomial(records, [0.5, 0.3, 0.2, 0.0]).tolist()
        counts[PREDICTION] = rng.multinomial(records, [0.1] * 10).tolist()
        rows.append(
            {
                "time": first + step * i,
                "batch_id": i,
                "rows": records,
                "scored": records - dead,
                "dead_letters": dead,
                "dead_letter_reasons": {k: v for k, v in reasons.items() if v},
                "model_version": version,
                "reloads": int(i == int(batches * 0.4)),
                "refusals": int(i == int(batches * 0.7)),
                "fallbacks": int(i == int(batches * 0.85)),
                "duration_ms": duration,
                "records_per_second": records / duration * 1000,
                "lag": int(rng.integers(0, 5000)) if i % 17 else None,
                "prediction_psi": float(abs(rng.normal(0.02, 0.01))),
                "feature_psi": psi,
                "feature_null_rate": {f: 0.0 for f in FEATURES},
                "feature_out_of_range_rate": {f: 0.001 * drift for f in NUMERIC},
                "feature_counts": counts,
            }
        )
    return rows


def write_history(directory: Path, batches: int, end: datetime | None = None) -> Path:
    """Write `batches` batch files and each version's baseline under `directory`; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for row in history_rows(batches, end):
        write_batch(directory, row)
    (directory / "baselines").mkdir(exist_ok=True)
    for version in ("v0001", "v0002"):
        (directory / "baselines" / f"{version}.json").write_text(json.dumps(baseline()))
    return directory


def write_batch(directory: Path, row: dict) -> Path:
    """One batch's file, named as the contract says (a replay overwrites it)."""
    path = directory / f"batch-{row['batch_id']:012d}-{row['model_version']}.parquet"
    maps = ("dead_letter_reasons", "feature_psi", "feature_null_rate")
    maps += ("feature_out_of_range_rate", "feature_counts")
    values = {k: [list(v.items()) if k in maps else v] for k, v in row.items()}
    pq.write_table(pa.table(values, schema=SCHEMA), path)
    return path
