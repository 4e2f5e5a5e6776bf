"""The model store fails while the scorer runs: the last verified model keeps scoring, the
error is logged and counted in the per-batch metrics record (`model_refusals`)."""

import json
import logging

import pytest

from stream_scorer.runtime.scorer import Scorer
from tests.kafka_helpers import create_topic
from tests.scorer_helpers import (
    NUMERIC,
    coordinates,
    produce_records,
    publish,
    read_sink,
    scorer_config,
)
from tests.scorer_process import wait_for

pytestmark = pytest.mark.integration


def _current_unreadable(store):
    (store / "CURRENT").unlink()
    (store / "CURRENT").mkdir()  # reading it fails with EISDIR, even as root
    return "cannot read: Is a directory"


def _store_renamed_away(store):
    store.rename(store.with_name("models-moved"))
    return "CURRENT is not set"


def _artefact_corrupt_mid_reload(store):
    version = publish(store, "binary", NUMERIC, seed=1)
    artefact = next((store / version).glob("model.*"))
    data = bytearray(artefact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artefact.write_bytes(bytes(data))
    return "sha256"


def batch_records(caplog) -> dict[int, dict]:
    lines = [r.getMessage() for r in caplog.records if r.name == "stream_scorer.metrics"]
    parsed = [json.loads(line) for line in lines if line.startswith("{")]
    return {r["batch_id"]: r for r in parsed if r.get("event") == "batch"}


@pytest.mark.parametrize(
    ("breakage", "refused_once"),
    [
        (_current_unreadable, False),
        (_store_renamed_away, False),
        (_artefact_corrupt_mid_reload, True),
    ],
    ids=["current-unreadable", "store-renamed-away", "artefact-corrupt"],
)
def test_store_fault_keeps_last_model_serving_and_counts_it(
    tmp_path, spark, bootstrap, caplog, breakage, refused_once
):
    caplog.set_level(logging.INFO)
    topic = create_topic(bootstrap, 2)
    store = tmp_path / "models"
    publish(store, "binary", NUMERIC)
    scorer = Scorer(scorer_config(tmp_path, bootstrap, topic), spark=spark)
    query = scorer.start()
    try:
        produce_records(bootstrap, topic, range(40), 2)
        query.processAllAvailable()
        batches_before = scorer.pipeline.stats.batches
        reason = breakage(store)
        produce_records(bootstrap, topic, range(40, 80), 2)
        query.processAllAvailable()
        last = scorer.pipeline.stats.last.batch_id
        wait_for(lambda: last in batch_records(caplog), 60, f"metrics record of batch {last}")
    finally:
        scorer.close()

    scored = read_sink(spark, tmp_path / "predictions")
    assert len(set(coordinates(scored))) == len(scored) == 80
    assert set(scored["model_version"]) == {"v0001"}
    batches_after = scorer.pipeline.stats.batches - batches_before
    expected = 1 if refused_once else batches_after
    assert scorer.registry.refusals == expected
    assert batch_records(caplog)[last]["model_refusals"] == expected
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("v0001 keeps serving" in e and reason in e for e in errors), errors
