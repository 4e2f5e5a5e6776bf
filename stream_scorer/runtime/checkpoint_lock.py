"""One scorer per checkpoint: a lock taken before the query starts, named when refused.

Two scorers on one checkpoint both plan batch 0 and both write it: rows twice, made final
by the commit marker; or one dies later of Spark's `CONCURRENT_STREAM_LOG_UPDATE`. The
lock refuses the second at start instead, naming the holder (host, pid, start time). A local
checkpoint is locked with the OS (`flock`), which the kernel releases when the holder ends,
however it ends; a checkpoint on a Hadoop filesystem is held by a lease (see `lease`).
"""

import fcntl
import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Protocol

from stream_scorer.errors import CheckpointInUseError
from stream_scorer.files import LocalFiles

LOCK_FILE = "scorer/lock"
HOLDER_WAIT_S = 2.0
"""How long a refused scorer waits for the lock's holder to record itself."""
"""The file a local checkpoint's holder locks; it holds the holder's description."""


class CheckpointLock(Protocol):
    """An exclusive hold on one checkpoint."""

    def acquire(self) -> "CheckpointLock":
        """Take the hold and return self; `CheckpointInUseError` naming the holder if taken."""

    def release(self) -> None:
        """Give the hold up (nothing if not held)."""


@dataclass(frozen=True)
class Holder:
    """The process that holds a checkpoint."""

    host: str
    pid: int
    started_at: float
    """When it took the checkpoint, in seconds since the epoch."""

    @classmethod
    def this_process(cls) -> "Holder":
        """Return this process, starting now."""
        return cls(socket.gethostname(), os.getpid(), time.time())

    @classmethod
    def from_dict(cls, data: dict) -> "Holder":
        """Return the holder recorded in `data` (KeyError, TypeError if it is not one)."""
        return cls(str(data["host"]), int(data["pid"]), float(data["started_at"]))

    def to_dict(self) -> dict:
        """Return the holder as a JSON-ready dict."""
        return asdict(self)

    def describe(self) -> str:
        """Return "host H, pid P, started 2026-01-01T00:00:00+00:00", for messages."""
        started = datetime.fromtimestamp(self.started_at, timezone.utc).isoformat(
            timespec="seconds"
        )
        return f"host {self.host}, pid {self.pid}, started {started}"

    def is_dead_here(self) -> bool:
        """Return True if the holder ran on this host and its process is gone."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, run by another user
            return False
        return False


def in_use(checkpoint: str, holder: str) -> CheckpointInUseError:
    """Return the error refusing a second scorer on `checkpoint`, held by `holder`."""
    msg = (
        f"checkpoint {checkpoint} is in use by another scorer ({holder}); a second one on it "
        "would write its batches twice. Stop that scorer first, or give this one its own "
        "`checkpoint`."
    )
    return CheckpointInUseError(msg)


class FileLock:
    """An OS lock (`flock`) on `<checkpoint>/scorer/lock`, for a local checkpoint.

    Held by the open file of this process, never inherited by the processes it starts; the
    kernel releases it when the process ends, even by kill -9, so a restart takes it at once.
    """

    def __init__(self, checkpoint: str) -> None:
        self.checkpoint = checkpoint
        self.path = LocalFiles(checkpoint).root / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> "FileLock":
        """Lock the checkpoint and record this process as its holder.

        Raises
        ------
        CheckpointInUseError
            Naming the holder, if another process (or another scorer here) holds it.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise in_use(self.checkpoint, self._holder()) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(Holder.this_process().to_dict()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Unlock (the file stays: deleting a lock file races with the next locker)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def holder(self) -> Holder | None:
        """The process holding the checkpoint now, or None if none does (never locks it)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # held: its holder recorded itself just after locking
            try:
                return Holder.from_dict(json.loads(self.path.read_text()))
            except (OSError, ValueError, KeyError, TypeError):
                return Holder("unknown", 0, 0.0)
        finally:
            os.close(fd)
        return None

    def _holder(self, wait_s: float = HOLDER_WAIT_S) -> str:
        """The holder's description; the holder writes it just after it locks, so a scorer
        that lost a race for the lock reads again for up to `wait_s`."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                return Holder.from_dict(json.loads(self.path.read_text())).describe()
            except (OSError, ValueError, KeyError, TypeError):  # written right now
                if time.monotonic() >= deadline:
                    return f"holder not recorded yet in {self.path}"
                time.sleep(0.02)
