"""Fault injection for tests: kill the scorer (SIGKILL) or stall a batch at a named point.

Armed by the environment variable `STREAM_SCORER_FAULT=<point>` (every batch) or
`<point>@<batch_id>` (one batch), read once at import; unset, every hook is a no-op that
costs one comparison. Points:

- `parquet-write` / `kafka-write`: a sink wrote the batch, its commit marker is not yet written.
- `between-sinks`: the pipeline wrote one sink and not yet the next.
- `after-sinks`: every sink wrote the batch; Spark has not yet committed it.
- `slow-batch:<seconds>`: the batch sleeps that long (no kill), e.g. to SIGTERM it in flight.

A scoring task that kills the driver is a test model instead:
`stream_scorer.testing.models.DriverKillingClassifier`. Never set the variable outside tests:
it kills the process on purpose.
"""

import logging
import os
import signal
import time
from dataclasses import dataclass

from stream_scorer.errors import ConfigError

log = logging.getLogger(__name__)

ENV_VAR = "STREAM_SCORER_FAULT"
KILL_POINTS = ("parquet-write", "kafka-write", "between-sinks", "after-sinks")
SLOW_BATCH = "slow-batch"


@dataclass(frozen=True)
class Fault:
    """One armed fault: where, in which batch (None: every batch), and for how long."""

    point: str
    batch_id: int | None = None
    seconds: float = 0.0

    def matches(self, point: str, batch_id: int | None) -> bool:
        """True if this fault fires at `point` of batch `batch_id`."""
        return point == self.point and (self.batch_id is None or self.batch_id == batch_id)


def parse_fault(text: str | None) -> Fault | None:
    """Parse `<point>[:<seconds>][@<batch_id>]`; None for an unset or empty value.

    Raises
    ------
    ConfigError
        If the point is unknown or a number is malformed, naming the variable and the value.
    """
    if not text:
        return None
    spec, _, batch = text.partition("@")
    point, _, seconds = spec.partition(":")
    try:
        fault = Fault(point, int(batch) if batch else None, float(seconds or 0))
    except ValueError:
        fault = None
    known = point in KILL_POINTS or (point == SLOW_BATCH and seconds)
    if fault is None or not known:
        msg = (
            f"{ENV_VAR}={text!r} is not a fault; expected one of {', '.join(KILL_POINTS)} "
            f"or {SLOW_BATCH}:<seconds>, optionally followed by @<batch_id>"
        )
        raise ConfigError(msg)
    return fault


ARMED = parse_fault(os.environ.get(ENV_VAR))


def fault_point(point: str, batch_id: int | None) -> None:
    """Fire the armed fault if it matches: SIGKILL this process, or sleep for `slow-batch`."""
    if ARMED is None or not ARMED.matches(point, batch_id):
        return
    if point == SLOW_BATCH:
        log.warning("fault injected: batch %s sleeps %.1fs", batch_id, ARMED.seconds)
        time.sleep(ARMED.seconds)
        return
    log.warning("fault injected: SIGKILL at %s of batch %s", point, batch_id)
    os.kill(os.getpid(), signal.SIGKILL)
