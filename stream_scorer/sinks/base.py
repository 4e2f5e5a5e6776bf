"""The `Sink` lifecycle every sink follows, and the commit markers that make replays safe."""

from abc import ABC, abstractmethod

from py4j.protocol import Py4JJavaError
from pyspark.sql import DataFrame, SparkSession

from stream_scorer.errors import SinkError


class Sink(ABC):
    """A destination for the rows of each micro-batch.

    Lifecycle: `open(spark)` once at query start, `write(df, batch_id)` once per micro-batch
    on the driver (inside `foreachBatch`), `close()` once when the query stops.
    """

    _markers: "BatchMarkers | None" = None
    """Commit markers of an idempotent sink, attached by its `open`; None for the others."""
    single_pass: bool = True
    """True if `write` evaluates its frame once; the pipeline caches the scored batch for a
    sink that does not, so the scoring UDF still runs once per row."""

    def open(self, spark: SparkSession) -> None:  # noqa: B027 (optional hook)
        """Prepare the sink (markers, clients); called once at query start, on the driver."""

    @abstractmethod
    def write(self, df: DataFrame, batch_id: int) -> int:
        """Write the rows of micro-batch `batch_id` and return how many were written.

        Called once per micro-batch on the driver. Spark calls it again with the same
        `batch_id` and the same rows after a crash; each sink documents what a replay does.

        Raises
        ------
        SinkError
            If the batch could not be written; it is then not committed, the query fails and
            the batch is replayed when the query restarts from its checkpoint.
        """

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release what `open` acquired; called once when the query stops."""

    def describe(self) -> str:
        """A short name for messages: the kind and its target."""
        target = getattr(self, "path", None) or getattr(self, "topic", None) or ""
        return f"{type(self).__name__}({target})"

    def is_committed(self, batch_id: int) -> bool:
        """True if this sink's markers record `batch_id` as written (a replay it will skip)."""
        return self._markers is not None and self._markers.is_committed(batch_id)

    def committed_batches(self) -> list[int]:
        """Batch ids this sink's markers record as written (after `open`); [] if it keeps none."""
        return self._markers.committed_ids() if self._markers is not None else []


class BatchMarkers:
    """One empty marker file per committed batch id, in a directory of any Hadoop filesystem.

    The Hadoop FileSystem API of the Spark session is used, so local paths, `hdfs://` and
    `s3a://` URLs work alike. A marker is written only after its batch is fully written:
    a marker present means the batch is durable; a marker absent means it may be partial.
    """

    def __init__(self, spark: SparkSession, dir_url: str) -> None:
        jvm = getattr(spark, "_jvm", None)
        if jvm is None:
            msg = f"commit markers in {dir_url} need a classic (non-Connect) SparkSession"
            raise SinkError(msg)
        self._path_cls = jvm.org.apache.hadoop.fs.Path
        self._dir = self._path_cls(dir_url)
        self._fs = self._dir.getFileSystem(spark._jsc.hadoopConfiguration())
        self.dir_url = dir_url

    def is_committed(self, batch_id: int) -> bool:
        """Return True if `batch_id` has a marker."""
        return bool(self._fs.exists(self._marker(batch_id)))

    def mark_committed(self, batch_id: int) -> None:
        """Create the marker of `batch_id` (an empty file; an existing one is overwritten).

        Raises
        ------
        SinkError
            If the marker cannot be created; the batch then counts as not committed.
        """
        try:
            self._fs.create(self._marker(batch_id), True).close()
        except Py4JJavaError as exc:  # a Java IOException
            msg = (
                f"cannot write the commit marker of batch {batch_id} in {self.dir_url}: {exc}; "
                "check that the directory is writable"
            )
            raise SinkError(msg) from exc

    def committed_ids(self) -> list[int]:
        """All batch ids with a marker, ascending."""
        if not self._fs.exists(self._dir):
            return []
        names = (status.getPath().getName() for status in self._fs.listStatus(self._dir))
        return sorted(int(name) for name in names if name.isdigit())

    def _marker(self, batch_id: int):
        return self._path_cls(self._dir, str(batch_id))
