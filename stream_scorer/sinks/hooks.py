"""`BatchHooks`: an observer of one micro-batch on its way to the sinks.

The pipeline and the sink template call it at fixed points of every batch. Production uses
`NO_HOOKS`, whose methods do nothing; tests install their own (fault injection) at start.
A hook runs on the driver, in the foreachBatch thread; what it raises fails the batch.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stream_scorer.sinks.base import Sink


class BatchHooks:
    """Called at the points of a batch; every method here does nothing."""

    def batch_started(self, batch_id: int) -> None:
        """The pipeline received batch `batch_id`; nothing is scored or written yet."""

    def sink_written(self, sink: "Sink", batch_id: int) -> None:
        """`sink` wrote the rows of `batch_id`; its commit marker is not written yet."""

    def sink_committed(self, sink: "Sink", batch_id: int) -> None:
        """`sink` finished `batch_id` (marked committed, if it keeps markers)."""

    def sinks_written(self, batch_id: int) -> None:
        """Every sink and the dead letter wrote `batch_id`; Spark has not committed it yet."""


NO_HOOKS = BatchHooks()
"""The hooks production runs with: none."""
