"""Executor-side reads over confluent-kafka, against an in-memory stand-in for its Consumer."""

from typing import ClassVar

import confluent_kafka as ck
import pytest
from pyspark.sql.pandas.types import to_arrow_schema

from stream_scorer.errors import ConfigError, SourceError
from stream_scorer.kafka.schema import kafka_schema
from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.options import SourceOptions, Subscription
from stream_scorer.sources.readers import confluent, kafka_python

SCHEMA = to_arrow_schema(kafka_schema(False), timezone="UTC")
EOF_CODE = ck.KafkaError._PARTITION_EOF


def message(offset: int, headers=None, ts_type: int = 1) -> ck.Message:
    return ck.Message(
        topic="t",
        partition=0,
        offset=offset,
        key=b"k",
        value=f"v{offset}".encode(),
        headers=headers,
        timestamp=(ts_type, 1_700_000_000_123),
    )


def event(code: int, offset: int = -1001) -> ck.Message:
    return ck.Message(topic="t", partition=0, offset=offset, error=ck.KafkaError(code))


class FakeConsumer:
    """Serves `log` from `earliest` three messages a call, then an EOF event at `end`."""

    log: ClassVar[list[ck.Message]] = []
    end = 0
    earliest = 0
    settings: ClassVar[dict] = {}

    def __init__(self, settings):
        FakeConsumer.settings = settings
        self.pos = -1001
        self.eof_sent = False

    def assign(self, tps):
        self.pos, self.eof_sent = tps[0].offset, False

    def consume(self, num_messages, timeout):
        if self.pos < self.earliest:
            return [event(ck.KafkaError._AUTO_OFFSET_RESET)]
        batch = [m for m in self.log if m.offset() >= self.pos][:3]
        if batch:
            self.pos = batch[-1].offset() + 1
            return batch
        if self.eof_sent or self.end <= self.pos:
            return []
        self.eof_sent = True
        return [event(EOF_CODE, self.end)]

    def position(self, tps):
        return [ck.TopicPartition("t", 0, self.pos)]

    def get_watermark_offsets(self, tp, timeout, cached):
        return self.earliest, self.end

    def close(self):
        pass


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(ck, "Consumer", FakeConsumer)
    FakeConsumer.log, FakeConsumer.end, FakeConsumer.earliest = [], 0, 0
    return FakeConsumer


def opts(fail_on_data_loss: bool = True, **kafka: str) -> SourceOptions:
    return SourceOptions(
        Subscription("subscribe", topics=("t",)),
        fail_on_data_loss=fail_on_data_loss,
        poll_timeout_ms=30,
        kafka={"kafka.bootstrap.servers": "127.0.0.1:1", **kafka},
        kafka_client="confluent-kafka",
    )


def offsets(start: int, until: int, options: SourceOptions | None = None) -> list[int]:
    rng = OffsetRange("t", 0, start, until)
    batches = list(confluent.read_range(rng, options or opts(), SCHEMA))
    return [o for b in batches for o in b.column("offset").to_pylist()]


def test_consumer_joins_no_group_commits_nothing_and_never_resets(fake):
    fake.log, fake.end = [message(0)], 1
    offsets(0, 1, opts(**{"kafka.group.id": "mine"}))
    s = fake.settings
    assert s["group.id"].startswith("stream-scorer-unused-")
    assert (s["enable.auto.commit"], s["auto.offset.reset"]) == (False, "error")
    assert s["isolation.level"] == "read_uncommitted"


def test_reads_exactly_the_range(fake):
    fake.log, fake.end = [message(i) for i in range(10)], 10
    assert offsets(2, 6) == [2, 3, 4, 5]


def test_gap_at_the_end_finishes_at_the_end_of_partition(fake):
    fake.log, fake.end = [message(0), message(1), message(3)], 5  # 2 compacted, 4 a marker
    assert offsets(0, 5) == [0, 1, 3]


def test_batches_match_sparks_arrow_schema_and_timestamp_types(fake):
    fake.log, fake.end = [message(0), message(1, ts_type=2)], 2
    (batch,) = confluent.read_range(OffsetRange("t", 0, 0, 2), opts(), SCHEMA)
    assert batch.schema.equals(SCHEMA)
    rows = batch.to_pylist()
    assert rows[0]["timestamp"].isoformat() == "2023-11-14T22:13:20.123000+00:00"
    assert [r["timestampType"] for r in rows] == [0, 1]
    assert (rows[1]["key"], rows[1]["value"], rows[1]["topic"]) == (b"k", b"v1", "t")


def test_no_headers_give_null_and_headers_keep_order():
    schema = to_arrow_schema(kafka_schema(True), timezone="UTC")
    msgs = [message(0), message(1, [("a", b"1"), ("b", b"")])]
    batch = confluent.to_record_batch(msgs, schema, OffsetRange("t", 0, 0, 2))
    assert batch.schema.equals(schema)
    assert batch.column("headers").to_pylist() == [
        None,
        [{"key": "a", "value": b"1"}, {"key": "b", "value": b""}],
    ]


def test_batches_hold_at_most_rows_per_batch(fake, monkeypatch):
    monkeypatch.setattr(kafka_python, "ROWS_PER_BATCH", 4)
    fake.log, fake.end = [message(i) for i in range(10)], 10
    batches = list(confluent.read_range(OffsetRange("t", 0, 0, 10), opts(), SCHEMA))
    assert [b.num_rows for b in batches] == [4, 4, 2]


def test_no_progress_raises_naming_partition_and_offsets(fake):
    fake.log, fake.end = [message(0), message(1)], 2
    with pytest.raises(SourceError, match=r"topic 't' partition 0 range \[0, 5\) at offset 2"):
        offsets(0, 5)


def test_no_progress_with_fail_on_data_loss_false_cuts_the_range(fake):
    fake.log, fake.end = [message(0), message(1)], 2
    assert offsets(0, 5, opts(fail_on_data_loss=False)) == [0, 1]


def test_aged_out_records_raise_with_the_hint(fake):
    fake.log, fake.end, fake.earliest = [message(i) for i in range(4, 8)], 8, 4
    with pytest.raises(SourceError, match="Set failOnDataLoss=false to skip them"):
        offsets(1, 8)


def test_aged_out_records_with_fail_on_data_loss_false_resume_at_earliest(fake):
    fake.log, fake.end, fake.earliest = [message(i) for i in range(4, 8)], 8, 4
    assert offsets(1, 8, opts(fail_on_data_loss=False)) == [4, 5, 6, 7]


def test_option_librdkafka_does_not_know_is_a_config_error():
    rng = OffsetRange("t", 0, 0, 1)
    with pytest.raises(ConfigError, match=r"confluent-kafka refused the kafka\.\* options"):
        list(confluent.read_range(rng, opts(**{"kafka.no.such.setting": "1"}), SCHEMA))
