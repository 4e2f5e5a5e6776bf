"""The scoring stage on a real SparkSession: a static Kafka-schema frame scored end to end."""

import io
import os
import random
import uuid
from collections import Counter
from datetime import datetime

import joblib
import numpy as np
import orjson
import pandas as pd
import pytest

from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.devtools.demo_models import demo_texts, train_demo_model
from stream_scorer.devtools.synthetic import values
from stream_scorer.distribution.broadcast import BroadcastArtefact
from stream_scorer.flavors.sklearn.describe import describe
from stream_scorer.kafka.schema import kafka_schema
from stream_scorer.monitoring.baseline import PREDICTION, build
from stream_scorer.monitoring.counts import DRIFT, BatchCounts, merge
from stream_scorer.scoring.stage import dead_letters, predictions, score
from stream_scorer.serving.model import ServingModel
from stream_scorer.testing.models import LoadRecordingClassifier

RECORDING = "stream_scorer.testing.models.LoadRecordingClassifier"
"""A test model of our own, trusted by name (outside the unpickling allowlist)."""
pytestmark = pytest.mark.integration

SCHEMA = {f"f{i}": "double" for i in range(4)}
FEATURES = FeaturesConfig(schema=SCHEMA, passthrough={"id": "long"})
ROWS = 300
TOMBSTONE_OFFSET = 299


def _serving(spark, model: object, feature_types: dict[str, str]) -> ServingModel:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    payload = buffer.getvalue()
    manifest = describe(model, payload, "joblib", feature_types)
    version = f"v-{uuid.uuid4().hex[:8]}"
    artefact = BroadcastArtefact(spark.sparkContext.broadcast(payload))
    return ServingModel(version, manifest, artefact, (RECORDING,))


def _kafka_frame(spark, encoded: list[bytes | None], partitions: int):
    when = datetime(2024, 5, 1, 12, 0, 0)
    rows = [(None, v, "features", 0, i, when, 0) for i, v in enumerate(encoded)]
    return spark.createDataFrame(spark.sparkContext.parallelize(rows, partitions), kafka_schema())


@pytest.fixture(scope="module")
def model():
    return train_demo_model("binary", 4)


@pytest.fixture(scope="module")
def batch():
    """300 values: synthetic records (about 10% malformed) and a tombstone at the end."""
    generated = list(values(ROWS - 1, SCHEMA, bad_ratio=0.1, seed=5))
    encoded = [value for value, _ in generated] + [None]
    good = [ok for _, ok in generated] + [False]
    return encoded, good


@pytest.fixture(scope="module")
def scored(spark, model, batch, tmp_path_factory):
    """(serving, model loads by worker pid, scored pandas frame, predictions, dead letters)."""
    encoded, _ = batch
    record = tmp_path_factory.mktemp("loads") / "pids"
    serving = _serving(spark, LoadRecordingClassifier(model, str(record)), SCHEMA)
    frame = score(_kafka_frame(spark, encoded, 6), serving, FEATURES)
    frame = frame.persist()
    try:
        outputs = frame.toPandas(), predictions(frame).toPandas(), dead_letters(frame).toPandas()
        result = (serving, Counter(record.read_text().split()), *outputs)
    finally:
        frame.unpersist()
    return result


def test_predictions_equal_model_predict_row_by_row(scored, model, batch) -> None:
    encoded, good = batch
    rows = scored[3].sort_values("offset")
    good_values = [orjson.loads(v) for v, ok in zip(encoded, good, strict=True) if ok]
    inputs = pd.DataFrame(good_values)[list(SCHEMA)]
    assert rows["offset"].tolist() == [i for i, ok in enumerate(good) if ok]
    assert rows["prediction"].tolist() == model.predict(inputs).tolist()
    np.testing.assert_allclose(rows["probability"], model.predict_proba(inputs)[:, 1])
    assert rows["id"].tolist() == [v["id"] for v in good_values]


def test_predictions_have_the_documented_columns(scored) -> None:
    assert list(scored[3].columns) == [
        "topic",
        "partition",
        "offset",
        "timestamp",
        "id",
        "prediction",
        "probability",
        "probabilities",
        "model_version",
        "scored_at",
    ]


def test_dead_letters_hold_raw_value_and_reason(scored, batch) -> None:
    encoded, good = batch
    dead = scored[4].sort_values("offset")
    bad_offsets = [i for i, ok in enumerate(good) if not ok]
    assert dead["offset"].tolist() == bad_offsets
    assert [None if v is None else bytes(v) for v in dead["value"]] == [
        encoded[i] for i in bad_offsets
    ]
    reasons = dict(zip(dead["offset"], dead["error"], strict=True))
    assert reasons[TOMBSTONE_OFFSET] == "value is null (tombstone)"
    assert all(reasons.values())


