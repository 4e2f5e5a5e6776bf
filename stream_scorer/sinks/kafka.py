"""JSON records on a Kafka topic, sent from the executors, skipped on replay of a batch id.

Each row becomes one record: value = the row as a JSON object (`json_values`, or Avro with a
registered schema, `avro_values`), key = the dedup key `<source topic>/<partition>/<offset>`,
headers = model version (when the rows have one), source coordinates and batch id
(`kafka_producer`). Each task sends its rows with one confluent-kafka (librdkafka)
producer: on the one-pass path with a local master the scoring tasks send them as they score
them (`task_writes`: a `KafkaBatch` of the tasks' receipts), otherwise a Spark job over the
batch's frame does (`write`), one task per input partition.
"""

import dataclasses
import shutil
from collections.abc import Callable, Iterator, Mapping
from functools import partial

import pyarrow as pa
from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from stream_scorer.errors import ConfigError, SinkError
from stream_scorer.files import join
from stream_scorer.kafka.causes import Target
from stream_scorer.kafka.client_config import confluent_config, confluent_producer
from stream_scorer.kafka.options import BOOTSTRAP_SERVERS, connection_options
from stream_scorer.kafka.reach import check_kafka_python, check_librdkafka, check_tls
from stream_scorer.sinks.base import Sink
from stream_scorer.sinks.json_values import json_values
from stream_scorer.sinks.kafka_batch import KafkaBatch, Sends
from stream_scorer.sinks.kafka_producer import COORDINATES, RecordSender
from stream_scorer.sinks.task_files import BatchDirectory, FileOptions, local_path

_REFUSED = ("kafka.key.serializer", "kafka.value.serializer")


@dataclasses.dataclass(frozen=True)
class AtLeastOnce:
    """What a task needs to send its rows of batch `batch_id` to `topic` (at least once)."""

    topic: str
    producer: Mapping[str, str]
    """librdkafka producer settings."""
    batch_id: int
    encode: Callable[[pa.RecordBatch], list[bytes]] = json_values

    def open(self) -> "TaskSends":
        """Start a task's sends."""
        sender = RecordSender.open(self.producer, self.topic, self.batch_id, self.encode)
        return TaskSends(sender)


class TaskSends:
    """A task's records sent with one producer; `commit` waits until all were delivered.

    Used as a context manager: leaving it without `commit` drops what is not sent yet.
    """

    def __init__(self, sender: RecordSender) -> None:
        self._sender = sender
        self.rows = 0
        self._done = False

    def write(self, batch: pa.RecordBatch) -> None:
        """Queue `batch`'s rows."""
        self._sender.send(batch)
        self.rows += batch.num_rows

    def commit(self, check: bool = True) -> None:
        """Wait for every record's delivery.

        Raises
        ------
        SinkError
            If any record could not be delivered; Spark then retries the task, which sends
            its rows again (at least once; consumers drop repeats by the record key).
        """
        what = f"batch {self._sender.batch_id} to topic '{self._sender.topic}'"
        self._sender.flush(f"{self.rows} sent of {what}; Spark retries the task")
        self._done = True

    def __enter__(self) -> "TaskSends":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._done:  # the task fails anyway: do not wait for pending sends
            self._sender.producer.purge()


def send_partition(batches: Iterator[pa.RecordBatch], sends: Sends) -> Iterator[pa.RecordBatch]:
    """Send one task's rows (mapInArrow) and commit them; yield one row: how many the task
    wrote (for transactions: sent now, or found sent by an earlier attempt)."""
    with sends.open() as task:
        for batch in batches:
            task.write(batch)
        task.commit()
    yield pa.RecordBatch.from_pydict({"rows": pa.array([task.rows], pa.int64())})


