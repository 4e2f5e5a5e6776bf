"""Sinks against a real SparkSession and broker: rows written once per batch id, replays skipped."""

import datetime as dt
import time

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from kafka import KafkaConsumer
from pyspark.sql import functions as F

from stream_scorer.errors import SinkError
from stream_scorer.sinks import BatchHooks, ConsoleSink, KafkaSink, ParquetSink
from stream_scorer.sinks.avro_values import AvroValues
from tests.kafka_helpers import create_topic
from tests.schema_registry_stub import SchemaRegistryStub

pytestmark = pytest.mark.integration

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
SCORED_AT = dt.datetime(2024, 5, 1, 8, 0, 5, 500000, tzinfo=UTC)
PREDICTIONS_SCHEMA = (
    "topic string, partition int, offset long, timestamp timestamp, id string, "
    "prediction double, probability double, probabilities map<string,double>, "
    "model_version string, scored_at timestamp"
)
DEAD_LETTERS_SCHEMA = "topic string, partition int, offset long, value binary, error string"
ROWS = 6


def predictions(spark, first_offset: int = 0, rows: int = ROWS):
    data = [
        (
            "in",
            offset % 2,
            offset,
            T0 + dt.timedelta(seconds=offset),
            f"id-{offset}",
            float(offset % 2),
            0.5 + offset / 100,
            {"0": 0.5 - offset / 100, "1": 0.5 + offset / 100},
            "v0001",
            SCORED_AT,
        )
        for offset in range(first_offset, first_offset + rows)
    ]
    return spark.createDataFrame(data, PREDICTIONS_SCHEMA).repartition(2)


def dead_letters(spark):
    data = [("in", 0, 10, b"{not json", "invalid JSON"), ("in", 1, 11, b"\x00\xff", "not UTF-8")]
    return spark.createDataFrame(data, DEAD_LETTERS_SCHEMA)


def opened(sink, spark):
    sink.open(spark)
    return sink


