"""kill -9 at each point of a micro-batch, restart: nothing lost, nothing written twice.

Each point runs on both write paths: Parquet sinks alone, whose files the scoring tasks
write themselves (the default, `configs/local.yaml`), and Parquet beside a Kafka sink, which
Spark's writer writes. Counted by source coordinates (topic, partition, offset). Parquet
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
    publish,
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
pytestmark = pytest.mark.integration

GOOD, PARTITIONS, PER_BATCH = 60, 2, 20  # three or four batches: the kill hits batch 1
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
    if out_topic is None:  # Parquet alone: the scoring tasks wrote every file
        assert files and task_written == files, sorted(files)
        return
    assert not task_written, sorted(task_written)  # beside Kafka: Spark's writer did
    keys = sink_keys(bootstrap, out_topic, {f"{t}/{p}/{o}" for t, p, o in good})
    assert sorted(set(keys)) == sorted(f"{t}/{p}/{o}" for t, p, o in good)
    assert len(keys) >= len(good)


def _out_topic(bootstrap: str, sinks: str) -> str | None:
    """The Kafka sink's topic, or None for Parquet sinks alone."""
    return create_topic(bootstrap, 1) if sinks == "parquet+kafka" else None


SINKS = pytest.mark.parametrize("sinks", ["parquet", "parquet+kafka"])
POINTS = [
    ("parquet-write", "parquet"),
    ("between-sinks", "parquet"),
    ("after-sinks", "parquet"),
    ("parquet-write", "parquet+kafka"),
    ("kafka-write", "parquet+kafka"),
    ("between-sinks", "parquet+kafka"),
    ("after-sinks", "parquet+kafka"),
]


@pytest.mark.parametrize(("point", "sinks"), POINTS)
def test_kill_at_point_then_restart_loses_and_duplicates_nothing(
    tmp_path, spark, bootstrap, point, sinks
):
    topic, out_topic = create_topic(bootstrap, PARTITIONS), _out_topic(bootstrap, sinks)
    produce_exact(bootstrap, topic, spread(_values(), PARTITIONS))
    publish(tmp_path / "models", "binary", NUMERIC)
    config = write_config(tmp_path, bootstrap, topic, out_topic, max_offsets=PER_BATCH)

    killed = run_once(config, fault=f"{point}@1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert batch_files(tmp_path / "checkpoint", "commits") == [0]
    restarted = run_once(config)
    assert restarted.returncode == 0, restarted.stderr[-3000:]

    _assert_every_offset_once(spark, tmp_path, bootstrap, topic, out_topic)


@SINKS
def test_kill_from_a_scoring_task_then_restart_loses_and_duplicates_nothing(
    tmp_path, spark, bootstrap, sinks
):
    """The model serving since batch 0 kills the driver from a task of batch 1: a task of
    the writing job dies, before any sink commits the batch."""
    topic, out_topic = create_topic(bootstrap, PARTITIONS), _out_topic(bootstrap, sinks)
    values = _values()
    produce_exact(bootstrap, topic, spread(values[:PER_BATCH], PARTITIONS))
    pid_file, killer = tmp_path / "driver.pid", tmp_path / "killer.joblib"
    estimator = train_demo_model("binary", n_features=len(NUMERIC))
    joblib.dump(DriverKillingClassifier(estimator, str(pid_file), str(tmp_path / "fired")), killer)
    publish_sklearn(ModelStore(tmp_path / "models"), killer, NUMERIC, trusted_types=[KILLER])
    config = write_config(
        tmp_path, bootstrap, topic, out_topic, max_offsets=PER_BATCH, trusted_types=(KILLER,)
    )
    first = run_once(config)  # no pid file yet: the model scores like its estimator
    assert first.returncode == 0, first.stderr[-3000:]
    produce_exact(bootstrap, topic, spread(values[PER_BATCH:], PARTITIONS))

    scorer = start_once(config, tmp_path / "killed.log")
    (tmp_path / "driver.tmp").write_text(str(scorer.pid))
    (tmp_path / "driver.tmp").replace(pid_file)
    assert scorer.wait(RUN_TIMEOUT_S) == -signal.SIGKILL, (tmp_path / "killed.log").read_text()
    assert batch_files(tmp_path / "checkpoint", "commits") == [0]
    restarted = run_once(config)
    assert restarted.returncode == 0, restarted.stderr[-3000:]

    _assert_every_offset_once(spark, tmp_path, bootstrap, topic, out_topic)