class KafkaSink(Sink):
    """Sends each micro-batch's rows to `topic` as JSON records, once per batch id.

    Guarantee: at-least-once, with a dedup key. A batch whose sends all succeeded is marked
    committed in `state_dir` and a replay of it sends nothing. If a crash hits between the
    sends and the marker (or Spark retries a failed task), some records are sent again with
    the same key `<source topic>/<partition>/<offset>`, so consumers (or a compacted topic)
    can drop the repeats.
    """

    def __init__(
        self,
        topic: str,
        options: Mapping[str, str],
        state_dir: str,
        origin: str = "sinks[0].options",
        start_check_timeout_s: float = 10.0,
        encode: Callable[[pa.RecordBatch], list[bytes]] = json_values,
    ) -> None:
        """Check the producer options now, so a bad option fails at start; `open` checks the
        connection. `origin` is the key prefix of the options, for messages. Values are JSON
        objects, or what `encode` makes of each Arrow batch (`avro_values.AvroValues`).

        Raises
        ------
        ConfigError
            If `kafka.bootstrap.servers` is missing, a serializer is set, or librdkafka
            refuses an option.
        """
        if not options.get(BOOTSTRAP_SERVERS):
            msg = f"kafka sink '{topic}': '{BOOTSTRAP_SERVERS}' is required (e.g. 127.0.0.1:9092)"
            raise ConfigError(msg)
        refused = [key for key in _REFUSED if key in options]
        if refused:
            msg = f"kafka sink '{topic}': options {refused} are not allowed; records are bytes"
            raise ConfigError(msg)
        self.topic = topic
        self._encode = encode
        try:
            self._config = confluent_producer(options)
        except ConfigError as exc:
            msg = f"kafka sink '{topic}': {exc}"
            raise ConfigError(msg) from None
        self._connection = connection_options(options)
        self._origin, self._timeout_s = origin, start_check_timeout_s
        super().__init__(topic, state_dir)

    def open(self, spark: SparkSession) -> None:
        """Attach the commit markers, then check that the producer's cluster can be reached
        (`check_connection`), so a sink that cannot connect fails at start."""
        super().open(spark)
        self.check_connection()

    def check_connection(self) -> None:
        """Connect with the sink's bootstrap servers and security options and list the topics.

        Raises
        ------
        SinkError
            In one line, as soon as the cause is known: authentication failed, SASL mechanism
            not enabled, TLS handshake failed and why (`stream_scorer.kafka.causes`), or no
            broker answered within the start-check timeout.
        """
        target = Target.of(self._connection, self._origin, f"kafka sink '{self.topic}': ")
        check_tls(self._connection, target, self._timeout_s, SinkError)
        check_kafka_python(self._connection, target, self._timeout_s, SinkError)
        check_librdkafka(confluent_config(self._connection), target, self._timeout_s, SinkError)

    def sends(self, batch_id: int) -> Sends:
        """What the tasks of batch `batch_id` need to send its rows."""
        return AtLeastOnce(self.topic, self._config, batch_id, self._encode)

    def task_writes(self, batch_id: int) -> KafkaBatch | None:
        """The receipts folder of batch `batch_id` when the sink's state is local (a local
        master), so that the scoring tasks send the rows themselves; else None."""
        assert self.markers_dir is not None
        path = local_path(join(self.markers_dir, "batches", str(batch_id)))
        return KafkaBatch(path, FileOptions(), sends=self.sends(batch_id)) if path else None

    def _publish(self, batch_id: int, written: BatchDirectory | None) -> None:
        """Mark `batch_id` committed, then drop the tasks' receipts of it, if any."""
        super()._publish(batch_id, written)
        if written is not None:
            shutil.rmtree(written.path, ignore_errors=True)

    def _write_batch(self, df: DataFrame, batch_id: int) -> int:
        """Send the batch's rows from a job over `df`; return how many were written.

        Raises
        ------
        SinkError
            If a coordinate column is missing, or records could not be delivered (a
            transaction failed) after Spark's task retries. The batch then stays
            uncommitted; its replay sends it again (at least once: records already
            delivered are repeated, with the same key; exactly once: only what no
            transaction committed).
        """
        missing = [name for name in COORDINATES if name not in df.columns]
        if missing:
            msg = f"kafka sink '{self.topic}': rows lack the source coordinate columns {missing}"
            raise SinkError(msg)
        send = partial(send_partition, sends=self.sends(batch_id))
        try:
            total = df.mapInArrow(send, "rows long").agg(F.sum("rows")).first()
        except (PySparkException, Py4JJavaError) as exc:
            msg = f"cannot send batch {batch_id} to topic '{self.topic}': {exc}"
            raise SinkError(msg) from exc
        return int(total[0] or 0) if total is not None else 0
