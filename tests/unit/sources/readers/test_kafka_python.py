"""Executor-side reads of one offset range, against an in-memory stand-in for KafkaConsumer."""

from typing import ClassVar

import pytest
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import OffsetOutOfRangeError
from pyspark.sql.pandas.types import to_arrow_schema

from stream_scorer.errors import SourceError
from stream_scorer.kafka.schema import kafka_schema
from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.options import SourceOptions, Subscription
from stream_scorer.sources.readers import kafka_python

SCHEMA = to_arrow_schema(kafka_schema(False), timezone="UTC")


def record(offset: int, headers=()) -> ConsumerRecord:
    value = f"v{offset}".encode()
    return ConsumerRecord(
        "t", 0, 0, offset, 1_700_000_000_123, 0, b"k", value, list(headers), None, 1, 2, 0
    )


class FakeConsumer:
    """Serves `log` from `earliest`; the position may run past the last record (markers)."""

    log: ClassVar[list[ConsumerRecord]] = []
    end = 0
    earliest = 0
    settings: ClassVar[dict] = {}

    def __init__(self, **settings):
        FakeConsumer.settings = settings
        self.pos = 0

    def assign(self, tps):
        self.tp = tps[0]

    def seek(self, tp, offset):
        self.pos = offset

    def poll(self, timeout_ms, max_records):
        if self.pos < self.earliest:
            raise OffsetOutOfRangeError({self.tp: self.pos})
        batch = [r for r in self.log if r.offset >= self.pos][:3]
        self.pos = batch[-1].offset + 1 if batch else max(self.pos, self.end)
        return {self.tp: batch} if batch else {}

    def position(self, tp):
        return self.pos

    def beginning_offsets(self, tps):
        return {tp: self.earliest for tp in tps}

    def close(self):
        pass


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(kafka_python, "KafkaConsumer", FakeConsumer)
    FakeConsumer.log, FakeConsumer.end, FakeConsumer.earliest = [], 0, 0
    return FakeConsumer


def opts(fail_on_data_loss: bool = True) -> SourceOptions:
    return SourceOptions(
        Subscription("subscribe", topics=("t",)),
        fail_on_data_loss=fail_on_data_loss,
        poll_timeout_ms=30,
        kafka={"kafka.bootstrap.servers": "127.0.0.1:1"},
    )


def offsets(start: int, until: int, options: SourceOptions | None = None) -> list[int]:
    rng = OffsetRange("t", 0, start, until)
    batches = list(kafka_python.read_range(rng, options or opts(), SCHEMA))
    return [o for b in batches for o in b.column("offset").to_pylist()]


def test_consumer_has_no_group_no_commits_and_no_offset_reset(fake):
    fake.log, fake.end = [record(0)], 1
    offsets(0, 1)
    s = fake.settings
    assert (s["group_id"], s["enable_auto_commit"], s["auto_offset_reset"]) == (None, False, "none")


def test_reads_exactly_the_range(fake):
    fake.log, fake.end = [record(i) for i in range(10)], 10
    assert offsets(2, 6) == [2, 3, 4, 5]


def test_gap_at_the_end_finishes_at_the_consumer_position(fake):
    fake.log, fake.end = [record(0), record(1), record(3)], 5  # 2 compacted, 4 a marker
    assert offsets(0, 5) == [0, 1, 3]


def test_batches_match_sparks_arrow_schema(fake):
    fake.log, fake.end = [record(0)], 1
    rng = OffsetRange("t", 0, 0, 1)
    (batch,) = kafka_python.read_range(rng, opts(), SCHEMA)
    assert batch.schema.equals(SCHEMA)
    assert batch.to_pylist()[0]["timestamp"].isoformat() == "2023-11-14T22:13:20.123000+00:00"


def test_no_headers_give_null_and_headers_keep_order(fake):
    schema = to_arrow_schema(kafka_schema(True), timezone="UTC")
    batch = kafka_python.to_record_batch([record(0), record(1, [("a", b"1"), ("b", b"")])], schema)
    assert batch.schema.equals(schema)
    assert batch.column("headers").to_pylist() == [
        None,
        [{"key": "a", "value": b"1"}, {"key": "b", "value": b""}],
    ]


def test_batches_hold_at_most_rows_per_batch(fake, monkeypatch):
    monkeypatch.setattr(kafka_python, "ROWS_PER_BATCH", 4)
    fake.log, fake.end = [record(i) for i in range(10)], 10
    batches = list(kafka_python.read_range(OffsetRange("t", 0, 0, 10), opts(), SCHEMA))
    assert [b.num_rows for b in batches] == [4, 4, 2]


def test_no_progress_raises_naming_partition_and_offsets(fake):
    fake.log, fake.end = [record(0), record(1)], 2
    with pytest.raises(SourceError, match=r"topic 't' partition 0 range \[0, 5\) at offset 2"):
        offsets(0, 5)


def test_no_progress_with_fail_on_data_loss_false_cuts_the_range(fake):
    fake.log, fake.end = [record(0), record(1)], 2
    assert offsets(0, 5, opts(fail_on_data_loss=False)) == [0, 1]


def test_aged_out_records_raise_with_the_hint(fake):
    fake.log, fake.end, fake.earliest = [record(i) for i in range(4, 8)], 8, 4
    with pytest.raises(SourceError, match="Set failOnDataLoss=false to skip them"):
        offsets(1, 8)


def test_aged_out_records_with_fail_on_data_loss_false_resume_at_earliest(fake):
    fake.log, fake.end, fake.earliest = [record(i) for i in range(4, 8)], 8, 4
    assert offsets(1, 8, opts(fail_on_data_loss=False)) == [4, 5, 6, 7]
