"""The exactly-once Kafka sink: each source partition's rows of a batch in one transaction.

`kind: kafka` with `exactly_once: true`. The records are those of the at-least-once sink
(`sinks.kafka`: same values, key and headers), written by the tasks in Kafka transactions
(`sinks.kafka_transactions`) whose producers are named after the checkpoint's application id
(`sinks.app_id`) and the source partition, and which commit the source offsets they cover
to the consumer group `<application id>-<topic>`. A replayed batch (kill -9 anywhere, task
retries, restarts) finds its ranges' offsets committed and sends nothing again.

On the one-pass path with a local master the scoring tasks send the rows as they score them
(`task_writes`: `KafkaBatch`, whose tasks leave a receipt of their row count for the
driver's count); otherwise a Spark job over the batch's frame sends them, one task per
input partition (`write`).
"""

import dataclasses
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

import pyarrow as pa
from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from stream_scorer.errors import SinkError
from stream_scorer.files import Files, files_at, join
from stream_scorer.kafka.client_config import client_config
from stream_scorer.sinks.app_id import checkpoint_app_id
from stream_scorer.sinks.kafka import COORDINATES, KafkaSink, json_values
from stream_scorer.sinks.kafka_transactions import (
    TaskTransactions,
    Transactions,
    send_in_transactions,
)
from stream_scorer.sinks.task_files import (
    ATTEMPT,
    BatchDirectory,
    FileOptions,
    TaskFiles,
    file_schema,
    local_path,
)

RECEIPT = ".rows"
"""Suffix of a task's receipt in a `KafkaBatch`: the number of rows it wrote, as text."""


class TransactionalKafkaSink(KafkaSink):
    """Sends each micro-batch's rows to `topic` in Kafka transactions, exactly once.

    Guarantee: a `read_committed` consumer (`isolation.level=read_committed`) sees every
    row once, under kill -9, task retries and restarts; a batch becomes visible source
    partition by source partition. A `read_uncommitted` consumer also sees the records of
    aborted transactions. Commit markers in `state_dir` let a replay of a batch the sink
    finished skip it whole; without them the group's offsets still skip each range.
    """

    def __init__(
        self,
        topic: str,
        options: Mapping[str, str],
        state_dir: str,
        checkpoint: str,
        origin: str = "sinks[0].options",
        start_check_timeout_s: float = 10.0,
        encode: Callable[[pa.RecordBatch], list[bytes]] = json_values,
    ) -> None:
        """As `KafkaSink`; `checkpoint` names the application its transactions belong to."""
        super().__init__(topic, options, state_dir, origin, start_check_timeout_s, encode)
        self.checkpoint = checkpoint
        self._checkpoint_files: Files | None = None

    def open(self, spark: SparkSession) -> None:
        """As `KafkaSink.open`; the checkpoint is read through `spark`'s filesystems."""
        super().open(spark)
        self._checkpoint_files = files_at(self.checkpoint, spark)

    @property
    def group(self) -> str:
        """The consumer group of the source offsets this sink committed: `<app id>-<topic>`.

        Raises
        ------
        SinkError
            Before the query's first start (the checkpoint has no query id yet).
        """
        app_id = checkpoint_app_id(self._checkpoint_files or files_at(self.checkpoint))
        if app_id is None:
            msg = f"{self.describe()}: the checkpoint {self.checkpoint} has no query id yet"
            raise SinkError(msg)
        return f"{app_id}-{self.topic}"

    def transactions(self, batch_id: int) -> Transactions:
        """What the tasks of batch `batch_id` need to send its rows in transactions."""
        consumer = client_config(self._connection, "consumer")
        return Transactions(self.topic, self._config, consumer, self.group, batch_id, self._encode)

    def task_writes(self, batch_id: int) -> "KafkaBatch | None":
        """The receipts folder of batch `batch_id` when the sink's state is local (a local
        master), so that the scoring tasks send the rows themselves; else None."""
        assert self.markers_dir is not None
        path = local_path(join(self.markers_dir, "batches", str(batch_id)))
        return KafkaBatch(path, FileOptions(), sends=self.transactions(batch_id)) if path else None

    def _publish(self, batch_id: int, written: BatchDirectory | None) -> None:
        """Mark `batch_id` committed, then drop the tasks' receipts of it, if any."""
        super()._publish(batch_id, written)
        if written is not None:
            shutil.rmtree(written.path, ignore_errors=True)

    def _write_batch(self, df: DataFrame, batch_id: int) -> int:
        """Send the batch's rows in transactions from a job over `df`; return the row count.

        Raises
        ------
        SinkError
            If a coordinate column is missing or a transaction failed after Spark's task
            retries; the batch stays uncommitted and its replay sends only what no
            transaction committed.
        """
        missing = [name for name in COORDINATES if name not in df.columns]
        if missing:
            msg = f"kafka sink '{self.topic}': rows lack the source coordinate columns {missing}"
            raise SinkError(msg)
        send = partial(send_in_transactions, transactions=self.transactions(batch_id))
        try:
            total = df.mapInArrow(send, "rows long").agg(F.sum("rows")).first()
        except (PySparkException, Py4JJavaError) as exc:
            msg = f"cannot send batch {batch_id} to topic '{self.topic}' in transactions: {exc}"
            raise SinkError(msg) from exc
        return int(total[0] or 0) if total is not None else 0


@dataclasses.dataclass
class KafkaBatch(BatchDirectory):
    """The receipts of one batch's tasks that send their rows in transactions themselves.

    The `BatchDirectory` protocol with Kafka in place of files: `prepare` records the
    attempt, each task commits its transactions and then leaves `part-<task>.rows` (its row
    count) while the attempt is current, and `count` sums the receipts.
    """

    sends: Transactions | None = None

    def writer(self, schema: T.StructType) -> "KafkaTaskFiles":
        """What each task needs to send its rows of `schema` (a Spark schema)."""
        if self.sends is None:
            msg = f"{self.path}: a Kafka batch without its transactions"
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
    """Sends one task's rows in transactions and leaves its receipt (executor side)."""

    sends: Transactions | None = None

    def open(self, partition: int) -> "ReceiptedTransactions":  # type: ignore[override]
        """Start the transactions of the task of `partition`."""
        assert self.sends is not None
        return ReceiptedTransactions(self.sends, self, partition)


class ReceiptedTransactions(TaskTransactions):
    """A task's transactions that leave a receipt of the rows once committed."""

    def __init__(self, sends: Transactions, files: KafkaTaskFiles, partition: int) -> None:
        super().__init__(sends)
        self._files, self._partition = files, partition

    def commit(self, check: bool = True) -> None:
        """Commit the transactions (see `TaskTransactions.commit`), then the receipt, while
        the batch's attempt is this task's."""
        super().commit(check)
        folder = self._files.directory
        temporary = os.path.join(folder, f".{uuid.uuid4().hex}")
        Path(temporary).write_text(str(self.rows))
        if check and not self._files.is_current():
            os.unlink(temporary)
            msg = f"{folder}: the batch was prepared again or counted; receipt dropped"
            raise SinkError(msg)
        os.replace(temporary, os.path.join(folder, f"part-{self._partition:05d}{RECEIPT}"))
