"""A model that passes publish but fails every real batch: after `model.max_batch_attempts`
failed attempts (across restarts) the previous version rescores the batch, written once.

Each restart is a new `Scorer` on the same checkpoint (new registry, pipeline and record),
so what carries over is only what the checkpoint holds. Counted by source offsets.
"""

import json
import logging
import time

import joblib
import numpy as np
import orjson
import pytest
from kafka import KafkaConsumer
from pyspark.errors import StreamingQueryException
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from stream_scorer.devtools.demo_models import train_demo_model
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.testing.models import BatchPoisonClassifier
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import NUMERIC, encode, publish, read_sink, records, scorer_config
from tests.scorer_process import batch_files

pytestmark = pytest.mark.integration

POISON = "stream_scorer.testing.models.BatchPoisonClassifier"
"""A test model of our own: the scorer loads it only when trusted by name."""
PER_BATCH = 10
"""Records per batch, all in one partition: more than the poison model's 3 rows."""
OUTPUT_ERROR = "Failed to convert the value of the column"


def _produce(bootstrap: str, topic: str, ids: range) -> None:
    produce_exact(bootstrap, topic, spread(encode(records(ids, NUMERIC)), 1))


def _publish_poison(tmp_path) -> str:
    path = tmp_path / "poison.joblib"
    joblib.dump(BatchPoisonClassifier(train_demo_model("binary", n_features=4)), path)
    return publish_sklearn(
        ModelStore(tmp_path / "models"), path, NUMERIC, trusted_types=[POISON]
    ).version


def _batch_records(caplog) -> dict[int, dict]:
    lines = [r.getMessage() for r in caplog.records if r.name == "stream_scorer.metrics"]
    parsed = [json.loads(line) for line in lines if line.startswith("{")]
    return {r["batch_id"]: r for r in parsed if r.get("event") == "batch"}


