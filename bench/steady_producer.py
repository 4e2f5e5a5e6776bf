"""A producer process writing feature records at a steady rate, with per-record ack times.

confluent-kafka (librdkafka) in its own process: kafka-python in the scorer's process would
compete with the Spark driver for the GIL and, at 10k records/s, for most of a core. Records
go round-robin to partitions; `linger.ms` 5. On stop the producer flushes, then sends one
record per partition alone, so the embedded broker's "latest offset" (base offset of the
last record batch + 1) covers every record and the scorer can read them all.
"""

import multiprocessing
import queue
import random
import time
from dataclasses import dataclass, field
from functools import partial

import orjson

from stream_scorer.errors import ScorerError

LINGER_MS = 5
_POOL = 1024
"""Distinct feature rows the producer cycles through (ids stay unique)."""


@dataclass
class Produced:
    """What the producer sent: per partition, each offset's ack time, and the achieved rate."""

    acked: dict[int, dict[int, float]] = field(default_factory=dict)
    """partition -> offset -> epoch seconds the broker acknowledged the record."""
    seconds: float = 0.0
    max_backlog: int = 0
    """Most records the producer was ever behind its schedule (0 = perfectly steady)."""
    errors: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Records acknowledged, tail records included."""
        return sum(len(offsets) for offsets in self.acked.values())

    @property
    def rate(self) -> float:
        """Records per second achieved while streaming."""
        return self.count / self.seconds if self.seconds else 0.0


class SteadyProducer:
    """Streams `rate` records/s of `features` (all double) to `topic` until `stop()`.

    Values are JSON `{"id": n, <feature>: x, ...}`, ids from 0. `stop()` returns `Produced`.
    """

    def __init__(
        self, bootstrap: str, topic: str, partitions: int, rate: float, features: list[str]
    ) -> None:
        ctx = multiprocessing.get_context("spawn")  # never fork a process holding a JVM gateway
        self._stop = ctx.Event()
        self._out = ctx.Queue()
        args = (bootstrap, topic, partitions, rate, features, self._stop, self._out)
        self._proc = ctx.Process(target=_produce, args=args, daemon=True)

    def start(self) -> "SteadyProducer":
        """Start streaming."""
        self._proc.start()
        return self

    def stop(self, timeout_s: float = 60.0) -> Produced:
        """Stop, flush, send the tail records, and return what was produced.

        Raises
        ------
        ScorerError
            If the producer process reports nothing within `timeout_s`, or a send failed.
        """
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        produced = None
        while produced is None and time.monotonic() < deadline:
            try:
                produced = self._out.get(timeout=0.5)
            except queue.Empty:
                if not self._proc.is_alive():
                    break
        if produced is None:
            self._proc.kill()
            msg = (
                f"steady producer reported nothing within {timeout_s}s "
                f"(exit code {self._proc.exitcode}); is the broker up?"
            )
            raise ScorerError(msg)
        self._proc.join(timeout_s)
        if produced.errors:
            msg = f"steady producer: {len(produced.errors)} failed sends, e.g. {produced.errors[0]}"
            raise ScorerError(msg)
        return produced


def _produce(bootstrap, topic, partitions, rate, features, stop, out) -> None:
    from confluent_kafka import Producer

    result = Produced(acked={p: {} for p in range(partitions)})

    def on_delivery(sent_at: float, err, msg) -> None:
        if err is not None:
            result.errors.append(str(err))
        else:  # librdkafka's latency: enqueue to ack, in microseconds, the same for a batch
            result.acked[msg.partition()][msg.offset()] = sent_at + (msg.latency() or 0.0)

    rng = random.Random(0)
    pool = [{f: round(rng.gauss(0.0, 1.0), 6) for f in features} for _ in range(_POOL)]
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": LINGER_MS, "acks": "1",
         "queue.buffering.max.messages": 2_000_000}
    )  # fmt: skip
    sent, started = 0, time.monotonic()
    while not stop.is_set():
        due = int((time.monotonic() - started) * rate)
        result.max_backlog = max(result.max_backlog, due - sent)
        for i in range(sent, due):
            value = orjson.dumps({"id": i, **pool[i % _POOL]})
            report = partial(on_delivery, time.time())
            producer.produce(topic, value, partition=i % partitions, on_delivery=report)
        sent = max(sent, due)
        producer.poll(0.001)
    producer.flush(30)
    result.seconds = time.monotonic() - started
    for p in range(partitions):  # each partition ends with a one-record batch
        value = orjson.dumps({"id": sent + p, **pool[0]})
        producer.produce(topic, value, partition=p, on_delivery=partial(on_delivery, time.time()))
        producer.flush(30)
    out.put(result)
