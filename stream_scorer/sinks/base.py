"""The `Sink` template every sink follows, the commit markers that make replays safe, and
`BatchHooks`, an observer of one micro-batch on its way to the sinks.

The pipeline and the sink template call the hooks at fixed points of every batch. Production
uses `NO_HOOKS`, whose methods do nothing; tests pass their own (fault injection) to the
scorer. A hook runs on the driver, in the foreachBatch thread; what it raises fails the batch.
"""

import logging
from abc import ABC, abstractmethod
from typing import final

from pyspark.sql import DataFrame, SparkSession

from stream_scorer.errors import SinkError
from stream_scorer.files import HadoopFiles
from stream_scorer.sinks.task_files import BatchDirectory

log = logging.getLogger(__name__)


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


class Sink(ABC):
    """A destination for the rows of each micro-batch.

    Lifecycle: `open(spark)` once at query start, `write(df, batch_id)` once per micro-batch
    on the driver (inside `foreachBatch`), `close()` once when the query stops. A sink given
    a `markers_dir` is idempotent: `write` skips a batch id it committed and marks a batch
    committed only after all its rows were written. Subclasses implement `_write_batch`.

    A sink whose scoring tasks can write its rows themselves says so with `task_writes`; the
    batch then follows the protocol PySpark names `DataSourceStreamWriter`: each task writes
    its rows and leaves its commit message (a file in place, `sinks.task_files`), and the
    driver's `commit(written, batch_id)` makes the batch visible exactly once, instead of
    `write`.
    """

    single_pass: bool = True
    """True if `_write_batch` evaluates its frame once; the pipeline caches the scored batch
    for a sink that does not, so the scoring UDF still runs once per row."""

    def __init__(self, target: str, markers_dir: str | None = None) -> None:
        """Name what the sink writes to, and where its commit markers go.

        Parameters
        ----------
        target
            The path, topic or stream the rows go to; shown in messages.
        markers_dir
            Directory (any Hadoop filesystem URL) of one marker per committed batch id;
            None for a sink that keeps no markers and so writes a replayed batch again.
        """
        self.target = target
        self.markers_dir = markers_dir
        self._markers: BatchMarkers | None = None

    def open(self, spark: SparkSession) -> None:
        """Prepare the sink: attach its commit markers (created on first commit), if any.

        Called once at query start, on the driver. A sink holding clients extends it.
        """
        if self.markers_dir is not None:
            self._markers = BatchMarkers(spark, self.markers_dir)

    @final
    def write(self, df: DataFrame, batch_id: int, hooks: BatchHooks = NO_HOOKS) -> int:
        """Write the rows of micro-batch `batch_id`; return how many were written.

        Called once per micro-batch on the driver. Spark calls it again with the same
        `batch_id` and the same rows after a crash: a sink with markers returns 0 for a
        batch it committed (idempotent for a batch_id), and writes a batch it had not
        committed again from scratch; a sink without markers writes every replay.
        `hooks` observe the write: `sink_written` once the rows are written, before the
        marker; `sink_committed` after it. A skipped replay calls neither.

        Raises
        ------
        SinkError
            If a sink with markers was not opened, or the rows or the marker could not be
            written. The batch is then not committed, the query fails and the batch is
            replayed when the query restarts from its checkpoint.
        """
        if self.markers_dir is not None and self._markers is None:
            msg = f"{self.describe()}: write() called before open(spark)"
            raise SinkError(msg)
        if self.is_committed(batch_id):
            log.info("batch %d already committed to %s; replay skipped", batch_id, self.target)
            return 0
        count = self._write_batch(df, batch_id)
        self._commit(batch_id, hooks)
        return count

    @final
    def _commit(
        self, batch_id: int, hooks: BatchHooks, written: BatchDirectory | None = None
    ) -> None:
        """Make `batch_id`, whose rows are all written, visible (`write`'s and `commit`'s
        last step), between the hooks `sink_written` and `sink_committed`."""
        hooks.sink_written(self, batch_id)
        self._publish(batch_id, written)
        hooks.sink_committed(self, batch_id)

    def _publish(self, batch_id: int, written: BatchDirectory | None) -> None:
        """Make `batch_id` visible: mark it committed, if the sink keeps markers. `written`
        holds the rows when the tasks wrote them (`commit`), else None (`write`).

        Raises
        ------
        SinkError
            If the batch could not be made visible; it then counts as not committed.
        """
        if self._markers is not None:
            self._markers.mark_committed(batch_id)

    def task_writes(self, batch_id: int) -> BatchDirectory | None:
        """Where the scoring tasks of `batch_id` write this sink's rows themselves, or None
        (the default): Spark's writer writes them then, through `write`. Called on the driver
        before the batch is scored."""
        return None

    @final
    def commit(self, written: BatchDirectory, batch_id: int, hooks: BatchHooks = NO_HOOKS) -> int:
        """Commit batch `batch_id`, whose rows the tasks wrote to `written` (from
        `task_writes`; the job has succeeded); return its row count. Called on the driver
        instead of `write`, as `DataSourceStreamWriter.commit(messages, batchId)` is.

        Raises
        ------
        SinkError
            If the files cannot be counted or the batch made visible (`_publish`); the batch
            then counts as not committed and its replay writes it again.
        """
        count = written.count()
        self._commit(batch_id, hooks, written)
        return count

    @abstractmethod
    def _write_batch(self, df: DataFrame, batch_id: int) -> int:
        """Write every row of `df` as batch `batch_id` and return how many; only `write` calls.

        Called for a batch not yet committed, possibly again for the same batch id after a
        failure: what a previous attempt left behind must be replaced, not added to.

        Raises
        ------
        SinkError
            If the rows could not be written.
        """

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release what `open` acquired; called once when the query stops."""

    def describe(self) -> str:
        """A short name for messages: the kind and its target."""
        return f"{type(self).__name__}({self.target})"

    def is_committed(self, batch_id: int) -> bool:
        """True if this sink's markers record `batch_id` as written (a replay it will skip)."""
        return self._markers is not None and self._markers.is_committed(batch_id)

    def committed_batches(self) -> list[int]:
        """Batch ids this sink's markers record as written (after `open`); [] if it keeps none."""
        return self._markers.committed_ids() if self._markers is not None else []

    def state(self) -> dict[str, object] | None:
        """What `stream-scorer status` shows of this sink (a table's last committed batch and
        version), or None (the default) for a sink with nothing to show."""
        return None


