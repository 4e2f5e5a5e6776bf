"""kill -9 at each point of a micro-batch, restart: nothing lost, nothing written twice.

Each point runs with Parquet sinks alone and with Parquet beside a Kafka sink; in both the
scoring tasks write the files (and send the records) themselves (the default on a local
master, `configs/local.yaml`). Counted by source coordinates (topic, partition, offset). Parquet
(predictions and dead letters) is exactly once: commit markers make a replayed batch write
nothing twice, and a batch killed before its marker is overwritten. The Kafka sink is
at-least-once with a dedup key (`<topic>/<partition>/<offset>`): a kill between its sends and
its marker re-sends the batch on replay, so the test asserts every key at least once and
exactly the expected keys.
"""

import re
import signal
from pathlib import Path

import joblib
import pytest

from stream_scorer.devtools.demo_models import train_demo_model
from stream_scorer.testing.models import DriverKillingClassifier
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import (
    NUMERIC,
    coordinates,
    encode,
    read_sink,
    records,
    scored_coordinates,
)
from tests.scorer_process import (
    RUN_TIMEOUT_S,
    batch_files,
    run_once,
    sink_keys,
    start_once,
    write_config,
)

KILLER = "stream_scorer.testing.models.DriverKillingClassifier"
"""A test model of our own: the scorer loads it only when trusted by name."""
pytestmark = [pytest.mark.integration, pytest.mark.slow]

GOOD, PARTITIONS, PER_BATCH = 120, 2, 20  # seven batches: kills hit batches 1 to 5
BAD = [b"not json", b'{"id": -1, "f0": "x"}', b"[]", b"{}"]
TASK_FILE = re.compile(r"part-\d{5}\.parquet")
"""What a scoring task names its file (`sinks.task_files`); Spark's writer adds a UUID."""


def _values() -> list[bytes]:
    values = encode(records(range(GOOD), NUMERIC))
    for i, bad in enumerate(BAD):
        values.insert(15 * i + 7, bad)
    return values


def _assert_every_offset_once(
    spark, tmp_path: Path, bootstrap: str, topic: str, out_topic: str | None
) -> None:
    by_partition = spread(_values(), PARTITIONS)
    expected = {(topic, p, o): v for p, vals in by_partition.items() for o, v in enumerate(vals)}
    good = sorted(c for c, v in expected.items() if v not in BAD)
    bad = sorted(c for c, v in expected.items() if v in BAD)
    assert scored_coordinates(spark, tmp_path) == good
    assert coordinates(read_sink(spark, tmp_path / "dead-letter")) == bad
    files = {f.name for f in (tmp_path / "predictions").glob("batch_id=*/*.parquet")}
    task_written = {name for name in files if TASK_FILE.fullmatch(name)}
    assert files and task_written == files, sorted(files)  # the scoring tasks wrote them all
    if out_topic is None:
        return
    keys = sink_keys(bootstrap, out_topic, {f"{t}/{p}/{o}" for t, p, o in good})
    assert sorted(set(keys)) == sorted(f"{t}/{p}/{o}" for t, p, o in good)
    assert len(keys) >= len(good)


def _out_topic(bootstrap: str, sinks: str) -> str | None:
    """The Kafka sink's topic, or None for Parquet sinks alone."""
    return create_topic(bootstrap, 1) if sinks == "parquet+kafka" else None


CHAINS = {
    "parquet": ["parquet-write@1", "between-sinks@2", "after-sinks@3"],
    "parquet+kafka": ["parquet-write@1", "kafka-write@2", "between-sinks@3", "after-sinks@4"],
}
"""The kills of one scorer in turn, each at a later batch: a restart first replays the batch
the last kill cut short (Parquet alone has no `kafka-write`)."""


@pytest.mark.parametrize("sinks", sorted(CHAINS))
def test_kills_at_every_point_then_a_restart_lose_and_duplicate_nothing(
    tmp_path, spark, bootstrap, sinks
):
    """Killed at each point of a batch in turn, then from a scoring task of the model serving
    since batch 0 (the writing job dies before any sink commits), then run to the end."""
    topic, out_topic = create_topic(bootstrap, PARTITIONS), _out_topic(bootstrap, sinks)
    produce_exact(bootstrap, topic, spread(_values(), PARTITIONS))
    pid_file, killer = tmp_path / "driver.pid", tmp_path / "killer.joblib"
    estimator = train_demo_model("binary", n_features=len(NUMERIC))
    joblib.dump(DriverKillingClassifier(estimator, str(pid_file), str(tmp_path / "fired")), killer)
    publish_sklearn(ModelStore(tmp_path / "models"), killer, NUMERIC, trusted_types=[KILLER])
    config = write_config(
        tmp_path, bootstrap, topic, out_topic, max_offsets=PER_BATCH, trusted_types=(KILLER,)
    )
    checkpoint = tmp_path / "checkpoint"

    for fault in CHAINS[sinks]:
        killed = run_once(config, fault=fault)
        assert killed.returncode == -signal.SIGKILL, (fault, killed.stderr[-3000:])
        assert batch_files(checkpoint, "commits") == list(range(int(fault[-1]))), fault
    committed = batch_files(checkpoint, "commits")
    scorer = start_once(config, tmp_path / "killed.log")
    (tmp_path / "driver.tmp").write_text(str(scorer.pid))
    (tmp_path / "driver.tmp").replace(pid_file)  # the model kills it from its next task
    assert scorer.wait(RUN_TIMEOUT_S) == -signal.SIGKILL, (tmp_path / "killed.log").read_text()
    assert batch_files(checkpoint, "commits") == committed
    restarted = run_once(config)
    assert restarted.returncode == 0, restarted.stderr[-3000:]

    _assert_every_offset_once(spark, tmp_path, bootstrap, topic, out_topic)
