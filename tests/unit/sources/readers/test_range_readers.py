"""The range reader contract, run against both Kafka clients over in-memory stand-in consumers.

Each client's stand-in serves the same `FakeLog` three records a call: records from
`earliest` on, and the log's end at `end` (past the last record when the tail holds
compacted records or transaction markers).
"""

from dataclasses import dataclass, field
from typing import Any

import confluent_kafka as ck
import pytest
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import OffsetOutOfRangeError

from stream_scorer.errors import ConfigError, SourceError
from stream_scorer.kafka.schema import kafka_schema
from stream_scorer.kafka.source_options import SourceOptions, Subscription
from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.readers import base, confluent, kafka_python
from stream_scorer.sources.readers.confluent import ConfluentReader
from stream_scorer.sources.readers.kafka_python import KafkaPythonReader
from stream_scorer.types import arrow_schema

SCHEMA = arrow_schema(kafka_schema(False))
HEADERS_SCHEMA = arrow_schema(kafka_schema(True))
TIMESTAMP_MS = 1_700_000_000_123


@dataclass
class Record:
    """One record of the fake log, in no client's shape."""

    offset: int
    headers: list[tuple[str, bytes]] | None = None
    log_append_time: bool = False


@dataclass
class FakeLog:
    """What a stand-in consumer serves, and what the reader asked of it."""

    records: list[Record] = field(default_factory=list)
    end: int = 0
    earliest: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    closed: int = 0

    def after(self, position: int) -> list[Record]:
        return [r for r in self.records if r.offset >= position][:3]


class KafkaPythonConsumer:
    """kafka-python's KafkaConsumer over a FakeLog; the position may pass the last record."""

    def __init__(self, log: FakeLog, **settings: Any) -> None:
        self.log, self.pos = log, 0
        log.settings = settings

    def assign(self, tps):
        self.tp = tps[0]

    def seek(self, tp, offset):
        self.pos = offset

    def poll(self, timeout_ms, max_records):
        if self.pos < self.log.earliest:
            raise OffsetOutOfRangeError({self.tp: self.pos})
        batch = self.log.after(self.pos)
        self.pos = batch[-1].offset + 1 if batch else max(self.pos, self.log.end)
        return {self.tp: [self._record(r) for r in batch]} if batch else {}

    def position(self, tp):
        return self.pos

    def beginning_offsets(self, tps):
        return dict.fromkeys(tps, self.log.earliest)

    def close(self):
        self.log.closed += 1

    @staticmethod
    def _record(r: Record) -> ConsumerRecord:
        value, ts_type = f"v{r.offset}".encode(), int(r.log_append_time)
        headers = list(r.headers or [])
        return ConsumerRecord(
            "t", 0, 0, r.offset, TIMESTAMP_MS, ts_type, b"k", value, headers, None, 1, 2, 0
        )


class ConfluentConsumer:
    """confluent-kafka's Consumer over a FakeLog; an EOF event at the log's end."""

    def __init__(self, log: FakeLog, settings: dict[str, Any]) -> None:
        self.log, self.pos, self.eof_sent = log, -1001, False
        log.settings = settings

    def assign(self, tps):
        self.pos, self.eof_sent = tps[0].offset, False

    def consume(self, num_messages, timeout):
        if self.pos < self.log.earliest:
            return [self._event(ck.KafkaError._AUTO_OFFSET_RESET)]
        batch = self.log.after(self.pos)
        if batch:
            self.pos = batch[-1].offset + 1
            return [self._message(r) for r in batch]
        if self.eof_sent or self.log.end <= self.pos:
            return []
        self.eof_sent = True
        return [self._event(ck.KafkaError._PARTITION_EOF, self.log.end)]

    def position(self, tps):
        return [ck.TopicPartition("t", 0, self.pos)]

    def get_watermark_offsets(self, tp, timeout, cached):
        return self.log.earliest, self.log.end

    def close(self):
        self.log.closed += 1

    @staticmethod
    def _message(r: Record) -> ck.Message:
        ts_type = 2 if r.log_append_time else 1  # librdkafka: 1 create, 2 log append
        return ck.Message(
            topic="t",
            partition=0,
            offset=r.offset,
            key=b"k",
            value=f"v{r.offset}".encode(),
            headers=r.headers,
            timestamp=(ts_type, TIMESTAMP_MS),
        )

    @staticmethod
    def _event(code: int, offset: int = -1001) -> ck.Message:
        return ck.Message(topic="t", partition=0, offset=offset, error=ck.KafkaError(code))


@pytest.fixture(params=[KafkaPythonReader, ConfluentReader], ids=["kafka-python", "confluent"])
def reader(request) -> type[base.RangeReader]:
    """A reader class whose client is a stand-in consumer over the test's `log`."""
    return request.param


@pytest.fixture
def log(reader, monkeypatch) -> FakeLog:
    fake_log = FakeLog()
    if reader is KafkaPythonReader:
        monkeypatch.setattr(
            kafka_python, "KafkaConsumer", lambda **s: KafkaPythonConsumer(fake_log, **s)
        )
    else:
        monkeypatch.setattr(confluent.ck, "Consumer", lambda s: ConfluentConsumer(fake_log, s))
    return fake_log