def consume(bootstrap: str, topic: str, count: int, timeout_s: float = 30.0) -> list:
    """Read `count` records of `topic` from the start, or fail after `timeout_s`."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    records = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(records) < count and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
    finally:
        consumer.close()
    assert len(records) >= count, f"only {len(records)} of {count} records within {timeout_s}s"
    return records


# Parquet


def test_parquet_writes_every_row_of_a_batch(spark, tmp_path):
    sink = opened(ParquetSink(str(tmp_path / "out")), spark)
    assert sink.write(predictions(spark), 0) == ROWS
    back = spark.read.parquet(str(tmp_path / "out"))
    assert sorted(r.offset for r in back.collect()) == list(range(ROWS))
    assert {r.batch_id for r in back.collect()} == {0}


def test_parquet_reader_ignores_commit_markers_and_success_files(spark, tmp_path):
    sink = opened(ParquetSink(str(tmp_path / "out")), spark)
    sink.write(predictions(spark), 0)
    assert (tmp_path / "out" / "_commits" / "0").exists()
    assert (tmp_path / "out" / "batch_id=0" / "_SUCCESS").exists()
    back = spark.read.parquet(str(tmp_path / "out"))
    assert back.columns == [*predictions(spark).columns, "batch_id"]
    assert back.count() == ROWS


def test_parquet_replayed_batch_writes_nothing_twice(spark, tmp_path):
    sink = opened(ParquetSink(str(tmp_path / "out")), spark)
    sink.write(predictions(spark), 3)
    assert sink.write(predictions(spark), 3) == 0
    assert spark.read.parquet(str(tmp_path / "out")).count() == ROWS


def test_parquet_replay_is_skipped_after_a_restart(spark, tmp_path):
    opened(ParquetSink(str(tmp_path / "out")), spark).write(predictions(spark), 3)
    restarted = opened(ParquetSink(str(tmp_path / "out")), spark)
    assert restarted.write(predictions(spark), 3) == 0
    assert spark.read.parquet(str(tmp_path / "out")).count() == ROWS


def test_parquet_next_batch_id_appends(spark, tmp_path):
    sink = opened(ParquetSink(str(tmp_path / "out")), spark)
    sink.write(predictions(spark), 0)
    assert sink.write(predictions(spark, first_offset=ROWS), 1) == ROWS
    back = spark.read.parquet(str(tmp_path / "out"))
    counts = {r.batch_id: r["count"] for r in back.groupBy("batch_id").count().collect()}
    assert counts == {0: ROWS, 1: ROWS}
    assert back.select("offset").distinct().count() == 2 * ROWS


def test_parquet_half_written_batch_is_overwritten_on_replay(spark, tmp_path):
    out = tmp_path / "out"
    predictions(spark).limit(2).write.parquet(str(out / "batch_id=5"))  # crash before marker
    sink = opened(ParquetSink(str(out)), spark)
    assert sink.write(predictions(spark), 5) == ROWS
    back = spark.read.parquet(str(out))
    assert back.count() == ROWS
    assert back.select("offset").distinct().count() == ROWS


def test_parquet_keeps_dead_letter_bytes_and_reasons(spark, tmp_path):
    sink = opened(ParquetSink(str(tmp_path / "dead")), spark)
    assert sink.write(dead_letters(spark), 0) == 2
    back = spark.read.parquet(str(tmp_path / "dead")).orderBy("offset").collect()
    assert [(bytes(r.value), r.error) for r in back] == [
        (b"{not json", "invalid JSON"),
        (b"\x00\xff", "not UTF-8"),
    ]


def test_parquet_empty_batch_is_committed_with_zero_rows(spark, tmp_path):
    sink = opened(ParquetSink(str(tmp_path / "out")), spark)
    assert sink.write(predictions(spark).limit(0), 0) == 0
    assert (tmp_path / "out" / "_commits" / "0").exists()


def task_written(spark, sink: ParquetSink, df, batch_id: int, hooks=None) -> int:
    """Write `df` as the scoring tasks do (one file per partition), then commit it."""
    directory = sink.task_writes(batch_id)
    assert directory is not None
    directory.prepare()
    files = directory.writer(df.schema)
    for partition, table in enumerate([df.toArrow().slice(0, 2), df.toArrow().slice(2)]):
        with files.open(partition) as file:
            for batch in table.to_batches():
                file.write(pa.RecordBatch.from_arrays(batch.columns, schema=files.schema))
            file.commit()
    return sink.commit(directory, batch_id, hooks or BatchHooks())


def test_parquet_task_written_files_read_back_as_spark_writes_them(spark, tmp_path):
    by_spark = opened(ParquetSink(str(tmp_path / "spark")), spark)
    by_tasks = opened(ParquetSink(str(tmp_path / "tasks")), spark)
    assert by_spark.write(predictions(spark), 4) == ROWS
    assert task_written(spark, by_tasks, predictions(spark), 4) == ROWS
    spark_back = spark.read.parquet(str(tmp_path / "spark"))
    tasks_back = spark.read.parquet(str(tmp_path / "tasks"))
    assert tasks_back.schema == spark_back.schema
    assert sorted(tasks_back.collect()) == sorted(spark_back.collect())
    assert by_tasks.committed_batches() == [4]


def test_parquet_task_written_files_take_the_session_timestamp_type(spark, tmp_path):
    key = "spark.sql.parquet.outputTimestampType"
    spark.conf.set(key, "TIMESTAMP_MICROS")
    try:
        sink = opened(ParquetSink(str(tmp_path / "out")), spark)
    finally:
        spark.conf.unset(key)
    task_written(spark, sink, predictions(spark), 0)
    schema = pq.read_schema(next((tmp_path / "out" / "batch_id=0").glob("part-*")))
    assert schema.field("scored_at").type == pa.timestamp("us", tz="UTC")
    back = spark.read.parquet(str(tmp_path / "out")).orderBy("offset").first()
    assert back.scored_at.astimezone(UTC) == SCORED_AT


@pytest.mark.parametrize(("codec", "by_tasks"), [("zstd", True), ("none", True), ("lzo", False)])
def test_parquet_tasks_write_only_in_codecs_pyarrow_has(spark, tmp_path, codec, by_tasks):
    key = "spark.sql.parquet.compression.codec"
    spark.conf.set(key, codec)
    try:
        sink = opened(ParquetSink(str(tmp_path / "out")), spark)
    finally:
        spark.conf.unset(key)
    assert (sink.task_writes(0) is not None) is by_tasks


def test_parquet_hooks_see_task_written_rows_before_the_marker(spark, tmp_path):
    probe = MarkerProbe(tmp_path / "out")
    task_written(
        spark, opened(ParquetSink(str(tmp_path / "out")), spark), predictions(spark), 2, probe
    )
    assert probe.seen == [("sink_written", True, False), ("sink_committed", True, True)]


class MarkerProbe(BatchHooks):
    """Records, at each hook, whether the batch's rows and its commit marker exist."""

    def __init__(self, out) -> None:
        self.out = out
        self.seen: list[tuple[str, bool, bool]] = []

    def sink_written(self, sink, batch_id: int) -> None:
        self._see("sink_written", batch_id)

    def sink_committed(self, sink, batch_id: int) -> None:
        self._see("sink_committed", batch_id)

    def _see(self, hook: str, batch_id: int) -> None:
        rows = (self.out / f"batch_id={batch_id}" / "_SUCCESS").exists()
        self.seen.append((hook, rows, (self.out / "_commits" / str(batch_id)).exists()))


