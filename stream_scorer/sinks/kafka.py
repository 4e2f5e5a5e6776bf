"""JSON records on a Kafka topic, sent from the executors, skipped on replay of a batch id.

Each row becomes one record: value = the row as a JSON object, key = the dedup key
`<source topic>/<partition>/<offset>`, headers = model version (when the rows have one),
source coordinates and batch id. Rows reach the executors' Python workers as Arrow record
batches (`mapInArrow`); each task sends its rows with one kafka-python producer.
"""

import base64
import logging
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import partial
from typing import Any

import orjson
import pyarrow as pa
from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from stream_scorer.config.kafka_options import BOOTSTRAP_SERVERS
from stream_scorer.errors import ConfigError, SinkError
from stream_scorer.kafka_config import client_config
from stream_scorer.sinks.base import BatchMarkers, Sink

log = logging.getLogger(__name__)

COORDINATES = ("topic", "partition", "offset")
"""Columns every row must have: its source record's coordinates, the dedup key's parts."""
MODEL_VERSION = "model_version"
_PRODUCER_DEFAULTS = {"acks": "all"}
_REFUSED = ("kafka.key.serializer", "kafka.value.serializer")
_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def record_key(row: Mapping[str, Any]) -> bytes:
    """Return the dedup key `<topic>/<partition>/<offset>` of a row's source record."""
    return f"{row['topic']}/{row['partition']}/{row['offset']}".encode()


def record_headers(row: Mapping[str, Any], batch_id: int) -> list[tuple[str, bytes]]:
    """Return the headers of a row's record; `model_version` only if the row has one."""
    headers = [
        ("source_topic", str(row["topic"]).encode()),
        ("source_partition", str(row["partition"]).encode()),
        ("source_offset", str(row["offset"]).encode()),
        ("batch_id", str(batch_id).encode()),
    ]
    version = row.get(MODEL_VERSION)
    if version is not None:
        headers.insert(0, (MODEL_VERSION, str(version).encode()))
    return headers


def encode_value(row: Mapping[str, Any]) -> bytes:
    """Return a row as a JSON object: binary as base64, timestamps ISO-8601, maps as objects.

    Timestamps keep their zone; `utc_batch` puts Spark's timestamps in UTC (suffix `Z`).
    """
    return orjson.dumps(row, default=_json_default, option=_JSON_OPTIONS)


def _json_default(value: object) -> object:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)  # exact, as Spark's own to_json writes decimals
    msg = f"cannot encode {type(value).__name__} as JSON"
    raise TypeError(msg)


def utc_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Return `batch` with every zoned timestamp (nested ones too) in UTC; instants unchanged."""
    schema = pa.schema([field.with_type(_utc(field.type)) for field in batch.schema])
    return batch if schema.equals(batch.schema) else batch.cast(schema)


def _utc(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        return pa.timestamp(kind.unit, tz="UTC")
    if pa.types.is_list(kind):
        return pa.list_(kind.value_field.with_type(_utc(kind.value_type)))
    if pa.types.is_large_list(kind):
        return pa.large_list(kind.value_field.with_type(_utc(kind.value_type)))
    if pa.types.is_struct(kind):
        return pa.struct([field.with_type(_utc(field.type)) for field in kind])
    if pa.types.is_map(kind):
        return pa.map_(kind.key_field, kind.item_field.with_type(_utc(kind.item_type)))
    return kind


def send_partition(
    batches: Iterator[pa.RecordBatch], topic: str, config: Mapping[str, Any], batch_id: int
) -> Iterator[pa.RecordBatch]:
    """Send one task's rows with one producer; yield a single row: how many were sent.

    Runs on an executor. Every record is flushed before the task ends.

    Raises
    ------
    SinkError
        If any record could not be delivered; Spark then retries the task, which sends the
        whole partition again (at-least-once; consumers drop repeats by the record key).
    """
    from kafka import KafkaProducer

    producer = KafkaProducer(**config)
    failures: list[BaseException] = []
    sent = 0
    try:
        for batch in batches:
            for row in utc_batch(batch).to_pylist(maps_as_pydicts="strict"):
                future = producer.send(
                    topic,
                    value=encode_value(row),
                    key=record_key(row),
                    headers=record_headers(row, batch_id),
                )
                future.add_errback(failures.append)
                sent += 1
        producer.flush()
    except BaseException:
        producer.close(timeout=0)  # the task fails anyway: do not wait for pending sends
        raise
    producer.close()
    if failures:
        msg = (
            f"{len(failures)} of {sent} records of batch {batch_id} were not delivered to "
            f"topic '{topic}' (first error: {failures[0]!r}); Spark retries the task"
        )
        raise SinkError(msg)
    yield pa.RecordBatch.from_pydict({"rows": pa.array([sent], pa.int64())})


class KafkaSink(Sink):
    """Sends each micro-batch's rows to `topic` as JSON records, once per batch id.

    Guarantee: at-least-once, with a dedup key. A batch whose sends all succeeded is marked
    committed in `state_dir` and a replay of it sends nothing. If a crash hits between the
    sends and the marker (or Spark retries a failed task), some records are sent again with
    the same key `<source topic>/<partition>/<offset>`, so consumers (or a compacted topic)
    can drop the repeats.
    """

    def __init__(self, topic: str, options: Mapping[str, str], state_dir: str) -> None:
        """Check the producer options now, so a bad option fails at start.

        Raises
        ------
        ConfigError
            If `kafka.bootstrap.servers` is missing, a serializer is set, or an option has
            no kafka-python equivalent.
        """
        if not options.get(BOOTSTRAP_SERVERS):
            msg = f"kafka sink '{topic}': '{BOOTSTRAP_SERVERS}' is required (e.g. 127.0.0.1:9092)"
            raise ConfigError(msg)
        refused = [key for key in _REFUSED if key in options]
        if refused:
            msg = f"kafka sink '{topic}': options {refused} are not allowed; records are bytes"
            raise ConfigError(msg)
        self.topic = topic
        self.state_dir = state_dir
        self._config = {**_PRODUCER_DEFAULTS, **client_config(options, "producer")}
        self._markers: BatchMarkers | None = None

    def open(self, spark: SparkSession) -> None:
        """Attach the commit markers in `state_dir` (created on first commit)."""
        self._markers = BatchMarkers(spark, self.state_dir)

    def write(self, df: DataFrame, batch_id: int) -> int:
        """Send the batch unless already committed; return records sent (0 for a replay).

        Called once per micro-batch on the driver; idempotent for a committed batch_id.

        Raises
        ------
        SinkError
            If `open` was not called, a coordinate column is missing, or records could not be
            delivered after Spark's task retries. The batch then stays uncommitted; its
            replay sends it again (records already delivered are repeated, same key).
        """
        if self._markers is None:
            msg = f"kafka sink '{self.topic}': write() called before open(spark)"
            raise SinkError(msg)
        if self._markers.is_committed(batch_id):
            log.info("batch %d already committed to %s; replay skipped", batch_id, self.topic)
            return 0
        missing = [name for name in COORDINATES if name not in df.columns]
        if missing:
            msg = f"kafka sink '{self.topic}': rows lack the source coordinate columns {missing}"
            raise SinkError(msg)
        send = partial(send_partition, topic=self.topic, config=self._config, batch_id=batch_id)
        try:
            sent = df.mapInArrow(send, "rows long").agg(F.sum("rows")).first()[0]
        except (PySparkException, Py4JJavaError) as exc:
            msg = f"cannot send batch {batch_id} to topic '{self.topic}': {exc}"
            raise SinkError(msg) from exc
        self._markers.mark_committed(batch_id)
        return int(sent or 0)