class BatchMarkers:
    """One empty marker file per committed batch id, in a directory of any Hadoop filesystem.

    The Hadoop FileSystem API of the Spark session is used (`files.HadoopFiles`), so local
    paths, `hdfs://` and `s3a://` URLs work alike. A marker is written only after its batch
    is fully written: a marker present means the batch is durable; a marker absent means it
    may be partial.
    """

    def __init__(self, spark: SparkSession, dir_url: str) -> None:
        self._files = HadoopFiles(spark, dir_url)
        self.dir_url = dir_url

    def is_committed(self, batch_id: int) -> bool:
        """Return True if `batch_id` has a marker."""
        return self._files.exists(str(batch_id))

    def mark_committed(self, batch_id: int) -> None:
        """Create the marker of `batch_id` (an empty file; an existing one is overwritten).

        Raises
        ------
        SinkError
            If the marker cannot be created; the batch then counts as not committed.
        """
        try:
            self._files.create(str(batch_id), "", overwrite=True)
        except OSError as exc:  # a Java IOException
            msg = (
                f"cannot write the commit marker of batch {batch_id} in {self.dir_url}: {exc}; "
                "check that the directory is writable"
            )
            raise SinkError(msg) from exc

    def committed_ids(self) -> list[int]:
        """All batch ids with a marker, ascending."""
        return sorted(int(name) for name in self._files.list("") if name.isdigit())
