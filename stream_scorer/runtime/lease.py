"""A lease on a checkpoint kept on a Hadoop filesystem (hdfs://, s3a://...), where no OS
lock reaches every driver host.

The holder writes `<checkpoint>/scorer/lease.json` (host, pid, start time, a token, and
when it last renewed) with an exclusive create, then renews it every heartbeat from a daemon
thread. A lease not renewed for STALE_AFTER_HEARTBEATS heartbeats is stale and may be taken
over; so may at once a lease whose holder ran on this host and whose process is gone (a
restart after kill -9). The takeover deletes the old lease, creates its own, then checks
after a settling pause that no rival taker replaced it. A holder whose renewal finds another
token has lost the lease and is told so (`on_lost`). Clocks of the hosts must agree to well
within a heartbeat.
"""

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from stream_scorer.files import Files
from stream_scorer.runtime.checkpoint_lock import Holder, in_use

log = logging.getLogger(__name__)

LEASE_FILE = "scorer/lease.json"
HEARTBEAT_S = 10.0
STALE_AFTER_HEARTBEATS = 3
_READ_ATTEMPTS = 3  # a renewal overwrites in place: a reader may catch it half written


@dataclass(frozen=True)
class Lease:
    """One reading of the lease file."""

    holder: Holder
    token: str
    renewed_at: float
    heartbeat_s: float

    def stale_by(self, now: float) -> bool:
        """Return True if not renewed for STALE_AFTER_HEARTBEATS of its heartbeats."""
        return now - self.renewed_at > STALE_AFTER_HEARTBEATS * self.heartbeat_s


class LeaseLock:
    """The lease on the checkpoint at `checkpoint`, through `files` (its root directory)."""

    def __init__(
        self,
        checkpoint: str,
        files: Files,
        on_lost: Callable[[str], None] = lambda why: None,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self.checkpoint = checkpoint
        self.files = files
        self.heartbeat_s = heartbeat_s
        self._on_lost = on_lost
        self._holder = Holder.this_process()
        self._token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> "LeaseLock":
        """Take the lease (over a stale one or a dead local holder's) and start renewing it.

        Raises
        ------
        CheckpointInUseError
            Naming the holder of a live lease, or the rival that took a stale one first.
        """
        try:
            current = self._read()
        except ValueError as exc:
            raise in_use(self.checkpoint, f"{exc}; delete it if no scorer runs") from None
        if current is not None:
            why = self._takeable(current)
            if why is None:
                raise in_use(self.checkpoint, current.holder.describe())
            log.warning("taking over the lease of %s (%s)", current.holder.describe(), why)
            self.files.delete(LEASE_FILE)
        if not self.files.create(LEASE_FILE, self._record()):
            raise in_use(self.checkpoint, self._describe_holder())
        if current is not None:  # a rival taker may have deleted ours and written its own
            time.sleep(min(1.0, self.heartbeat_s / 4))
            if not self._ours(self._read()):
                raise in_use(self.checkpoint, self._describe_holder())
        self._thread = threading.Thread(target=self._renew, name="checkpoint-lease", daemon=True)
        self._thread.start()
        return self

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        if self._ours(self._read_quietly()):
            self.files.delete(LEASE_FILE)

    def holder(self) -> Holder | None:
        """The process holding a live lease now, or None (no lease, or one that may be taken
        over); never takes it."""
        current = self._read_quietly()
        return None if current is None or self._takeable(current) else current.holder

    def _takeable(self, lease: Lease) -> str | None:
        if lease.holder.is_dead_here():
            return "its process is gone"
        if lease.stale_by(time.time()):
            return f"not renewed for {STALE_AFTER_HEARTBEATS} heartbeats"
        return None

    def _renew(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                current = self._read()
                if current is not None and current.token != self._token:
                    self._on_lost(f"the lease was taken over by {current.holder.describe()}")
                    return
                self.files.create(LEASE_FILE, self._record(), overwrite=True)
            except Exception as exc:  # the filesystem may come back before the lease is stale
                log.warning("could not renew the lease on %s: %s", self.checkpoint, exc)

    def _record(self) -> str:
        record = {
            **self._holder.to_dict(),
            "token": self._token,
            "renewed_at": time.time(),
            "heartbeat_s": self.heartbeat_s,
        }
        return json.dumps(record)

    def _ours(self, lease: Lease | None) -> bool:
        return lease is not None and lease.token == self._token

    def _describe_holder(self) -> str:
        lease = self._read_quietly()
        return lease.holder.describe() if lease else "a scorer that has just taken it"

    def _read_quietly(self) -> Lease | None:
        try:
            return self._read()
        except ValueError:
            return None

    def _read(self) -> Lease | None:
        """Return the lease, None if there is none; ValueError if it stays unreadable."""
        for attempt in range(_READ_ATTEMPTS):
            if not self.files.exists(LEASE_FILE):
                return None
            try:
                data = json.loads(self.files.read(LEASE_FILE))
                return Lease(
                    Holder.from_dict(data),
                    str(data["token"]),
                    float(data["renewed_at"]),
                    float(data["heartbeat_s"]),
                )
            except (OSError, ValueError, KeyError, TypeError):
                if attempt + 1 < _READ_ATTEMPTS:
                    time.sleep(0.2)
        msg = f"lease {LEASE_FILE} of checkpoint {self.checkpoint} is unreadable"
        raise ValueError(msg)
