"""The history table: one file per batch, replays overwrite, retention sweeps old rows."""

import datetime
import os

import pyarrow.parquet as pq

from stream_scorer.monitoring.history import SCHEMA, History

NOW = datetime.datetime.now(datetime.UTC)


def _row(batch_id: int, when: datetime.datetime, version: str = "v0001") -> dict:
    return {
        "time": when, "batch_id": batch_id, "rows": 10, "scored": 9, "dead_letters": 1,
        "dead_letter_reasons": {"bad": 1}, "model_version": version, "reloads": 0,
        "refusals": 0, "fallbacks": 0, "duration_ms": 12.5, "records_per_second": 800.0,
        "lag": None, "prediction_psi": None, "feature_psi": {"a": 0.01},
        "feature_null_rate": {"a": 0.0}, "feature_out_of_range_rate": {"a": 0.0},
        "feature_counts": {"a": [1, 2, 3]},
    }  # fmt: skip


def test_one_file_per_batch_and_a_replay_overwrites(tmp_path):
    history = History(str(tmp_path), 86_400)
    history.write(_row(1, NOW))
    history.write(_row(2, NOW))
    history.write(_row(2, NOW))
    table = pq.read_table(tmp_path, schema=SCHEMA)
    assert sorted(table.column("batch_id").to_pylist()) == [1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "batch-000000000001-v0001.parquet",
        "batch-000000000002-v0001.parquet",
    ]


def test_retention_drops_rows_older_than_it(tmp_path):
    history = History(str(tmp_path), 86_400)
    history.write(_row(1, NOW - datetime.timedelta(days=3)))
    history.write(_row(2, NOW - datetime.timedelta(hours=1)))
    old = (NOW - datetime.timedelta(days=3)).timestamp()
    os.utime(tmp_path / "batch-000000000001-v0001.parquet", (old, old))  # written then
    assert history.sweep(NOW) == 1
    assert [p.name for p in tmp_path.glob("batch-*")] == ["batch-000000000002-v0001.parquet"]
