"""One task's Kafka transactions: each source partition's rows of a batch committed once.

Executor side of the exactly-once Kafka sink (`sinks.kafka_exactly_once`), as Kafka Streams
writes a task's output. A task's rows are grouped by their source topic-partition (one group:
a task scores one input partition, as the scorer plans them). For each, a confluent-kafka
(librdkafka) producer with the transactional id `<group>-<topic>-<partition>`, the same for
every batch and restart:

1. `init_transactions` fences a producer a killed scorer left running (a zombie) and aborts
   its open transaction;
2. then the sink's consumer group's committed offset of the source partition is read: past
   the first offset of the rows, this range is in Kafka already (a replay) and nothing is
   sent;
3. otherwise the rows go in one transaction, committed with the offset after the last row
   sent to the group (`send_offsets_to_transaction`): records and offset, both or neither.

A `read_committed` consumer therefore sees each row once, whatever kills and replays hit
the scorer. A failure before the commit aborts the transaction (a kill leaves it open until
the restarted task's step 1, or the broker's `transaction.timeout.ms`).
"""

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from stream_scorer.errors import SinkError
from stream_scorer.sinks.json_values import json_values
from stream_scorer.sinks.kafka_producer import RecordSender

_TIMEOUT_S = 60.0
"""How long a transaction call (init, offsets, commit) or the offset read may take."""
_ABORT_S = 5.0


def transactional_id(group: str, topic: str, partition: int) -> str:
    """The id of the producer of source partition `topic`/`partition`'s rows for `group`."""
    return f"{group}-{topic}-{partition}"


@dataclasses.dataclass(frozen=True)
class Transactions:
    """What a task needs to write its rows of batch `batch_id` to `topic` in transactions."""

    topic: str
    producer: Mapping[str, str]
    """librdkafka producer settings, without the transactional id."""
    consumer: Mapping[str, str]
    """librdkafka settings that reach the cluster (servers, security): the group's reader."""
    group: str
    """The consumer group the source offsets are committed to; prefix of the producers' ids."""
    batch_id: int
    encode: Callable[[pa.RecordBatch], list[bytes]] = json_values

    def open(self) -> "TaskTransactions":
        """Start a task's transactions; nothing is visible before `commit`."""
        return TaskTransactions(self)


class TaskTransactions:
    """A task's open transactions, one per source partition of its rows (usually one).

    Used as a context manager: leaving it without `commit` aborts what is open.
    """

    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions
        self._open: dict[tuple[str, int], _Partition] = {}
        self._reader: Any = None
        self.rows = 0
        """Rows written: sent now, or found sent by an earlier attempt."""
        self.sent = 0
        """Rows sent by this task."""

    def write(self, batch: pa.RecordBatch) -> None:
        """Send `batch`'s rows (with the source coordinates) in their partitions' transactions.

        Raises
        ------
        SinkError
            If a transaction cannot be started (fenced, or the broker has no transactions).
        """
        for (topic, partition), rows in _by_source(batch):
            part = self._open.get((topic, partition))
            if part is None:
                first = int(pc.min(rows.column("offset")).as_py())
                part = self._open[topic, partition] = self._start(topic, partition, first)
            part.send(rows)
            self.rows += rows.num_rows
            self.sent += 0 if part.sent_before else rows.num_rows

    def _start(self, topic: str, partition: int, first: int) -> "_Partition":
        import confluent_kafka as ck

        tx = self._tx
        name = transactional_id(tx.group, topic, partition)
        try:
            config = {**tx.producer, "transactional.id": name}
            sender = RecordSender.open(config, tx.topic, tx.batch_id, tx.encode)
            producer = sender.producer
            producer.init_transactions(_TIMEOUT_S)  # fences a zombie, aborts its transaction
            if self._reader is None:
                self._reader = ck.Consumer(
                    {**tx.consumer, "group.id": tx.group, "enable.auto.commit": False}
                )
            [found] = self._reader.committed([ck.TopicPartition(topic, partition)], _TIMEOUT_S)
            if found.error is not None:
                raise ck.KafkaException(found.error)
        except Exception as exc:
            msg = (
                f"cannot start the transaction '{name}' of batch {tx.batch_id} to topic "
                f"'{tx.topic}': {exc!r}; Spark retries the batch"
            )
            raise SinkError(msg) from exc
        sent_before = found.offset >= 0 and found.offset > first  # < 0: none committed
        if not sent_before:
            producer.begin_transaction()
        return _Partition(sender, ck.TopicPartition(topic, partition), first, sent_before)

    def commit(self, check: bool = True) -> None:
        """Commit every open transaction with its source offset (see the module).

        Raises
        ------
        SinkError
            If a record was not delivered or a commit failed (fenced by a newer task of the
            same partition); that transaction is aborted, nothing of it visible.
        """
        for part in self._open.values():
            part.commit(self._tx, self._reader)

    def __enter__(self) -> "TaskTransactions":
        return self

    def __exit__(self, *exc_info: object) -> None:
        for part in self._open.values():
            part.close()
        if self._reader is not None:
            self._reader.close()


@dataclasses.dataclass
class _Partition:
    """The transaction of one source partition's rows in a task."""

    sender: RecordSender
    source: Any
    """The confluent-kafka TopicPartition of the source partition."""
    first: int
    sent_before: bool
    """True if the group's offset says an earlier attempt committed these rows."""
    last: int = -1
    done: bool = False

    def send(self, rows: pa.RecordBatch) -> None:
        self.last = max(self.last, int(pc.max(rows.column("offset")).as_py()))
        if not self.sent_before:
            self.sender.send(rows)

    def commit(self, tx: Transactions, reader: Any) -> None:
        if self.sent_before or self.done:
            return
        import confluent_kafka as ck

        where = f"{self.source.topic}/{self.source.partition}"
        producer = self.sender.producer
        try:
            self.sender.flush(f"batch {tx.batch_id} from {where}")
            offsets = [ck.TopicPartition(self.source.topic, self.source.partition, self.last + 1)]
            producer.send_offsets_to_transaction(
                offsets, reader.consumer_group_metadata(), _TIMEOUT_S
            )
            producer.commit_transaction(_TIMEOUT_S)
        except Exception as exc:
            msg = (
                f"the transaction of batch {tx.batch_id} from {where} to topic '{tx.topic}' "
                f"failed and is aborted: {exc}; Spark retries the batch"
            )
            raise SinkError(msg) from exc
        self.done = True

    def close(self) -> None:
        if not (self.sent_before or self.done):
            # fenced or unreachable: the broker aborts it at the next init or its timeout
            with contextlib.suppress(Exception):
                self.sender.producer.purge()
                self.sender.producer.abort_transaction(_ABORT_S)


def _by_source(batch: pa.RecordBatch) -> Iterator[tuple[tuple[str, int], pa.RecordBatch]]:
    """The rows of `batch` by source topic-partition (one group in the common case)."""
    if not batch.num_rows:
        return
    topics, partitions = batch.column("topic"), batch.column("partition")
    first = (topics[0].as_py(), int(partitions[0].as_py()))
    same = pc.all(pc.and_(pc.equal(topics, first[0]), pc.equal(partitions, first[1])))
    if same.as_py():
        yield first, batch
        return
    pairs = {(t, int(p)) for t, p in zip(topics.to_pylist(), partitions.to_pylist(), strict=True)}
    for topic, partition in sorted(pairs):
        mask = pc.and_(pc.equal(topics, topic), pc.equal(partitions, partition))
        yield (topic, partition), batch.filter(mask)
