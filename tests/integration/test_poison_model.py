"""A model that passes publish but fails every real batch: after `model.max_batch_attempts`
failed attempts (across restarts) the previous version rescores the batch, written once.

Each restart is a new `Scorer` on the same checkpoint (new registry, pipeline and record),
so what carries over is only what the checkpoint holds. Counted by source offsets.
"""

import json
import logging

import joblib
import pytest
from pyspark.errors import StreamingQueryException

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


@pytest.fixture
def poisoned(tmp_path, spark, bootstrap):
    """v0001 scored batch 0; v0002, the poison model, is CURRENT and batch 1 is waiting."""
    topic = create_topic(bootstrap, 1)
    publish(tmp_path / "models", "binary", NUMERIC)
    config = scorer_config(
        tmp_path,
        bootstrap,
        topic,
        model={"store": str(tmp_path / "models"), "trusted_types": [POISON]},
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
