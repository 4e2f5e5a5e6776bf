"""One task's Kafka transactions: each source partition's rows of a batch committed once.

Executor side of the exactly-once Kafka sink (`sinks.kafka_exactly_once`), as Kafka Streams
writes a task's output. A task's rows are grouped by their source topic-partition (one group:
a task scores one input partition, as the scorer plans them). For each, a producer with the
transactional id `<group>-<topic>-<partition>`, the same for every batch and restart:

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
from stream_scorer.sinks.kafka import json_values, record_headers, record_keys

_CLOSE_S = 10.0


def transactional_id(group: str, topic: str, partition: int) -> str:
    """The id of the producer of source partition `topic`/`partition`'s rows for `group`."""
    return f"{group}-{topic}-{partition}"


@dataclasses.dataclass(frozen=True)
class Transactions:
    """What a task needs to write its rows of batch `batch_id` to `topic` in transactions."""

    topic: str
    producer: Mapping[str, Any]
    """kafka-python producer settings, without the transactional id."""
    consumer: Mapping[str, Any]
    """kafka-python settings that reach the cluster (servers, security): the group's reader."""
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
            part.send(rows, self._tx)
            self.rows += rows.num_rows
            self.sent += 0 if part.sent_before else rows.num_rows

    def _start(self, topic: str, partition: int, first: int) -> "_Partition":
        from kafka import KafkaConsumer, KafkaProducer, TopicPartition

        tx = self._tx
        name = transactional_id(tx.group, topic, partition)
        try:
            producer = KafkaProducer(**tx.producer, transactional_id=name)
            producer.init_transactions()  # fences a zombie of this id, aborts its transaction
            if self._reader is None:
                self._reader = KafkaConsumer(
                    **tx.consumer, group_id=tx.group, enable_auto_commit=False
                )
            committed = self._reader.committed(TopicPartition(topic, partition))
        except Exception as exc:
            msg = (
                f"cannot start the transaction '{name}' of batch {tx.batch_id} to topic "
                f"'{tx.topic}': {exc!r}; Spark retries the batch"
            )
            raise SinkError(msg) from exc
        sent_before = committed is not None and committed > first
        if not sent_before:
            producer.begin_transaction()
        return _Partition(producer, TopicPartition(topic, partition), first, sent_before)

    def commit(self, check: bool = True) -> None:
        """Commit every open transaction with its source offset (see the module).

        Raises
        ------
        SinkError
            If a record was not delivered or a commit failed (fenced by a newer task of the
            same partition); that transaction is aborted, nothing of it visible.
        """
        for part in self._open.values():
            part.commit(self._tx)

    def __enter__(self) -> "TaskTransactions":
        return self

    def __exit__(self, *exc_info: object) -> None:
        for part in self._open.values():
            part.close()
        if self._reader is not None:
            self._reader.close(autocommit=False)


@dataclasses.dataclass
class _Partition:
    """The transaction of one source partition's rows in a task."""

    producer: Any
    source: Any
    """The kafka-python TopicPartition of the source partition."""
    first: int
    sent_before: bool
    """True if the group's offset says an earlier attempt committed these rows."""
    last: int = -1
    failures: list[BaseException] = dataclasses.field(default_factory=list)
    done: bool = False

    def send(self, rows: pa.RecordBatch, tx: Transactions) -> None:
        self.last = max(self.last, int(pc.max(rows.column("offset")).as_py()))
        if self.sent_before:
            return
        values, keys = tx.encode(rows), record_keys(rows)
        records = zip(values, keys, record_headers(rows, tx.batch_id), strict=True)
        for value, key, headers in records:
            future = self.producer.send(tx.topic, value=value, key=key, headers=headers)
            future.add_errback(self.failures.append)

    def commit(self, tx: Transactions) -> None:
        if self.sent_before or self.done:
            return
        from kafka.structs import OffsetAndMetadata

        try:
            self.producer.flush()
            if self.failures:
                msg = f"{len(self.failures)} records not delivered (first: {self.failures[0]!r})"
                raise SinkError(msg)
            offsets = {self.source: OffsetAndMetadata(self.last + 1, "", -1)}
            self.producer.send_offsets_to_transaction(offsets, tx.group)
            self.producer.commit_transaction()
        except Exception as exc:
            msg = (
                f"the transaction of batch {tx.batch_id} from {self.source.topic}/"
                f"{self.source.partition} to topic '{tx.topic}' failed and is aborted: {exc}; "
                "Spark retries the batch"
            )
            raise SinkError(msg) from exc
        self.done = True

    def close(self) -> None:
        if not (self.sent_before or self.done):
            # fenced or unreachable: the broker aborts it at the next init or its timeout
            with contextlib.suppress(Exception):
                self.producer.abort_transaction()
        self.producer.close(timeout=_CLOSE_S if self.done else 0)


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


def send_in_transactions(
    batches: Iterator[pa.RecordBatch], transactions: Transactions
) -> Iterator[pa.RecordBatch]:
    """Write one task's rows in transactions (mapInArrow); yield one row: how many the
    task wrote (sent now, or found sent by an earlier attempt)."""
    with transactions.open() as task:
        for batch in batches:
            task.write(batch)
        task.commit()
    yield pa.RecordBatch.from_pydict({"rows": pa.array([task.rows], pa.int64())})
