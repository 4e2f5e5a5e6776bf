"""Model monitoring end to end: drift against the published baseline, the WARNING, and the
history table across a restart and a hot reload (two scorer runs on one checkpoint)."""

import datetime
import logging
import os

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stream_scorer.devtools.demo_models import demo_features, save_model, train_demo_model
from stream_scorer.monitoring.history import SCHEMA, History, file_name
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.sinks.base import BatchHooks
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.kafka_helpers import create_topic, produce_exact
from tests.scorer_helpers import NUMERIC, scorer_config

pytestmark = pytest.mark.integration

PER_BATCH, BATCHES = 500, 6
"""Each run reads BATCHES batches of PER_BATCH records (maxOffsetsPerTrigger)."""
WINDOW = 3


def _values(ids: range, seed: int, shift: float = 0.0) -> list[bytes]:
    """Records whose features are drawn as the baseline's (standard normal); f0 moved by
    `shift` standard deviations."""
    frame = demo_features(len(NUMERIC), len(ids), np.random.default_rng(seed))
    frame["f0"] += shift
    return [
        orjson.dumps({"id": i, **row}) for i, row in zip(ids, frame.to_dict("records"), strict=True)
    ]


def _publish(store: ModelStore, tmp_path, seed: int) -> str:
    """A demo binary model published with a baseline of 20,000 standard-normal rows."""
    path = save_model(train_demo_model("binary", len(NUMERIC), seed), tmp_path / f"m{seed}.joblib")
    rows = demo_features(len(NUMERIC), 20_000, np.random.default_rng(100 + seed))
    return publish_sklearn(store, path, NUMERIC, baseline=rows).version


class _ReloadAt(BatchHooks):
    """Publishes a second version when batch `at` starts: it serves from that batch on."""

    def __init__(self, at: int, publish) -> None:
        self.at, self.publish = at, publish

    def batch_started(self, batch_id: int) -> None:
        if batch_id == self.at:
            self.publish()


def _history(path) -> list[dict]:
    """The history's rows by batch id (its files; `baselines/` beside them is not a row)."""
    rows = [row for file in path.glob("batch-*.parquet") for row in pq.read_table(file).to_pylist()]
    assert all(pq.read_schema(file) == SCHEMA for file in path.glob("batch-*.parquet"))
    maps = [f.name for f in SCHEMA if pa.types.is_map(f.type)]
    rows = [{**row, **{name: dict(row[name]) for name in maps}} for row in rows]  # pairs read
    return sorted(rows, key=lambda row: row["batch_id"])


def test_drift_is_measured_warned_and_kept_one_row_per_batch(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    store = ModelStore(tmp_path / "models")
    assert _publish(store, tmp_path, seed=0) == "v0001"
    history_dir = tmp_path / "checkpoint" / "history"
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=40)
    History(str(history_dir), 86_400).write({**_empty_row(-1), "time": old})
    os.utime(history_dir / file_name(-1, "v0000"), (old.timestamp(), old.timestamp()))
    options = {"maxOffsetsPerTrigger": str(PER_BATCH)}
    config = scorer_config(tmp_path, bootstrap, topic, monitoring={"window": WINDOW})
    config.source.options.update(options)
    records = PER_BATCH * BATCHES

    produce_exact(bootstrap, topic, {0: _values(range(records), seed=1)})
    assert Scorer(config, spark=spark, once=True).run() == 0

    first = _history(history_dir)
    assert [row["batch_id"] for row in first] == list(range(BATCHES))  # the old row is swept
    for row in first:
        assert row["model_version"] == "v0001" and row["scored"] == PER_BATCH
        assert set(row["feature_psi"]) == set(NUMERIC)
        assert max(row["feature_psi"].values()) < 0.1, row["feature_psi"]
        assert row["prediction_psi"] < 0.1
        assert sum(row["feature_counts"]["f0"]) == PER_BATCH  # per bin
        assert row["feature_null_rate"]["f0"] == 0.0
    assert (history_dir / "baselines" / "v0001.json").is_file()

    produce_exact(bootstrap, topic, {0: _values(range(records, 2 * records), seed=2, shift=2.0)})
    reload_at = BATCHES + 3
    hooks = _ReloadAt(reload_at, lambda: _publish(store, tmp_path, seed=1))
    monitoring = logging.getLogger("stream_scorer.monitoring")
    seen: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = seen.append  # type: ignore[method-assign]
    monitoring.addHandler(handler)
    try:
        assert Scorer(config, spark=spark, once=True, hooks=hooks).run() == 0
    finally:
        monitoring.removeHandler(handler)

    rows = _history(history_dir)
    assert [row["batch_id"] for row in rows] == list(range(2 * BATCHES))
    assert sorted(p.name for p in history_dir.glob("batch-*")) == [
        file_name(row["batch_id"], row["model_version"]) for row in rows
    ]  # one file per batch, across the restart and the reload
    assert [row["model_version"] for row in rows] == ["v0001"] * reload_at + ["v0002"] * (
        2 * BATCHES - reload_at
    )
    assert [row["reloads"] for row in rows[BATCHES:]] == [0, 0, 0, 1, 0, 0]
    for row in rows[BATCHES:]:  # every window of the shifted records, either version
        assert row["feature_psi"]["f0"] > 0.2, row["feature_psi"]
        assert max(row["feature_psi"][f] for f in ("f1", "f2", "f3")) < 0.1
        assert row["feature_out_of_range_rate"]["f0"] > 0.0
    warnings = [r.getMessage() for r in seen if r.levelno == logging.WARNING]
    about_f0 = [w for w in warnings if "feature 'f0' PSI" in w]
    assert about_f0 and all("above monitoring.psi_warn 0.2" in w for w in about_f0)
    assert not [w for w in warnings if "feature 'f1'" in w or "feature 'f2'" in w]
    assert (history_dir / "baselines" / "v0002.json").is_file()


def _empty_row(batch_id: int) -> dict:
    return {
        "batch_id": batch_id, "rows": 0, "scored": 0, "dead_letters": 0,
        "dead_letter_reasons": {}, "model_version": "v0000", "reloads": 0, "refusals": 0,
        "fallbacks": 0, "duration_ms": 0.0, "records_per_second": 0.0, "lag": None,
        "prediction_psi": None, "feature_psi": {}, "feature_null_rate": {},
        "feature_out_of_range_rate": {}, "feature_counts": {},
    }  # fmt: skip