def opts(fail_on_data_loss: bool = True, **kafka: str) -> SourceOptions:
    return SourceOptions(
        Subscription("subscribe", topics=("t",)),
        fail_on_data_loss=fail_on_data_loss,
        poll_timeout_ms=30,
        kafka={"kafka.bootstrap.servers": "127.0.0.1:1", **kafka},
    )


def offsets(reader, start: int, until: int, options: SourceOptions | None = None) -> list[int]:
    batches = reader(options or opts(), SCHEMA).read(OffsetRange("t", 0, start, until))
    return [o for b in batches for o in b.column("offset").to_pylist()]


def test_reads_exactly_the_range(reader, log):
    log.records, log.end = [Record(i) for i in range(10)], 10
    assert offsets(reader, 2, 6) == [2, 3, 4, 5]


def test_gap_at_the_end_finishes_at_the_log_end(reader, log):
    log.records, log.end = [Record(0), Record(1), Record(3)], 5  # 2 compacted, 4 a marker
    assert offsets(reader, 0, 5) == [0, 1, 3]


def test_batches_match_sparks_arrow_schema(reader, log):
    log.records, log.end = [Record(0), Record(1)], 2
    (batch,) = reader(opts(), SCHEMA).read(OffsetRange("t", 0, 0, 2))
    assert batch.schema.equals(SCHEMA)
    row = batch.to_pylist()[1]
    assert row["timestamp"].isoformat() == "2023-11-14T22:13:20.123000+00:00"
    assert (row["key"], row["value"], row["topic"], row["partition"]) == (b"k", b"v1", "t", 0)


def test_timestamp_types_are_sparks_create_0_and_log_append_1(reader, log):
    log.records, log.end = [Record(0), Record(1, log_append_time=True)], 2
    (batch,) = reader(opts(), SCHEMA).read(OffsetRange("t", 0, 0, 2))
    assert batch.column("timestampType").to_pylist() == [0, 1]


def test_no_headers_give_null_and_headers_keep_order(reader, log):
    log.records, log.end = [Record(0), Record(1, [("a", b"1"), ("b", b"")])], 2
    (batch,) = reader(opts(), HEADERS_SCHEMA).read(OffsetRange("t", 0, 0, 2))
    assert batch.schema.equals(HEADERS_SCHEMA)
    assert batch.column("headers").to_pylist() == [
        None,
        [{"key": "a", "value": b"1"}, {"key": "b", "value": b""}],
    ]


def test_batches_hold_at_most_rows_per_batch(reader, log):
    log.records, log.end = [Record(i) for i in range(10)], 10
    batches = list(reader(opts(), SCHEMA, rows_per_batch=4).read(OffsetRange("t", 0, 0, 10)))
    assert [b.num_rows for b in batches] == [4, 4, 2]


def test_consumer_is_closed_after_the_read(reader, log):
    log.records, log.end = [Record(0)], 1
    offsets(reader, 0, 1)
    assert log.closed == 1


def test_no_progress_raises_naming_partition_and_offsets(reader, log):
    log.records, log.end = [Record(0), Record(1)], 2
    with pytest.raises(SourceError, match=r"topic 't' partition 0 range \[0, 5\) at offset 2"):
        offsets(reader, 0, 5)


def test_no_progress_with_fail_on_data_loss_false_cuts_the_range(reader, log):
    log.records, log.end = [Record(0), Record(1)], 2
    assert offsets(reader, 0, 5, opts(fail_on_data_loss=False)) == [0, 1]


def test_aged_out_records_raise_with_the_hint(reader, log):
    log.records, log.end, log.earliest = [Record(i) for i in range(4, 8)], 8, 4
    with pytest.raises(SourceError, match="Set failOnDataLoss=false to skip them"):
        offsets(reader, 1, 8)


def test_aged_out_records_with_fail_on_data_loss_false_resume_at_earliest(reader, log):
    log.records, log.end, log.earliest = [Record(i) for i in range(4, 8)], 8, 4
    assert offsets(reader, 1, 8, opts(fail_on_data_loss=False)) == [4, 5, 6, 7]


@pytest.mark.parametrize("reader", [KafkaPythonReader], indirect=True)
def test_kafka_python_consumer_has_no_group_no_commits_and_no_offset_reset(reader, log):
    log.records, log.end = [Record(0)], 1
    offsets(reader, 0, 1, opts(**{"kafka.group.id": "mine"}))
    s = log.settings
    assert (s["group_id"], s["enable_auto_commit"], s["auto_offset_reset"]) == (None, False, "none")


@pytest.mark.parametrize("reader", [ConfluentReader], indirect=True)
def test_confluent_consumer_joins_a_throwaway_group_commits_nothing_and_never_resets(reader, log):
    log.records, log.end = [Record(0)], 1
    offsets(reader, 0, 1, opts(**{"kafka.group.id": "mine"}))
    s = log.settings
    assert s["group.id"].startswith("stream-scorer-unused-")
    assert (s["enable.auto.commit"], s["auto.offset.reset"]) == (False, "error")
    assert s["isolation.level"] == "read_uncommitted"


def test_option_librdkafka_does_not_know_is_a_config_error():
    rng = OffsetRange("t", 0, 0, 1)
    reader = ConfluentReader(opts(**{"kafka.no.such.setting": "1"}), SCHEMA)
    with pytest.raises(ConfigError, match=r"confluent-kafka refused the kafka\.\* options"):
        list(reader.read(rng))