def test_dead_letter_reasons_name_the_fault(scored, batch) -> None:
    encoded, _ = batch
    dead = scored[4]
    for offset, error in zip(dead["offset"], dead["error"], strict=True):
        value = encoded[offset]
        if value == b"":
            assert error == "value is empty"
        elif value is not None and value.startswith(b"["):
            assert error == "JSON value is a list, expected an object"
        elif value is not None and b"not-a-number" in value:
            assert error == "field 'f0': expected double, got string \"not-a-number\""
        elif value is not None and b'"f0"' not in value and value.endswith(b"}"):
            assert error == "missing field 'f0'"


def test_counts_add_up(scored, batch) -> None:
    _, good = batch
    assert len(scored[3]) == sum(good) == 267
    assert len(scored[4]) == ROWS - sum(good) == 33
    assert len(scored[2]) == ROWS


def test_every_row_has_the_serving_version(scored) -> None:
    serving, _, frame, _, _ = scored
    assert set(frame["model_version"]) == {serving.version}
    assert frame["scored_at"].notna().all()


def test_model_is_deserialised_at_most_once_per_worker(scored) -> None:
    loads = scored[1]
    assert loads
    assert set(loads.values()) == {1}


def test_scoring_udf_appears_once_under_both_outputs(spark, model, batch) -> None:
    serving = _serving(spark, model, SCHEMA)
    frame = score(_kafka_frame(spark, batch[0], 2), serving, FEATURES)
    for derived in (predictions(frame), dead_letters(frame)):
        plan = derived._jdf.queryExecution().executedPlan().toString()
        assert plan.count("ArrowEvalPython") == 1
        assert plan.index("Filter") < plan.index("ArrowEvalPython")  # filter stays above


def test_text_pipeline_scores_strings(spark) -> None:
    model = train_demo_model("text")
    serving = _serving(spark, model, {"text": "string"})
    texts, _ = demo_texts(40, np.random.default_rng(11))
    rng = random.Random(2)
    encoded = [orjson.dumps({"text": t, "id": rng.randint(0, 9)}) for t in texts]
    features = FeaturesConfig(schema={"text": "string"})
    frame = score(_kafka_frame(spark, encoded, 2), serving, features).toPandas()
    frame = frame.sort_values("offset")
    assert frame["error"].isna().all()
    assert frame["prediction"].tolist() == model.predict(pd.Series(texts)).tolist()


def test_local_session_forks_workers_from_the_preloading_daemon(spark):
    from stream_scorer.runtime import worker_daemon
    from stream_scorer.runtime.session import BOOT_DIR

    assert spark.conf.get("spark.python.daemon.module") == worker_daemon.MODULE
    assert spark.conf.get("spark.executorEnv.PYTHONPATH").split(os.pathsep)[0] == BOOT_DIR
    assert spark.conf.get("spark.python.unix.domain.socket.enabled") == "true"


def test_task_workers_leave_the_preloaded_objects_out_of_garbage_collection(spark):
    def frozen(batches):
        import gc

        for _ in batches:
            yield pd.DataFrame({"frozen": [gc.get_freeze_count()]})

    counts = spark.range(0, 2, 1, 2).mapInPandas(frozen, "frozen long").collect()
    assert min(row.frozen for row in counts) > 100_000


def test_warm_workers_finishes_its_no_op_job_in_the_background(spark):
    from stream_scorer.runtime.warm_workers import warm_workers

    thread = warm_workers(spark)
    thread.join(60)
    assert not thread.is_alive()


def test_the_udf_path_carries_each_arrow_batch_s_drift_counts(spark, model, batch):
    """With monitoring counts, each Arrow batch's first row carries its measures: summed,
    they cover every decoded row and every dead letter; predictions never show them."""
    encoded, good = batch
    rows = pd.DataFrame(np.random.default_rng(0).uniform(-3, 3, (2000, 4)), columns=list(SCHEMA))
    baseline = build(rows, SCHEMA, "publish", np.random.default_rng(1).uniform(0, 1, 2000))
    serving = _serving(spark, model, SCHEMA)
    frame = score(_kafka_frame(spark, encoded, 6), serving, FEATURES, counts=BatchCounts(baseline))
    scored = frame.toPandas()
    merged = merge([p for p in scored[DRIFT] if p is not None], baseline)
    assert scored[DRIFT].notna().sum() >= 6  # one per Arrow batch, at least one per partition
    assert sum(merged.counts["f0"][:-1]) == sum(good)  # bins and nulls: the decoded rows
    assert sum(merged.counts[PREDICTION][:-2]) == sum(good)
    assert sum(merged.reasons.values()) == len(encoded) - sum(good)
    assert DRIFT not in predictions(frame).columns
