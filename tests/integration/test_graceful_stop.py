"""SIGTERM while a batch runs: the batch finishes and commits, the daemon exits 0."""

import signal

import pytest

from tests.kafka_helpers import create_topic
from tests.scorer_helpers import (
    NUMERIC,
    coordinates,
    produce_records,
    publish,
    read_sink,
)
from tests.scorer_process import batch_files, run_once, start_daemon, wait_for, write_config

pytestmark = pytest.mark.integration

STOP_TIMEOUT_S = 120


def test_sigterm_mid_batch_commits_it_and_exits_zero(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 2)
    produce_records(bootstrap, topic, range(40), 2)
    publish(tmp_path / "models", "binary", NUMERIC)
    config = write_config(tmp_path, bootstrap, topic)
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, log, fault="slow-batch:3")
    try:
        wait_for(
            lambda: (
                b"fault injected: batch 0 sleeps" in log.read_bytes() or daemon.poll() is not None
            ),
            STOP_TIMEOUT_S,
            "batch 0 to start",
        )
        assert daemon.poll() is None, log.read_text()[-3000:]
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=STOP_TIMEOUT_S)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()

    assert code == 0, log.read_text()[-3000:]
    checkpoint = tmp_path / "checkpoint"
    assert batch_files(checkpoint, "offsets") == batch_files(checkpoint, "commits") == [0]
    assert run_once(config).returncode == 0
    scored = read_sink(spark, tmp_path / "predictions")
    assert coordinates(scored) == sorted({(topic, p, o) for p in range(2) for o in range(20)})
