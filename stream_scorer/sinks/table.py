"""`TableSink`: a table format (Delta Lake, Iceberg) whose commits record the batch ids.

Where a Parquet sink keeps commit markers beside its files, a table records each batch in
the commit that makes its rows visible: one atomic table commit per batch, tagged with the
scorer's application id and the batch id (Delta's `txn`, Iceberg's snapshot summary). A
batch is committed when the table says so, and a replay of it writes nothing.

The application id is the checkpoint's (`sinks.app_id`): it survives restarts, and a new
checkpoint, whose batches start at 0 again, gets a new one.

The rows reach the table as Parquet data files in a batch directory under the table
(`sinks.table_files`): written by the scoring tasks (`task_writes`), or by the driver from the
batch's frame (`write`); the driver then commits them (`_publish`). A batch that fails before
its commit leaves files no table commit names; its replay starts its directory again.
"""

import logging
from abc import abstractmethod
from typing import Generic, TypeVar

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from stream_scorer.errors import SinkError
from stream_scorer.files import Files, files_at, join
from stream_scorer.sinks.app_id import checkpoint_app_id
from stream_scorer.sinks.base import Sink
from stream_scorer.sinks.table_files import DAY_OF, TABLE_FILES, DataFile, TableBatch
from stream_scorer.sinks.task_files import BatchDirectory, file_schema, local_path

log = logging.getLogger(__name__)

TableT = TypeVar("TableT")
"""The library's handle of a table (`deltalake.DeltaTable`, `pyiceberg.table.Table`)."""


class TableSink(Sink, Generic[TableT]):
    """A table that records each batch's commit with the checkpoint's application id."""

    def __init__(self, target: str, checkpoint: str, by_day: bool) -> None:
        """
        Parameters
        ----------
        target
            The table: a path or URL (Delta), or a catalog's table name (Iceberg).
        checkpoint
            The scorer's checkpoint, whose query id names the application in the table.
        by_day
            Partition a table this sink creates by the UTC day of `scored_at`.
        """
        super().__init__(target)
        self.checkpoint = checkpoint
        self.by_day = by_day
        self._checkpoint_files: Files | None = None
        self._app_id: str | None = None
        self._staged: TableBatch | None = None

    def open(self, spark: SparkSession) -> None:
        """Read the checkpoint through `spark`'s filesystems."""
        super().open(spark)
        self._checkpoint_files = files_at(self.checkpoint, spark)

    @property
    def app_id(self) -> str | None:
        """The application id of the checkpoint's query; None before its first start."""
        if self._app_id is None:
            self._app_id = checkpoint_app_id(self._checkpoint_files or files_at(self.checkpoint))
        return self._app_id

    def is_committed(self, batch_id: int) -> bool:
        """True if the table holds a commit of this application for `batch_id` or later."""
        last = self.last_committed()
        return last is not None and last >= batch_id

    def committed_batches(self) -> list[int]:
        """Batch ids 0 to the last the table records for this application (they commit in
        order); [] for a checkpoint that has not started."""
        last = self.last_committed()
        return list(range(last + 1)) if last is not None else []

    def last_committed(self) -> int | None:
        """The last batch id the table records for this application, or None."""
        app_id = self.app_id
        return None if app_id is None else self._last_batch(app_id)

    def task_writes(self, batch_id: int) -> BatchDirectory | None:
        """The batch directory the tasks write into: under the table, when it exists on the
        local filesystem; None otherwise (the driver writes the batch then, see `write`)."""
        return self._batch(batch_id)

    def _batch(self, batch_id: int) -> TableBatch | None:
        """`task_writes`'s directory: `<data folder>/<app id>/<batch id>/`."""
        folder = self._data_folder()
        app_id = self.app_id
        path = local_path(join(folder, app_id, str(batch_id))) if folder and app_id else None
        return TableBatch(path, TABLE_FILES) if path else None

    def _write_batch(self, df: DataFrame, batch_id: int) -> int:
        """Write the batch's rows as data files from the driver; `_publish` commits them.

        Raises
        ------
        SinkError
            If the table's data is not on a local filesystem.
        """
        self._create(file_schema(df.schema).remove_metadata())
        rows = df.toArrow()
        directory = self._batch(batch_id)
        if directory is None:
            msg = f"{self.describe()}: the table's data folder {self._data_folder()} is not local"
            raise SinkError(msg)
        directory.prepare()
        files = directory.writer(df.schema)
        with files.open(0) as file:
            for batch in rows.cast(files.schema).to_batches():
                file.write(batch)
            file.commit()
        self._staged = directory
        return rows.num_rows

    def _publish(self, batch_id: int, written: BatchDirectory | None) -> None:
        """Commit the batch's data files to the table, tagged with the application id."""
        batch = written or self._staged
        self._staged = None
        app_id = self.app_id
        if not isinstance(batch, TableBatch) or app_id is None:
            msg = f"{self.describe()}: batch {batch_id} committed before its files were written"
            raise SinkError(msg)
        schema = batch.writer_given().schema.remove_metadata()
        self._create(schema)
        self._evolve(schema)
        self._commit_files(batch.data_files(), schema, batch_id, app_id)
        log.info("batch %d committed to %s", batch_id, self.describe())

    def _partitioned(self, schema: pa.Schema) -> bool:
        """Whether a table of `schema` created now is partitioned by day."""
        return self.by_day and DAY_OF in schema.names

    def _refuse_dropped(self, table_columns: list[str], schema: pa.Schema) -> list[str]:
        """The columns of `schema` the table lacks (to add).

        Raises
        ------
        SinkError
            If the table has columns the batch lacks: a dropped or renamed field, or another
            kind of rows (dead letters into the predictions' table) is refused.
        """
        dropped = [c for c in table_columns if c not in schema.names]
        if dropped:
            msg = (
                f"{self.describe()}: the rows lack the table's columns {dropped}; a table takes "
                "new columns, not fewer: write to a new table, or keep the fields"
            )
            raise SinkError(msg)
        return [c for c in schema.names if c not in table_columns]

    def _existing(self) -> TableT:
        """The table, which must exist by now.

        Raises
        ------
        SinkError
            If it does not (removed while the scorer ran).
        """
        table = self._table()
        if table is None:
            msg = f"{self.describe()}: the table does not exist"
            raise SinkError(msg)
        return table

    @abstractmethod
    def _table(self) -> TableT | None:
        """The table, loaded now; None if it does not exist."""

    @abstractmethod
    def _last_batch(self, app_id: str) -> int | None:
        """The last batch id the table records for `app_id`; None if none (or no table)."""

    @abstractmethod
    def _data_folder(self) -> str | None:
        """The folder (path or URL) under which the batches' files go; None while unknown."""

    @abstractmethod
    def _create(self, schema: pa.Schema) -> None:
        """Create the table for rows of `schema` unless it exists."""

    @abstractmethod
    def _evolve(self, schema: pa.Schema) -> None:
        """Add the columns of `schema` the table lacks (see `_refuse_dropped`)."""

    @abstractmethod
    def _commit_files(
        self, files: list[DataFile], schema: pa.Schema, batch_id: int, app_id: str
    ) -> None:
        """Add `files` to the table in one commit that records `batch_id` for `app_id`.

        Raises
        ------
        SinkError
            If the commit failed; the batch is then not committed.
        """
