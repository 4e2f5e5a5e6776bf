"""A Delta Lake table, written with the `deltalake` package (delta-rs; no JVM jar).

Each batch is one Delta commit: the add actions of its data files and the application
transaction `txn(appId=<app id>, version=<batch id>)`, as Spark's own Delta sink records
it. A batch whose `txn` version the table already holds is a replay and writes nothing.
"""

import json
import time
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, Schema
from deltalake.exceptions import DeltaError
from deltalake.transaction import AddAction, CommitProperties, RemoveAction, Transaction

from stream_scorer.errors import SinkError
from stream_scorer.sinks.table import TableSink
from stream_scorer.sinks.table_files import DataFile
from stream_scorer.sinks.task_files import local_path

DAY_COLUMN = "scored_date"
"""The partition column of a table partitioned by day: the UTC date of `scored_at`."""


class DeltaSink(TableSink[DeltaTable]):
    """Appends each batch to the Delta table at `path`, once per batch id."""

    def __init__(self, path: str, checkpoint: str, by_day: bool = True) -> None:
        self.path = path.rstrip("/")
        super().__init__(self.path, checkpoint, by_day)

    def _table(self) -> DeltaTable | None:
        if not DeltaTable.is_deltatable(self.path):
            return None
        return DeltaTable(self.path)

    def _last_batch(self, app_id: str) -> int | None:
        table = self._table()
        return None if table is None else table.transaction_version(app_id)

    def _data_folder(self) -> str | None:
        return self.path

    def _create(self, schema: pa.Schema) -> None:
        if self._table() is not None:
            return
        by_day = self._partitioned(schema)
        full = schema.append(pa.field(DAY_COLUMN, pa.date32())) if by_day else schema
        try:
            DeltaTable.create(
                self.path, full, mode="ignore", partition_by=[DAY_COLUMN] if by_day else None
            )
        except (DeltaError, OSError, ValueError) as exc:
            msg = f"{self.describe()}: cannot create the table: {exc}"
            raise SinkError(msg) from exc

    def _evolve(self, schema: pa.Schema) -> None:
        table = self._existing()
        names = [f.name for f in table.schema().fields]
        partitions = table.metadata().partition_columns
        added = self._refuse_dropped([n for n in names if n not in partitions], schema)
        if added:
            fields = Schema.from_arrow(pa.schema([schema.field(n) for n in added])).fields
            table.alter.add_columns(fields)

    def _commit_files(
        self, files: list[DataFile], schema: pa.Schema, batch_id: int, app_id: str
    ) -> None:
        table = self._existing()
        partitions = table.metadata().partition_columns
        now = int(time.time() * 1000)
        root = Path(local_path(self.path) or self.path)
        actions: list[AddAction | RemoveAction] = [
            AddAction(
                str(file.path.relative_to(root)),
                file.size,
                self._partition_values(partitions, file),
                now,
                True,
                json.dumps({"numRecords": file.rows}),
            )
            for file in files
        ]
        commit = CommitProperties(app_transactions=[Transaction(app_id, batch_id)])
        try:
            table.create_write_transaction(
                actions, "append", table.schema(), partitions, commit_properties=commit
            )
        except (DeltaError, OSError) as exc:
            msg = f"{self.describe()}: cannot commit batch {batch_id}: {exc}"
            raise SinkError(msg) from exc

    def _partition_values(self, partitions: list[str], file: DataFile) -> dict[str, str | None]:
        """The add action's partition values: the file's day in a table partitioned by day.

        Raises
        ------
        SinkError
            If the table is partitioned otherwise, or the rows have no `scored_at`.
        """
        if not partitions:
            return {}
        if partitions != [DAY_COLUMN] or file.day is None:
            msg = (
                f"{self.describe()}: the table is partitioned by {partitions}; the sink writes "
                f"tables partitioned by {DAY_COLUMN} (of rows with scored_at) or not at all"
            )
            raise SinkError(msg)
        return {DAY_COLUMN: file.day}

    def state(self) -> dict[str, object] | None:
        """The table's version and the last batch this checkpoint committed to it."""
        table = self._table()
        app_id = self.app_id
        return {
            "table": self.path,
            "version": None if table is None else table.version(),
            "last_committed_batch": None
            if table is None or app_id is None
            else table.transaction_version(app_id),
        }
