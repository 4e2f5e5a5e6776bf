"""The Kafka sinks' producer on the executors: confluent-kafka (librdkafka), batch by batch.

Its settings are the sink's `kafka.*` options in librdkafka's names, security included
(`kafka.client_config.confluent_producer`). `RecordSender` sends the rows of Arrow
batches, one record per row: value as the sink encodes it, key `<source topic>/<partition>/
<offset>`, headers model version (when the rows have one), source coordinates and batch id.
librdkafka batches, compresses (if `kafka.compression.type` says so) and sends from its own
threads while the task goes on scoring; `flush` waits for every delivery report.
"""

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from stream_scorer.errors import SinkError

COORDINATES = ("topic", "partition", "offset")
"""Columns every row must have: its source record's coordinates, the dedup key's parts."""
MODEL_VERSION = "model_version"
_HEADERS = ("source_topic", "source_partition", "source_offset")
FLUSH_S = 120.0
"""How long `flush` waits for the last delivery reports before the task fails."""
_POLL_S = 0.05


def record_keys(batch: pa.RecordBatch) -> list[bytes]:
    """Return each row's dedup key `<topic>/<partition>/<offset>` (its source record's)."""
    parts = [batch.column(name).cast(pa.string()) for name in COORDINATES]
    return pc.binary_join_element_wise(*parts, "/").cast(pa.binary()).to_pylist()


def record_headers(batch: pa.RecordBatch, batch_id: int) -> list[list[tuple[str, bytes]]]:
    """Return each row's headers: model version (if set), source coordinates, batch id."""
    columns = dict(zip(_HEADERS, COORDINATES, strict=True))
    if MODEL_VERSION in batch.schema.names:
        columns = {MODEL_VERSION: MODEL_VERSION, **columns}
    names = list(columns)
    values = [_as_bytes(batch.column(column)) for column in columns.values()]
    last = ("batch_id", str(batch_id).encode())
    if not any(batch.column(column).null_count for column in columns.values()):
        return [[*zip(names, row, strict=True), last] for row in zip(*values, strict=True)]
    return [
        [*((name, v) for name, v in zip(names, row, strict=True) if v is not None), last]
        for row in zip(*values, strict=True)
    ]


def _as_bytes(column: pa.Array) -> list[bytes | None]:
    return column.cast(pa.string()).cast(pa.binary()).to_pylist()


@dataclasses.dataclass
class RecordSender:
    """One producer's records of a task: `send` Arrow batches, then `flush` (executor side).

    `producer` is a confluent-kafka `Producer` (`open`); a record librdkafka could not
    deliver is kept in `failures` (its delivery report's error) and fails `flush`.
    """

    producer: Any
    topic: str
    batch_id: int
    encode: Callable[[pa.RecordBatch], list[bytes]]
    failures: list[Any] = dataclasses.field(default_factory=list)

    @classmethod
    def open(
        cls,
        config: Mapping[str, str],
        topic: str,
        batch_id: int,
        encode: Callable[[pa.RecordBatch], list[bytes]],
    ) -> "RecordSender":
        """A sender with a new producer of `config` (librdkafka settings); librdkafka reports
        failed deliveries only (no Python call per record delivered)."""
        import confluent_kafka as ck

        failures: list[Any] = []

        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                failures.append(error)

        reports = {"delivery.report.only.error": True, "on_delivery": delivered}
        return cls(ck.Producer({**config, **reports}), topic, batch_id, encode, failures)

    def send(self, rows: pa.RecordBatch) -> None:
        """Queue one record per row of `rows`; waits while librdkafka's queue is full."""
        produce, poll, topic = self.producer.produce, self.producer.poll, self.topic
        values, keys = self.encode(rows), record_keys(rows)
        records = zip(values, keys, record_headers(rows, self.batch_id), strict=True)
        for value, key, headers in records:
            while True:
                try:
                    produce(topic, value, key, headers=headers)
                    break
                except BufferError:  # queue full: librdkafka sends (or times records out)
                    poll(_POLL_S)
        poll(0)  # serve the delivery reports so far

    def flush(self, what: str) -> None:
        """Wait until every record queued was delivered or failed.

        Raises
        ------
        SinkError
            If a record was not delivered (or not within `FLUSH_S`), naming `what` was sent.
        """
        left = self.producer.flush(FLUSH_S)
        if self.failures or left:
            first = self.failures[0] if self.failures else f"{left} still queued after {FLUSH_S} s"
            failed = len(self.failures) + left
            msg = f"{failed} records of {what} were not delivered (first error: {first})"
            raise SinkError(msg)
