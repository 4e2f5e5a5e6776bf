"""A local checkpoint is held by one process at a time, through an OS lock."""

import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

from stream_scorer.errors import CheckpointInUseError
from stream_scorer.runtime.checkpoint_lock import FileLock

HOLD = """
import sys, time
from stream_scorer.runtime.checkpoint_lock import FileLock
FileLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_held_checkpoint_is_refused_naming_host_pid_and_start(tmp_path):
    held = FileLock(str(tmp_path)).acquire()
    try:
        with pytest.raises(CheckpointInUseError) as err:
            FileLock(str(tmp_path)).acquire()
    finally:
        held.release()
    message = str(err.value)
    assert message.startswith(f"checkpoint {tmp_path} is in use by another scorer (host ")
    assert f"host {socket.gethostname()}, pid {os.getpid()}, started 20" in message


def test_a_scorer_refused_before_the_holder_recorded_itself_still_names_it(tmp_path):
    """Two scorers started together: the loser reads the lock file between the winner's
    lock and its record, and waits for the record."""
    held = FileLock(str(tmp_path)).acquire()
    record = held.path.read_bytes()
    held.path.write_bytes(b"")  # as just after the winner's flock
    writer = threading.Timer(0.2, held.path.write_bytes, (record,))
    writer.start()
    try:
        with pytest.raises(CheckpointInUseError) as err:
            FileLock(str(tmp_path)).acquire()
    finally:
        writer.join()
        held.release()
    assert f"pid {os.getpid()}, started 20" in str(err.value)


def test_a_released_checkpoint_is_taken_again(tmp_path):
    FileLock(str(tmp_path)).acquire().release()
    FileLock(str(tmp_path)).acquire().release()


def test_the_checkpoint_of_a_killed_process_is_taken_at_once(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(CheckpointInUseError, match=f"pid {holder.pid}, started"):
        FileLock(str(tmp_path)).acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    FileLock(str(tmp_path)).acquire().release()


def test_holder_names_the_process_holding_the_checkpoint_and_none_once_released(tmp_path):
    assert FileLock(str(tmp_path)).holder() is None  # never locked
    held = FileLock(str(tmp_path)).acquire()
    try:
        holder = FileLock(str(tmp_path)).holder()
    finally:
        held.release()
    assert (holder.host, holder.pid) == (socket.gethostname(), os.getpid())
    assert FileLock(str(tmp_path)).holder() is None
    FileLock(str(tmp_path)).acquire().release()  # asking took nothing
