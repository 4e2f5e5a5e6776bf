"""A checkpoint on a Hadoop filesystem is held by a renewed lease (here on local files)."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from stream_scorer.errors import CheckpointInUseError
from stream_scorer.files import LocalFiles
from stream_scorer.runtime.lease import LEASE_FILE, LeaseLock
from tests.scorer_process import wait_for

HEARTBEAT_S = 0.1
DEADLINE_S = 30.0


def lease_of(files: LocalFiles) -> dict:
    return json.loads(files.read(LEASE_FILE))


def write_lease(files: LocalFiles, host: str, pid: int, renewed_ago_s: float) -> None:
    record = {"host": host, "pid": pid, "started_at": 1_700_000_000.0, "token": "other",
              "renewed_at": time.time() - renewed_ago_s, "heartbeat_s": 10.0}  # fmt: skip
    files.create(LEASE_FILE, json.dumps(record), overwrite=True)


def pid_holding_after_acquire(files: LocalFiles) -> int:
    """Take the lease, return the pid its file then names, release it."""
    lock = LeaseLock("hdfs://nn/cp", files, heartbeat_s=HEARTBEAT_S).acquire()
    try:
        return lease_of(files)["pid"]
    finally:
        lock.release()


@pytest.fixture
def files(tmp_path) -> LocalFiles:
    return LocalFiles(str(tmp_path))


def test_a_live_lease_is_refused_naming_its_holder(files):
    write_lease(files, "other-host", 4242, renewed_ago_s=1)
    with pytest.raises(CheckpointInUseError) as err:
        LeaseLock("hdfs://nn/cp", files).acquire()
    assert str(err.value).startswith(
        "checkpoint hdfs://nn/cp is in use by another scorer "
        "(host other-host, pid 4242, started 2023-11-14T22:13:20+00:00)"
    )


def test_a_lease_not_renewed_for_three_heartbeats_is_taken_over(files):
    write_lease(files, "other-host", 4242, renewed_ago_s=31)
    assert pid_holding_after_acquire(files) == os.getpid()


def test_the_lease_of_a_dead_process_on_this_host_is_taken_at_once(files):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_lease(files, socket.gethostname(), gone.pid, renewed_ago_s=0)
    assert pid_holding_after_acquire(files) == os.getpid()


def test_the_holder_renews_its_lease_every_heartbeat(files):
    lock = LeaseLock("hdfs://nn/cp", files, heartbeat_s=HEARTBEAT_S).acquire()
    try:
        first = lease_of(files)["renewed_at"]
        wait_for(lambda: lease_of(files)["renewed_at"] > first, DEADLINE_S, "a renewal", 0.02)
    finally:
        lock.release()


def test_a_holder_whose_lease_was_taken_over_is_told_by_whom(files):
    lost: list[str] = []
    lock = LeaseLock("hdfs://nn/cp", files, lost.append, heartbeat_s=HEARTBEAT_S).acquire()
    try:
        write_lease(files, "other-host", 4242, renewed_ago_s=0)
        wait_for(lambda: lost, DEADLINE_S, "the holder to be told", 0.02)
    finally:
        lock.release()
    assert lost == [
        "the lease was taken over by host other-host, pid 4242, started 2023-11-14T22:13:20+00:00"
    ]
    assert lease_of(files)["token"] == "other"


def test_release_deletes_the_lease(files):
    LeaseLock("hdfs://nn/cp", files, heartbeat_s=HEARTBEAT_S).acquire().release()
    assert not files.exists(LEASE_FILE)


def test_holder_names_a_live_lease_and_not_a_stale_one(files):
    assert LeaseLock("hdfs://nn/cp", files).holder() is None
    write_lease(files, "other-host", 4242, renewed_ago_s=0)
    assert LeaseLock("hdfs://nn/cp", files).holder().describe().startswith("host other-host")
    write_lease(files, "other-host", 4242, renewed_ago_s=3600)
    assert LeaseLock("hdfs://nn/cp", files).holder() is None
