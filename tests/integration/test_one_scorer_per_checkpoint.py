"""Two `run` processes on one checkpoint: the second is refused at start, naming the holder.

Without the refusal both plan batch 0 and write it, rows twice, or one dies later of Spark's
CONCURRENT_STREAM_LOG_UPDATE. Counted by source coordinates (topic, partition, offset).
"""

import json
import os
import signal
import socket
import subprocess
import time

import pytest
import yaml

from stream_scorer.files import HadoopFiles
from stream_scorer.runtime.lease import HEARTBEAT_S, LEASE_FILE
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import (
    NUMERIC,
    encode,
    publish,
    records,
    scored_coordinates,
)
from tests.scorer_process import (
    CLI,
    RUN_TIMEOUT_S,
    batch_files,
    run_once,
    scorer_env,
    start_daemon,
    wait_for,
    write_config,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PARTITIONS, RECORDS = 2, 700


def load(tmp_path, bootstrap) -> tuple:
    """A topic with RECORDS records, a model and a config; return config and coordinates."""
    topic = create_topic(bootstrap, PARTITIONS)
    by_partition = spread(encode(records(range(RECORDS), NUMERIC)), PARTITIONS)
    produce_exact(bootstrap, topic, by_partition)
    publish(tmp_path / "models", "binary", NUMERIC)
    config = write_config(tmp_path, bootstrap, topic, max_offsets=100)
    expected = sorted((topic, p, o) for p, vals in by_partition.items() for o in range(len(vals)))
    return config, expected


def holder_named(stderr: str, pid: int) -> bool:
    return f"is in use by another scorer (host {socket.gethostname()}, pid {pid}, started" in stderr


def test_second_run_on_a_checkpoint_in_use_exits_2_naming_the_holder(tmp_path, bootstrap):
    config, _ = load(tmp_path, bootstrap)
    daemon = start_daemon(config, tmp_path / "daemon.log")
    try:
        wait_for(lambda: batch_files(tmp_path / "checkpoint", "commits"), 180, "a first commit")
        second = run_once(config)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(RUN_TIMEOUT_S)

    assert second.returncode == 2
    errors = [line for line in second.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: checkpoint {tmp_path / 'checkpoint'} is in use")
    assert holder_named(errors[0], daemon.pid)
    assert "Spark session ready" not in second.stderr  # refused before its session started


def test_two_runs_started_together_score_every_offset_exactly_once(tmp_path, spark, bootstrap):
    config, expected = load(tmp_path, bootstrap)
    command = [CLI, "run", "--config", str(config), "--once"]
    runs = [
        subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=scorer_env())
        for _ in range(2)
    ]
    outcomes = [
        (run.pid, run.communicate(timeout=RUN_TIMEOUT_S)[1], run.returncode) for run in runs
    ]

    assert sorted(code for _, _, code in outcomes) == [0, 2]
    (winner, _, _), (_, refused, _) = sorted(outcomes, key=lambda outcome: outcome[2])
    assert holder_named(refused, winner)
    assert scored_coordinates(spark, tmp_path) == expected


def test_kill_9_then_an_immediate_restart_scores_every_offset_exactly_once(
    tmp_path, spark, bootstrap
):
    config, expected = load(tmp_path, bootstrap)
    daemon = start_daemon(config, tmp_path / "daemon.log")
    try:
        wait_for(lambda: batch_files(tmp_path / "checkpoint", "commits"), 180, "a first commit")
    finally:
        os.kill(daemon.pid, signal.SIGKILL)
        daemon.wait()

    restarted = run_once(config)

    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert scored_coordinates(spark, tmp_path) == expected


def test_a_scorer_whose_lease_is_taken_over_stops_at_once_and_exits_2(tmp_path, spark, bootstrap):
    """A `file:` checkpoint held by a lease (`checkpoint_lock: lease`), through Hadoop's
    filesystem as on hdfs:// or s3a://; another host takes the lease over mid-stream."""
    config, _ = load(tmp_path, bootstrap)
    url = (tmp_path / "checkpoint").as_uri()
    leased = {**yaml.safe_load(config.read_text()), "checkpoint": url, "checkpoint_lock": "lease"}
    config.write_text(yaml.safe_dump(leased))
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, log)
    try:
        wait_for(lambda: batch_files(tmp_path / "checkpoint", "commits"), 180, "a first commit")
        rival = {"host": "other-host", "pid": 4242, "started_at": 1_700_000_000.0}
        rival |= {"token": "rival", "renewed_at": time.time(), "heartbeat_s": HEARTBEAT_S}
        HadoopFiles(spark, url).create(LEASE_FILE, json.dumps(rival), overwrite=True)
        code = daemon.wait(timeout=3 * HEARTBEAT_S + 30)  # found at its next renewal
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()

    text = log.read_text()
    assert code == 2, text[-3000:]
    errors = [line for line in text.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: checkpoint {url} is in use by another scorer (the lease was taken over by host "
        "other-host, pid 4242, started 2023-11-14T22:13:20+00:00); a second one on it would "
        "write its batches twice. Stop that scorer first, or give this one its own `checkpoint`."
    ], text[-3000:]
    assert "Traceback" not in text
