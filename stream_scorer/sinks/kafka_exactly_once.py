"""The exactly-once Kafka sink: each source partition's rows of a batch in one transaction.

`kind: kafka` with `exactly_once: true`. The records are those of the at-least-once sink
(`sinks.kafka`: same values, key and headers), written by the tasks in Kafka transactions
(`sinks.kafka_transactions`) whose producers are named after the checkpoint's application id
(`sinks.app_id`) and the source partition, and which commit the source offsets they cover
to the consumer group `<application id>-<topic>`. A replayed batch (kill -9 anywhere, task
retries, restarts) finds its ranges' offsets committed and sends nothing again.

As for the at-least-once sink, on the one-pass path with a local master the scoring tasks
send the rows as they score them (`task_writes`: a `KafkaBatch` of receipts); otherwise a
Spark job over the batch's frame sends them, one task per input partition (`write`).
"""

from collections.abc import Callable, Mapping

import pyarrow as pa
from pyspark.sql import SparkSession

from stream_scorer.errors import SinkError
from stream_scorer.files import Files, files_at
from stream_scorer.kafka.client_config import confluent_config
from stream_scorer.sinks.app_id import checkpoint_app_id
from stream_scorer.sinks.json_values import json_values
from stream_scorer.sinks.kafka import KafkaSink
from stream_scorer.sinks.kafka_transactions import Transactions


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

    def sends(self, batch_id: int) -> Transactions:
        """What the tasks of batch `batch_id` need to send its rows in transactions."""
        consumer = confluent_config(self._connection)
        return Transactions(self.topic, self._config, consumer, self.group, batch_id, self._encode)
