"""The data files of a table sink's batch (Delta Lake, Iceberg), written as Parquet task files.

A table batch is a batch directory of `sinks.task_files` (same attempt record, same atomic
renames) with two differences: rows with a `scored_at` get one file per task and UTC day of
it, in `<batch>/<YYYY-MM-DD>/part-<task>.parquet`, so that each file holds one partition of
a table partitioned by day; and the files are written as table formats read them
(timestamps as INT64 microseconds, never Spark's INT96). `TableBatch.data_files` lists what
the driver commits.
"""

import dataclasses
import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import types as T

from stream_scorer.sinks.task_files import BatchDirectory, FileOptions, TaskFile, TaskFiles

DAY_OF = "scored_at"
"""The column whose UTC day partitions a table by day."""
TABLE_FILES = FileOptions(int96=False, timestamp_unit="us", compression="zstd")
"""How table files are written: Delta and Iceberg read INT64 microsecond timestamps."""


@dataclasses.dataclass(frozen=True)
class DataFile:
    """One committed file of a table batch."""

    path: Path
    day: str | None
    """The UTC day of `DAY_OF` of every row (`YYYY-MM-DD`), or None for rows without one."""
    size: int
    rows: int


@dataclasses.dataclass
class TableBatch(BatchDirectory):
    """A batch directory of table data files, split by the day of `DAY_OF` if rows have it."""

    def _files_kind(self, schema: T.StructType) -> type[TaskFiles]:
        return DayTaskFiles if DAY_OF in schema.fieldNames() else TaskFiles

    closed: list[DataFile] | None = None
    """The committed files, once `data_files` closed the batch."""

    def data_files(self) -> list[DataFile]:
        """The files the tasks committed, once they are done (see `BatchDirectory.close`)."""
        self.writer_given()
        if self.closed is None:
            self.closed = []
            for path in self.close():
                day = path.parent.name if path.parent != Path(self.path) else None
                rows = pq.read_metadata(path).num_rows
                self.closed.append(DataFile(path, day, path.stat().st_size, rows))
        return self.closed

    def count(self) -> int:
        """Rows in the batch's files; a batch of no rows has no file."""
        return sum(file.rows for file in self.data_files())


@dataclasses.dataclass(frozen=True)
class DayTaskFiles(TaskFiles):
    """Writes one task's rows to one file per UTC day of `DAY_OF` (executor side)."""

    def open(self, partition: int) -> "DayFiles":  # type: ignore[override]
        """Start the files of the task of `partition`; nothing is visible before `commit`."""
        return DayFiles(self, partition)


class DayFiles:
    """A task's open files, one per day; the same interface as a `TaskFile`."""

    def __init__(self, files: TaskFiles, partition: int) -> None:
        self._files, self._partition = files, partition
        self._by_day: dict[datetime.date, TaskFile] = {}

    @property
    def rows(self) -> int:
        """Rows written to all the files."""
        return sum(file.rows for file in self._by_day.values())

    def write(self, batch: pa.RecordBatch) -> None:
        """Append `batch`'s rows to the files of their days."""
        if not batch.num_rows:
            return
        days = _utc_days(batch.column(DAY_OF))
        unique = pc.unique(days).to_pylist()
        for day in unique:
            rows = batch if len(unique) == 1 else batch.filter(pc.equal(days, day))
            self._file(day).write(rows)

    def _file(self, day: datetime.date) -> TaskFile:
        if day not in self._by_day:
            folder = Path(self._files.directory, day.isoformat())
            folder.mkdir(exist_ok=True)
            self._by_day[day] = self._files.open_in(str(folder), self._partition)
        return self._by_day[day]

    def commit(self, check: bool = True) -> None:
        """Commit every file (see `TaskFile.commit`)."""
        for file in self._by_day.values():
            file.commit(check)

    def __enter__(self) -> "DayFiles":
        return self

    def __exit__(self, *exc_info: object) -> None:
        for file in self._by_day.values():
            file.__exit__(*exc_info)


def _utc_days(column: pa.Array) -> pa.Array:
    """The UTC date of each timestamp of `column`."""
    return pc.cast(column.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us")), pa.date32())