def test_parquet_hooks_see_rows_before_the_marker_then_the_marker(spark, tmp_path):
    probe = MarkerProbe(tmp_path / "out")
    opened(ParquetSink(str(tmp_path / "out")), spark).write(predictions(spark), 2, probe)
    assert probe.seen == [("sink_written", True, False), ("sink_committed", True, True)]


def test_parquet_replay_calls_no_hooks(spark, tmp_path):
    sink, probe = opened(ParquetSink(str(tmp_path / "out")), spark), MarkerProbe(tmp_path / "out")
    sink.write(predictions(spark), 2)
    sink.write(predictions(spark), 2, probe)
    assert probe.seen == []


def test_parquet_write_before_open_is_refused(spark, tmp_path):
    with pytest.raises(SinkError, match=r"before open\(spark\)"):
        ParquetSink(str(tmp_path / "out")).write(predictions(spark), 0)


# Kafka


def kafka_sink(bootstrap, topic, tmp_path, spark):
    options = {"kafka.bootstrap.servers": bootstrap}
    return opened(KafkaSink(topic, options, str(tmp_path / "state")), spark)


def test_kafka_sends_every_row_once_with_json_key_and_headers(spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 2)
    sink = kafka_sink(bootstrap, topic, tmp_path, spark)
    assert sink.write(predictions(spark), 4) == ROWS
    records = consume(bootstrap, topic, ROWS)
    assert sorted(r.key for r in records) == sorted(f"in/{o % 2}/{o}".encode() for o in range(ROWS))
    first = next(r for r in records if r.key == b"in/1/3")
    assert orjson.loads(first.value) == {
        "topic": "in",
        "partition": 1,
        "offset": 3,
        "timestamp": "2024-05-01T08:00:03.000000Z",
        "id": "id-3",
        "prediction": 1.0,
        "probability": 0.53,
        "probabilities": {"0": 0.47, "1": 0.53},
        "model_version": "v0001",
        "scored_at": "2024-05-01T08:00:05.500000Z",
    }
    assert first.headers == [
        ("model_version", b"v0001"),
        ("source_topic", b"in"),
        ("source_partition", b"1"),
        ("source_offset", b"3"),
        ("batch_id", b"4"),
    ]