def _kafka_sink_rows(bootstrap: str, topic: str, expected: int) -> list[tuple[str, str]]:
    """(dedup key, model_version) of every record of the sink topic, read until `expected`
    records arrived and one more poll brought nothing (or 30 s passed)."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    rows: list[tuple[str, str]] = []
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            polled = [r for batch in consumer.poll(timeout_ms=1000).values() for r in batch]
            rows += [(r.key.decode(), orjson.loads(r.value)["model_version"]) for r in polled]
            if len(rows) >= expected and not polled:
                break
    finally:
        consumer.close()
    return sorted(rows)


@pytest.fixture
def poisoned(tmp_path, spark, bootstrap):
    """v0001 scored batch 0; v0002, the poison model, is CURRENT and batch 1 is waiting.
    Sinks: Parquet and a Kafka topic (`config.sinks[1].topic`)."""
    topic = create_topic(bootstrap, 1)
    publish(tmp_path / "models", "binary", NUMERIC)
    out = create_topic(bootstrap, 1)
    config = scorer_config(
        tmp_path,
        bootstrap,
        topic,
        model={"store": str(tmp_path / "models"), "trusted_types": [POISON]},
        sinks=[
            {"kind": "parquet", "path": str(tmp_path / "predictions")},
            {"kind": "kafka", "topic": out},
        ],
    )
    _produce(bootstrap, topic, range(PER_BATCH))
    assert Scorer(config, spark=spark, once=True).run() == 0
    assert _publish_poison(tmp_path) == "v0002"
    _produce(bootstrap, topic, range(PER_BATCH, 2 * PER_BATCH))
    return config, topic


def _fail_then_fall_back(config, spark) -> None:
    attempts = config.model.max_batch_attempts
    for _ in range(attempts - 1):
        with pytest.raises(StreamingQueryException, match=OUTPUT_ERROR):
            Scorer(config, spark=spark, once=True).run()
    assert Scorer(config, spark=spark, once=True).run() == 0


def test_batch_failing_with_a_new_version_is_rescored_by_the_previous_one_once(
    tmp_path, spark, poisoned, caplog
):
    config, topic = poisoned
    caplog.set_level(logging.INFO)

    _fail_then_fall_back(config, spark)

    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert [e for e in errors if e.startswith("batch 1 failed with model v0002")] == [
        f"batch 1 failed with model v0002 (attempt {n} of 3 before falling back to v0001): "
        f"stream_scorer.errors.ScorerError: {OUTPUT_ERROR} '_p0' with type 'object' to "
        "Arrow type 'double': Could not convert 'low' with type str: tried to convert to double"
        for n in (1, 2)
    ]
    assert any(
        e.startswith(
            "model v0002 refused, v0001 serves again and rescores batch 1: batch 1 failed 3 times"
        )
        for e in errors
    ), errors
    assert _batch_records(caplog)[1]["model_fallbacks"] == 1
    assert batch_files(tmp_path / "checkpoint", "commits") == [0, 1]
    scored = read_sink(spark, tmp_path / "predictions")
    rows = sorted(zip(scored["topic"], scored["offset"], scored["model_version"], strict=True))
    assert rows == [(topic, offset, "v0001") for offset in range(2 * PER_BATCH)]
    in_kafka = _kafka_sink_rows(config.source.options["kafka.bootstrap.servers"],
                                config.sinks[1].topic, 2 * PER_BATCH)  # fmt: skip
    assert in_kafka == sorted((f"{topic}/0/{o}", "v0001") for o in range(2 * PER_BATCH))


def test_restart_after_a_fallback_keeps_the_refused_version_out(
    tmp_path, spark, bootstrap, poisoned, caplog
):
    config, topic = poisoned
    _fail_then_fall_back(config, spark)
    _produce(bootstrap, topic, range(2 * PER_BATCH, 3 * PER_BATCH))
    caplog.clear()

    assert Scorer(config, spark=spark, once=True).run() == 0

    scored = read_sink(spark, tmp_path / "predictions")
    batch_2 = scored[scored["offset"] >= 2 * PER_BATCH]
    assert sorted(batch_2["offset"]) == list(range(2 * PER_BATCH, 3 * PER_BATCH))
    assert set(batch_2["model_version"]) == {"v0001"}
    assert [m for m in caplog.messages if "failed with model" in m] == []


def test_new_version_failing_most_rows_is_refused_at_once_and_the_batch_rescored(
    tmp_path, spark, bootstrap, caplog
):
    topic = create_topic(bootstrap, 1)
    store = tmp_path / "models"
    publish(store, "binary", NUMERIC)
    config = scorer_config(tmp_path, bootstrap, topic)
    _produce(bootstrap, topic, range(PER_BATCH))
    assert Scorer(config, spark=spark, once=True).run() == 0
    # arcsin is NaN outside [-1, 1]: the canary rows are inside, most records are not
    x = np.random.default_rng(0).uniform(-1, 1, size=(200, 4))
    model = make_pipeline(FunctionTransformer(np.arcsin), LogisticRegression())
    joblib.dump(model.fit(x, x[:, 0] > 0), tmp_path / "arcsin.joblib")
    inside = [dict(zip(NUMERIC, row, strict=True)) for row in x[:3].tolist()]
    publish_sklearn(ModelStore(store), tmp_path / "arcsin.joblib", NUMERIC, inside)
    _produce(bootstrap, topic, range(PER_BATCH, 2 * PER_BATCH))
    caplog.set_level(logging.INFO)

    assert Scorer(config, spark=spark, once=True).run() == 0

    assert _batch_records(caplog)[1]["model_fallbacks"] == 1
    refusal = [m for m in caplog.messages if m.startswith("model v0002 refused")]
    assert len(refusal) == 1
    assert "failed 100% of the decoded rows of batch 1 (model.max_error_rate 50%)" in refusal[0]
    scored = read_sink(spark, tmp_path / "predictions")
    rows = sorted(zip(scored["offset"], scored["model_version"], strict=True))
    assert rows == [(offset, "v0001") for offset in range(2 * PER_BATCH)]
    assert read_sink(spark, tmp_path / "dead-letter").empty


def test_a_failing_new_version_leaves_no_record_in_the_kafka_sink(tmp_path, spark, bootstrap):
    topic, out = create_topic(bootstrap, 2), create_topic(bootstrap, 1)
    publish(tmp_path / "models", "binary", NUMERIC)
    sinks = [{"kind": "kafka", "topic": out}]
    model = {"store": str(tmp_path / "models"), "trusted_types": [POISON]}
    config = scorer_config(tmp_path, bootstrap, topic, model=model, sinks=sinks)
    values = encode(records(range(24), NUMERIC))
    produce_exact(bootstrap, topic, {0: values[:2], 1: values[2:12]})
    assert Scorer(config, spark=spark, once=True).run() == 0
    assert _publish_poison(tmp_path) == "v0002"
    # partition 0's task scores its 2 rows; partition 1's 10 rows fail the poison model
    produce_exact(bootstrap, topic, {0: values[12:14], 1: values[14:24]})

    _fail_then_fall_back(config, spark)

    in_kafka = _kafka_sink_rows(bootstrap, out, 24)
    expected = [f"{topic}/0/{o}" for o in range(4)] + [f"{topic}/1/{o}" for o in range(20)]
    assert in_kafka == sorted((key, "v0001") for key in expected)
