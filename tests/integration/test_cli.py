"""The installed `stream-scorer` command, run as a user runs it."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from stream_scorer.devtools.broker import free_port
from tests.kafka_helpers import create_topic
from tests.scorer_helpers import NUMERIC, produce_records, publish, read_sink
from tests.scorer_process import write_config

pytestmark = pytest.mark.integration

CLI = [str(Path(sys.executable).with_name("stream-scorer"))]


def test_produce_sends_count_records_with_malformed_ratio(bootstrap):
    topic = "produce-cli"
    out = subprocess.run(
        [*CLI, "produce", "--bootstrap", bootstrap, "--topic", topic, "--count", "500",
         "--partitions", "3", "--bad-ratio", "0.1", "--no-progress"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "sent 500 records" in out.stdout
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    ends = consumer.end_offsets([TopicPartition(topic, p) for p in range(3)])
    consumer.close()
    assert sum(ends.values()) == 500


def test_produce_to_a_topic_that_exists_appends_to_it(bootstrap):
    topic = create_topic(bootstrap, 2)
    command = [*CLI, "produce", "--bootstrap", bootstrap, "--topic", topic, "--count", "40",
               "--no-progress"]  # fmt: skip
    for _ in range(2):
        out = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "sent 40 records" in out.stdout
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    ends = consumer.end_offsets([TopicPartition(topic, p) for p in range(2)])
    consumer.close()
    assert sum(ends.values()) == 80


def test_produce_to_a_port_where_nothing_listens_exits_2_in_one_line():
    servers = f"127.0.0.1:{free_port()}"
    done = subprocess.run(
        [*CLI, "produce", "--bootstrap", servers, "--count", "5", "--connect-timeout", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        f"error: no Kafka broker answered at {servers} in time to create topic features: "
        "start the broker (`stream-scorer broker`) or fix the address\n"
    )


def _run_once_config(tmp_path, bootstrap: str) -> Path:
    """A config draining a new 3-partition topic of 75 records; a model is published."""
    topic = create_topic(bootstrap, 3)
    produce_records(bootstrap, topic, range(75), 3)
    publish(tmp_path / "models", "binary", NUMERIC)
    return write_config(tmp_path, bootstrap, topic)


def _run_once(path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    return subprocess.run(
        [*CLI, "run", "--config", str(path), "--once"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def test_run_once_drains_the_topic_shows_our_lines_and_spark_writes_to_the_log_file(
    tmp_path, spark, bootstrap
):
    done = _run_once(_run_once_config(tmp_path, bootstrap))

    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(read_sink(spark, tmp_path / "predictions")["id"]) == list(range(75))
    lines = done.stderr.splitlines()
    ours = re.compile(r"^\S+ \S+ (INFO|WARNING|ERROR) stream_scorer\.")
    assert all(ours.match(line) for line in lines), done.stderr
    assert f"checkpoint {tmp_path / 'checkpoint'}" in done.stderr
    batch_lines = [i for i, line in enumerate(lines) if '"event": "batch"' in line]
    stopped = next(i for i, line in enumerate(lines) if "query stopped after" in line)
    assert batch_lines and batch_lines[-1] < stopped  # --once: the last batch's line first
    log = (tmp_path / "checkpoint" / "scorer" / "scorer.log").read_text()
    assert "log4j" in log
    assert "INFO kafka." in log
