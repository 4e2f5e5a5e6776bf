"""A new version whose model kills its Python worker (SIGSEGV) fails the batch as a model
would: after `model.max_batch_attempts` the previous version rescores it, written once."""

import joblib
import pytest
from pyspark.errors import StreamingQueryException

from stream_scorer.devtools.demo_models import train_demo_model
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.testing.models import WorkerCrashingClassifier
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import (
    NUMERIC,
    encode,
    produce_records,
    publish,
    read_sink,
    records,
    scorer_config,
)
from tests.scorer_process import batch_files

pytestmark = pytest.mark.integration

CRASHING = "stream_scorer.testing.models.WorkerCrashingClassifier"
PER_BATCH = 10


def test_worker_killed_by_a_new_version_counts_as_its_failure_and_falls_back(
    tmp_path, spark, bootstrap
):
    topic = create_topic(bootstrap, 1)
    store = tmp_path / "models"
    publish(store, "binary", NUMERIC)
    config = scorer_config(
        tmp_path, bootstrap, topic, model={"store": str(store), "trusted_types": [CRASHING]}
    )
    produce_records(bootstrap, topic, range(PER_BATCH), 1)
    assert Scorer(config, spark=spark, once=True).run() == 0
    path = tmp_path / "crash.joblib"
    joblib.dump(WorkerCrashingClassifier(train_demo_model("binary", n_features=4)), path)
    publish_sklearn(ModelStore(store), path, NUMERIC, trusted_types=[CRASHING])
    later = range(PER_BATCH, 2 * PER_BATCH)
    produce_exact(bootstrap, topic, spread(encode(records(later, NUMERIC)), 1))

    for _ in range(config.model.max_batch_attempts - 1):
        with pytest.raises(StreamingQueryException, match="Python worker exited unexpectedly"):
            Scorer(config, spark=spark, once=True).run()
    assert Scorer(config, spark=spark, once=True).run() == 0

    assert batch_files(tmp_path / "checkpoint", "commits") == [0, 1]
    scored = read_sink(spark, tmp_path / "predictions")
    rows = sorted(zip(scored["offset"], scored["model_version"], strict=True))
    assert rows == [(offset, "v0001") for offset in range(2 * PER_BATCH)]