def test_kafka_sends_avro_with_a_registered_schema(spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 2)
    with SchemaRegistryStub() as registry:
        values = AvroValues(topic, {"url": registry.url})
        options = {"kafka.bootstrap.servers": bootstrap}
        sink = opened(KafkaSink(topic, options, str(tmp_path), encode=values), spark)
        assert sink.write(predictions(spark), 4) == ROWS
        records = consume(bootstrap, topic, ROWS)
        client = SchemaRegistryClient({"url": registry.url})
        deserialize = AvroDeserializer(client)  # confluent-kafka's own reader of the wire format
        context = SerializationContext(topic, MessageField.VALUE)
        rows = {r.key: deserialize(r.value, context) for r in records}

    assert registry.subjects == {f"{topic}-value": [1]}
    assert sorted(rows) == sorted(f"in/{o % 2}/{o}".encode() for o in range(ROWS))
    assert rows[b"in/1/3"] == {
        "topic": "in",
        "partition": 1,
        "offset": 3,
        "timestamp": T0 + dt.timedelta(seconds=3),
        "id": "id-3",
        "prediction": 1.0,
        "probability": 0.53,
        "probabilities": {"0": 0.47, "1": 0.53},
        "model_version": "v0001",
        "scored_at": SCORED_AT,
    }


def test_kafka_replayed_batch_sends_nothing(spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 1)
    sink = kafka_sink(bootstrap, topic, tmp_path, spark)
    sink.write(predictions(spark), 0)
    assert sink.write(predictions(spark), 0) == 0
    sink.write(predictions(spark, first_offset=100, rows=1), 1)  # last record: the end mark
    records = consume(bootstrap, topic, ROWS + 1)
    assert len(records) == ROWS + 1
    assert records[-1].key == b"in/0/100"


def test_kafka_sends_dead_letters_as_base64_without_model_version(spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 1)
    sink = kafka_sink(bootstrap, topic, tmp_path, spark)
    assert sink.write(dead_letters(spark).coalesce(1), 0) == 2
    records = consume(bootstrap, topic, 2)
    assert [orjson.loads(r.value) for r in records] == [
        {
            "topic": "in",
            "partition": 0,
            "offset": 10,
            "value": "e25vdCBqc29u",
            "error": "invalid JSON",
        },
        {"topic": "in", "partition": 1, "offset": 11, "value": "AP8=", "error": "not UTF-8"},
    ]
    assert [name for name, _ in records[0].headers] == [
        "source_topic",
        "source_partition",
        "source_offset",
        "batch_id",
    ]


def test_kafka_failed_send_leaves_the_batch_uncommitted(spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 1)
    options = {"kafka.bootstrap.servers": bootstrap, "kafka.message.max.bytes": "1000"}
    sink = opened(KafkaSink(topic, options, str(tmp_path / "state")), spark)
    too_large = predictions(spark).withColumn("id", F.lit("x" * 2000))  # librdkafka refuses
    with pytest.raises(SinkError, match=f"cannot send batch 2 to topic '{topic}'"):
        sink.write(too_large, 2)
    assert not (tmp_path / "state" / "2").exists()


def test_kafka_rows_without_coordinates_are_refused(spark, bootstrap, tmp_path):
    sink = kafka_sink(bootstrap, "never-created", tmp_path, spark)
    with pytest.raises(SinkError, match=r"\['partition', 'offset'\]"):
        sink.write(spark.createDataFrame([("in", 1.0)], "topic string, prediction double"), 0)


# Console


def test_console_prints_count_and_rows(spark, capsys):
    assert ConsoleSink(num_rows=2).write(predictions(spark).orderBy("offset"), 9) == ROWS
    out = capsys.readouterr().out
    assert out.startswith("batch 9: 6 rows\n")
    assert "id-0" in out
    assert "id-1" in out
    assert "id-2" not in out
    assert "only showing top 2 rows" in out


def test_console_shows_a_dead_letter_reason_first_and_its_value_as_text_or_hex(spark, capsys):
    assert ConsoleSink().write(dead_letters(spark).orderBy("offset"), 4) == 2
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if "error" in line)
    assert header.split("|")[1].strip() == "error"
    assert any("invalid JSON" in line and "{not json" in line for line in lines)
    assert any("not UTF-8" in line and "0x00FF" in line for line in lines)
