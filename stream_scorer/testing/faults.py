"""Fault injection for tests: kill the scorer (SIGKILL) or stall a batch at a named point.

Armed by the environment variable `STREAM_SCORER_FAULT=<point>` (every batch) or
`<point>@<batch_id>` (one batch), read by `hooks_from_env` in the test entry point
`fault_run`, which passes the `FaultHooks` it returns to the scorer (`Scorer(hooks=...)`);
unset, it returns the no-op `NO_HOOKS`. Points:

- `parquet-write` / `kafka-write`: a sink wrote the batch, its commit marker is not yet written
  (an exactly-once Kafka sink's transactions are committed).
- `delta-write` / `iceberg-write`: a table sink wrote the batch's files, its table commit is
  not yet made.
- `between-sinks`: a sink committed the batch; the next sinks have not written it yet.
- `after-sinks`: every sink wrote the batch; Spark has not yet committed it.
- `hold-batch`: the batch waits, before it is scored, until the file named by
  `STREAM_SCORER_FAULT_RELEASE` exists (no kill; at most HOLD_LIMIT_S): a barrier that keeps
  a batch in flight while a test signals the scorer.

A scoring task that kills the driver is a test model instead:
`stream_scorer.testing.models.DriverKillingClassifier`. Never set the variable outside tests:
it kills the process on purpose.
"""

import logging
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stream_scorer.errors import ConfigError
from stream_scorer.sinks.base import NO_HOOKS, BatchHooks, Sink
from stream_scorer.sinks.kafka import KafkaSink
from stream_scorer.sinks.kafka_exactly_once import TransactionalKafkaSink
from stream_scorer.sinks.parquet import ParquetSink

log = logging.getLogger(__name__)

ENV_VAR = "STREAM_SCORER_FAULT"
RELEASE_VAR = "STREAM_SCORER_FAULT_RELEASE"
KILL_POINTS = (
    "parquet-write", "kafka-write", "delta-write", "iceberg-write", "between-sinks", "after-sinks"
)  # fmt: skip
HOLD_BATCH = "hold-batch"
HOLD_LIMIT_S = 300.0
_WRITE_POINTS = {
    ParquetSink.__name__: "parquet-write",
    KafkaSink.__name__: "kafka-write",
    TransactionalKafkaSink.__name__: "kafka-write",
    "DeltaSink": "delta-write",  # by name: their packages are optional extras
    "IcebergSink": "iceberg-write",
}


@dataclass(frozen=True)
class Fault:
    """One armed fault: where, in which batch (None: every batch), and the file whose
    creation releases a held batch."""

    point: str
    batch_id: int | None = None
    release: str | None = None

    def matches(self, point: str, batch_id: int | None) -> bool:
        """True if this fault fires at `point` of batch `batch_id`."""
        return point == self.point and (self.batch_id is None or self.batch_id == batch_id)


def parse_fault(text: str | None, release: str | None = None) -> Fault | None:
    """Parse `<point>[@<batch_id>]`; None for an unset or empty value. `release` is the
    file that releases a `hold-batch`.

    Raises
    ------
    ConfigError
        If the point is unknown, the batch id malformed, or a `hold-batch` has no release
        file, naming the variable and the value.
    """
    if not text:
        return None
    point, _, batch = text.partition("@")
    known = point in KILL_POINTS or (point == HOLD_BATCH and bool(release))
    if not known or (batch and not batch.isdigit()):
        msg = (
            f"{ENV_VAR}={text!r} is not a fault; expected one of {', '.join(KILL_POINTS)} "
            f"or {HOLD_BATCH} (with {RELEASE_VAR} naming a file), optionally followed by "
            "@<batch_id>"
        )
        raise ConfigError(msg)
    return Fault(point, int(batch) if batch else None, release if point == HOLD_BATCH else None)


def hooks_from_env(environ: Mapping[str, str] = os.environ) -> BatchHooks:
    """The hooks of the fault `environ` arms, or `NO_HOOKS` when none is.

    Raises
    ------
    ConfigError
        If the variable is set to something that is not a fault.
    """
    fault = parse_fault(environ.get(ENV_VAR), environ.get(RELEASE_VAR))
    return NO_HOOKS if fault is None else FaultHooks(fault)


class FaultHooks(BatchHooks):
    """Fires `fault` where it matches: SIGKILL this process, or hold a batch (`hold-batch`)."""

    def __init__(self, fault: Fault) -> None:
        self.fault = fault

    def batch_started(self, batch_id: int) -> None:
        """Wait here for the release file if `hold-batch` is armed for this batch."""
        self._fire(HOLD_BATCH, batch_id)

    def sink_written(self, sink: Sink, batch_id: int) -> None:
        """Kill here if the write point of this sink's kind (`parquet-write`...) is armed."""
        point = _WRITE_POINTS.get(type(sink).__name__)
        if point is not None:
            self._fire(point, batch_id)

    def sink_committed(self, sink: Sink, batch_id: int) -> None:
        """Kill here if `between-sinks` is armed."""
        self._fire("between-sinks", batch_id)

    def sinks_written(self, batch_id: int) -> None:
        """Kill here if `after-sinks` is armed."""
        self._fire("after-sinks", batch_id)

    def _fire(self, point: str, batch_id: int) -> None:
        if not self.fault.matches(point, batch_id):
            return
        if point == HOLD_BATCH:
            self._hold(batch_id)
            return
        log.warning("fault injected: SIGKILL at %s of batch %s", point, batch_id)
        os.kill(os.getpid(), signal.SIGKILL)

    def _hold(self, batch_id: int) -> None:
        release = Path(str(self.fault.release))
        log.warning("fault injected: batch %s held until %s exists", batch_id, release)
        deadline = time.monotonic() + HOLD_LIMIT_S
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        log.warning("fault released: batch %s goes on", batch_id)
