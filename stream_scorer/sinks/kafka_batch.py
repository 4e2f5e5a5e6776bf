"""The `BatchDirectory` protocol with Kafka in place of files, for the Kafka sinks whose
scoring tasks send the rows themselves (the one pass on a local master).

The driver's `KafkaBatch` is a folder of receipts: `prepare` records the attempt, each
task sends its rows (`TaskSends`: at least once; `TaskTransactions`: in transactions),
then leaves `part-<task>.rows`, its row count, while the attempt is current; `count` sums
the receipts. A task left running by a failed attempt leaves no receipt in the next.
"""

import dataclasses
import os
import uuid
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
from pyspark.sql import types as T

from stream_scorer.errors import SinkError
from stream_scorer.sinks.task_files import ATTEMPT, BatchDirectory, TaskFiles, file_schema

RECEIPT = ".rows"
"""Suffix of a task's receipt in a `KafkaBatch`: the number of rows it wrote, as text."""


class TaskSending(Protocol):
    """One task's sends (a context manager; leaving it without `commit` drops or aborts)."""

    rows: int

    def write(self, batch: pa.RecordBatch) -> None: ...

    def commit(self, check: bool = True) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc_info: object) -> None: ...


class Sends(Protocol):
    """What a task needs to send its rows of a batch (shipped to the executors)."""

    def open(self) -> TaskSending: ...


@dataclasses.dataclass
class KafkaBatch(BatchDirectory):
    """The receipts of one batch's tasks that send their rows themselves (see the module)."""

    sends: Sends | None = None

    def writer(self, schema: T.StructType) -> "KafkaTaskFiles":
        """What each task needs to send its rows of `schema` (a Spark schema)."""
        if self.sends is None:
            msg = f"{self.path}: a Kafka batch without its sends"
            raise SinkError(msg)
        files = KafkaTaskFiles(self.path, self.options, file_schema(schema), self.attempt)
        self.files = dataclasses.replace(files, sends=self.sends)
        return self.files

    def count(self) -> int:
        """Rows the tasks wrote, from their receipts, once they are done."""
        self.writer_given()
        Path(self.path, ATTEMPT).unlink(missing_ok=True)  # no task leaves a receipt from now on
        return sum(int(p.read_text()) for p in Path(self.path).glob(f"part-*{RECEIPT}"))


@dataclasses.dataclass(frozen=True)
class KafkaTaskFiles(TaskFiles):
    """Sends one task's rows and leaves its receipt (executor side)."""

    sends: Sends | None = None

    def open(self, partition: int) -> "Receipted":  # type: ignore[override]
        """Start the sends of the task of `partition`."""
        assert self.sends is not None
        return Receipted(self.sends.open(), self, partition)


class Receipted:
    """A task's sends that leave a receipt of the rows once committed."""

    def __init__(self, sends: TaskSending, files: KafkaTaskFiles, partition: int) -> None:
        self._sends, self._files, self._partition = sends, files, partition

    @property
    def rows(self) -> int:
        """Rows written so far (see the sends)."""
        return self._sends.rows

    def write(self, batch: pa.RecordBatch) -> None:
        """Send `batch`'s rows."""
        self._sends.write(batch)

    def commit(self, check: bool = True) -> None:
        """Commit the sends (every record delivered, or the transactions committed), then
        the receipt, while the batch's attempt is this task's.

        Raises
        ------
        SinkError
            If the sends fail, or `check` and the batch was prepared again or counted.
        """
        self._sends.commit(check)
        folder = self._files.directory
        temporary = os.path.join(folder, f".{uuid.uuid4().hex}")
        Path(temporary).write_text(str(self.rows))
        if check and not self._files.is_current():
            os.unlink(temporary)
            msg = f"{folder}: the batch was prepared again or counted; receipt dropped"
            raise SinkError(msg)
        os.replace(temporary, os.path.join(folder, f"part-{self._partition:05d}{RECEIPT}"))

    def __enter__(self) -> "Receipted":
        self._sends.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._sends.__exit__(*exc_info)
