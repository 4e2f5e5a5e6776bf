"""Idle Kafka consumers kept per Python worker, so a range read skips connect and warm-up.

Spark reuses a Python worker across tasks (`spark.python.worker.reuse`), as its own Kafka
connector reuses an executor's consumers (`spark.kafka.consumer.cache.*`). A consumer is
pooled under a key: the client and its exact `kafka.*` options, so different brokers or
credentials never share one. The pool only holds consumers a read ended cleanly with and
left unassigned; checked-out consumers belong to their read alone.
"""

import atexit
import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

CAPACITY = 4
"""Idle consumers kept per worker: a task reads one range at a time, the scoring pass and
the source's read may overlap in one process; more would only hold sockets open."""

IDLE_TIMEOUT_S = 300.0
"""Idle consumers older than this are closed (as `spark.kafka.consumer.cache.timeout`)."""


def pool_key(client: str, kafka_options: Mapping[str, str]) -> tuple[str, tuple]:
    """Return the key of consumers of `client` built from `kafka_options` (the `kafka.*`)."""
    return client, tuple(sorted(kafka_options.items()))


@dataclass
class _Idle:
    key: Hashable
    consumer: Any
    since: float


class ConsumerPool:
    """At most `capacity` idle consumers, by key, least recently returned closed first.

    Thread-safe. Consumers idle longer than `idle_timeout_s` are closed whenever the pool
    is next used; closing never raises (a failure is logged). `capacity=0` pools nothing:
    every returned consumer is closed.
    """

    def __init__(
        self,
        capacity: int = CAPACITY,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.idle_timeout_s = idle_timeout_s
        self._clock = clock
        self._idle: list[_Idle] = []  # least recently returned first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._idle)

    def take(self, key: Hashable) -> Any | None:
        """Remove and return the most recently returned idle consumer of `key`, or None."""
        with self._lock:
            expired = self._expire()
            consumer = None
            for at in range(len(self._idle) - 1, -1, -1):
                if self._idle[at].key == key:
                    consumer = self._idle.pop(at).consumer
                    break
        close_all(expired)
        return consumer

    def give(self, key: Hashable, consumer: Any) -> None:
        """Keep `consumer` (ended cleanly and unassigned) idle under `key`; close the least
        recently returned consumers past the capacity, and expired ones."""
        with self._lock:
            expired = self._expire()
            self._idle.append(_Idle(key, consumer, self._clock()))
            excess = max(0, len(self._idle) - self.capacity)
            evicted = [idle.consumer for idle in self._idle[:excess]]
            del self._idle[:excess]
        close_all(expired + evicted)

    def clear(self) -> None:
        """Close every idle consumer."""
        with self._lock:
            idle, self._idle = self._idle, []
        close_all([i.consumer for i in idle])

    def _expire(self) -> list[Any]:
        """Drop the consumers idle past the timeout (under the lock); return them to close."""
        oldest_kept = self._clock() - self.idle_timeout_s
        expired = [i.consumer for i in self._idle if i.since <= oldest_kept]
        if expired:
            self._idle = [i for i in self._idle if i.since > oldest_kept]
        return expired


def close_quietly(consumer: Any) -> None:
    """Close `consumer`; a failure is logged as a warning, never raised."""
    try:
        consumer.close()
    except Exception as exc:  # a consumer that cannot close has nothing left for us
        log.warning("closing a Kafka consumer failed (ignored): %r", exc)


def close_all(consumers: list[Any]) -> None:
    """Close each of `consumers` quietly (see `close_quietly`)."""
    for consumer in consumers:
        close_quietly(consumer)


POOL = ConsumerPool()
"""This worker process's pool, used by every range reader unless given another."""
atexit.register(POOL.clear)
