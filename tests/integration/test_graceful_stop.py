"""SIGTERM while a batch runs: the batch finishes and commits, the daemon exits 0.

The batch is held on a barrier (the `hold-batch` fault) until the scorer has logged the
stop request, so the signal provably arrives while the batch is in flight.
"""

import json
import signal
import socket

import pytest

from stream_scorer.cli.main import main
from tests.kafka_helpers import create_topic
from tests.scorer_helpers import (
    NUMERIC,
    coordinates,
    produce_records,
    publish,
    read_sink,
)
from tests.scorer_process import batch_files, run_once, start_daemon, wait_for, write_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STOP_TIMEOUT_S = 120


def test_sigterm_mid_batch_commits_it_and_exits_zero(tmp_path, spark, bootstrap, capsys):
    topic = create_topic(bootstrap, 2)
    produce_records(bootstrap, topic, range(40), 2)
    publish(tmp_path / "models", "binary", NUMERIC)
    config = write_config(tmp_path, bootstrap, topic)
    log, release = tmp_path / "daemon.log", tmp_path / "release"
    daemon = start_daemon(config, log, fault="hold-batch@0", release=release)

    def logged(line: bytes) -> bool:
        return line in log.read_bytes() or daemon.poll() is not None

    try:
        wait_for(lambda: logged(b"fault injected: batch 0 held"), STOP_TIMEOUT_S, "batch 0 held")
        assert daemon.poll() is None, log.read_text()[-3000:]
        assert main(["status", "--config", str(config), "--json"]) == 0
        running = json.loads(capsys.readouterr().out)["running"]
        assert (running["host"], running["pid"]) == (socket.gethostname(), daemon.pid)
        daemon.send_signal(signal.SIGTERM)
        wait_for(lambda: logged(b"stop requested"), STOP_TIMEOUT_S, "the stop request")
        assert daemon.poll() is None, log.read_text()[-3000:]
        release.touch()
        code = daemon.wait(timeout=STOP_TIMEOUT_S)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()

    text = log.read_text()
    assert code == 0, text[-3000:]
    assert (
        text.index("stop requested")
        < text.index("batch 0: 40 scored")
        < text.index("query stopped after 1 batches")
    )
    checkpoint = tmp_path / "checkpoint"
    assert batch_files(checkpoint, "offsets") == batch_files(checkpoint, "commits") == [0]
    assert run_once(config).returncode == 0
    scored = read_sink(spark, tmp_path / "predictions")
    assert coordinates(scored) == sorted({(topic, p, o) for p in range(2) for o in range(20)})
