"""JSON records on a Kafka topic, sent from the executors, skipped on replay of a batch id.

Each row becomes one record: value = the row as a JSON object (or as Avro with a registered
schema, `avro_values`), key = the dedup key
`<source topic>/<partition>/<offset>`, headers = model version (when the rows have one),
source coordinates and batch id. Rows reach the executors' Python workers as Arrow record
batches (`mapInArrow`); each task sends its rows with one kafka-python producer.
"""

import base64
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from functools import partial
from itertools import pairwise
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from stream_scorer.errors import ConfigError, SinkError
from stream_scorer.kafka.causes import Target
from stream_scorer.kafka.client_config import client_config
from stream_scorer.kafka.options import BOOTSTRAP_SERVERS, connection_options
from stream_scorer.kafka.reach import check_kafka_python, check_tls
from stream_scorer.sinks.base import Sink

COORDINATES = ("topic", "partition", "offset")
"""Columns every row must have: its source record's coordinates, the dedup key's parts."""
MODEL_VERSION = "model_version"
_HEADERS = ("source_topic", "source_partition", "source_offset")
# linger.ms: the Java client's default since Kafka 4.0; batch.size: 4x Java's. Together about 2x
# the records/s of kafka-python's 0 ms / 16 KiB (bench.kafka_sink_quick); options override them.
_PRODUCER_DEFAULTS = {"acks": "all", "linger_ms": 5, "batch_size": 65536}
_REFUSED = ("kafka.key.serializer", "kafka.value.serializer")
_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
_ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"  # %S carries the fraction: 05.500000


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
    return [
        [*((name, v) for name, v in zip(names, row, strict=True) if v is not None), last]
        for row in zip(*values, strict=True)
    ]


def _as_bytes(column: pa.Array) -> list[bytes | None]:
    return column.cast(pa.string()).cast(pa.binary()).to_pylist()


def encode_value(row: Mapping[str, Any]) -> bytes:
    """Return a row as a JSON object: binary as base64, maps as objects, lists as arrays.

    Zoned timestamps left as `datetime` (nested ones, see `batch_rows`) become ISO-8601
    strings, with the suffix `Z` in UTC.
    """
    return orjson.dumps(row, default=_json_default, option=_JSON_OPTIONS)


def _json_default(value: object) -> object:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)  # exact, as Spark's own to_json writes decimals
    msg = f"cannot encode {type(value).__name__} as JSON"
    raise TypeError(msg)


def batch_rows(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    """Return the rows of an Arrow batch as dicts for `encode_value`, converted column-wise.

    Top-level zoned timestamps become ISO-8601 UTC strings (`2024-05-01T08:00:05.500000Z`)
    and maps become dicts, both without a Python object per value on the way (the slow
    part of `to_pylist`); nested zoned timestamps become UTC datetimes.
    """
    columns = [_column_values(column) for column in batch.columns]
    names = batch.schema.names
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _column_values(column: pa.Array) -> list[Any]:
    kind = column.type
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        utc = column.cast(pa.timestamp(kind.unit, tz="UTC"))
        return pc.strftime(utc, format=_ISO_UTC).to_pylist()
    if pa.types.is_map(kind) and column.null_count == 0:
        keys = column.keys.to_pylist()
        items = column.items.cast(_utc(kind.item_type)).to_pylist(maps_as_pydicts="strict")
        bounds = column.offsets.to_pylist()
        return [dict(zip(keys[a:b], items[a:b], strict=True)) for a, b in pairwise(bounds)]
    return column.cast(_utc(kind)).to_pylist(maps_as_pydicts="strict")


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


def json_values(batch: pa.RecordBatch) -> list[bytes]:
    """The rows of `batch` as JSON objects (`encode_value`)."""
    return list(map(encode_value, batch_rows(batch)))


def send_partition(
    batches: Iterator[pa.RecordBatch],
    topic: str,
    config: Mapping[str, Any],
    batch_id: int,
    encode: Callable[[pa.RecordBatch], list[bytes]] = json_values,
) -> Iterator[pa.RecordBatch]:
    """Send one task's rows with one producer, each value as `encode` makes it; yield a
    single row: how many were sent.

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
            records = zip(
                encode(batch),
                record_keys(batch),
                record_headers(batch, batch_id),
                strict=True,
            )
            for value, key, headers in records:
                producer.send(topic, value=value, key=key, headers=headers).add_errback(
                    failures.append
                )
            sent += batch.num_rows
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
        self._encode = encode
        self._config = {**_PRODUCER_DEFAULTS, **client_config(options, "producer")}
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

    def _write_batch(self, df: DataFrame, batch_id: int) -> int:
        """Send the batch's rows from the executors; return how many records were sent.

        Raises
        ------
        SinkError
            If a coordinate column is missing, or records could not be delivered after
            Spark's task retries. The batch then stays uncommitted; its replay sends it
            again (records already delivered are repeated, with the same key).
        """
        missing = [name for name in COORDINATES if name not in df.columns]
        if missing:
            msg = f"kafka sink '{self.topic}': rows lack the source coordinate columns {missing}"
            raise SinkError(msg)
        send = partial(
            send_partition,
            topic=self.topic,
            config=self._config,
            batch_id=batch_id,
            encode=self._encode,
        )
        try:
            total = df.mapInArrow(send, "rows long").agg(F.sum("rows")).first()
        except (PySparkException, Py4JJavaError) as exc:
            msg = f"cannot send batch {batch_id} to topic '{self.topic}': {exc}"
            raise SinkError(msg) from exc
        return int(total[0] or 0) if total is not None else 0
