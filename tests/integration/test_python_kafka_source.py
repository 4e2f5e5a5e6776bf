"""The jar-free `python-kafka` source driving real streaming queries on the embedded broker."""

import json
import time
import uuid

import pytest
from kafka import KafkaAdminClient
from pyspark.errors import StreamingQueryException

from stream_scorer.config.settings import SourceConfig
from stream_scorer.sources.factory import read_stream
from stream_scorer.sources.spark_api import ADMISSION_CONTROL, PYSPARK_VERSION
from tests.kafka_helpers import add_partitions, create_topic, produce_exact, spread

pytestmark = pytest.mark.integration

TIMEOUT_S = 180  # bound of every query wait; a healthy run takes a few seconds
# Tests of the executor-side read run with both clients; planning tests (driver side,
# always kafka-python) run once.
both_clients = pytest.mark.parametrize("client", ["kafka-python", "confluent-kafka"])


def values(prefix: str, n: int) -> list[bytes]:
    return [f"{prefix}-{i}".encode() for i in range(n)]


def expected(topic: str, by_partition: dict[int, list[bytes]], first: int = 0) -> set[tuple]:
    return {
        (topic, p, first + o, v) for p, vals in by_partition.items() for o, v in enumerate(vals)
    }


def options(bootstrap: str, client: str = "kafka-python", **extra: str) -> dict[str, str]:
    return {
        "kafka.bootstrap.servers": bootstrap,
        "startingOffsets": "earliest",
        "kafkaConsumer.pollTimeoutMs": "10000",
        "kafkaClient": client,
        **extra,
    }


def plain(row) -> tuple:
    return tuple(bytes(x) if isinstance(x, bytearray) else x for x in row)


def writer_for(spark, opts, checkpoint, batches, columns=("topic", "partition", "offset", "value")):
    """A DataStreamWriter that appends (batch_id, [row tuples]) to `batches` per micro-batch."""

    def collect(df, batch_id):
        batches.append((batch_id, [plain(r) for r in df.select(*columns).collect()]))

    df = read_stream(spark, SourceConfig(options=opts))
    return df.writeStream.foreachBatch(collect).option("checkpointLocation", str(checkpoint))


def run_available_now(spark, opts, checkpoint) -> list[tuple[int, list[tuple]]]:
    batches: list[tuple[int, list[tuple]]] = []
    query = writer_for(spark, opts, checkpoint, batches).trigger(availableNow=True).start()
    try:
        assert query.awaitTermination(TIMEOUT_S), "availableNow query did not finish"
    finally:
        query.stop()
    return batches


def rows(batches) -> list[tuple]:
    return [row for _, batch in batches for row in batch]


@pytest.mark.smoke
@both_clients
def test_reads_every_offset_once_over_three_partitions(client, spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 3)
    data = spread(values("r", 60), 3)
    produce_exact(bootstrap, topic, data)
    got = rows(run_available_now(spark, options(bootstrap, client, subscribe=topic), tmp_path))
    assert len(got) == 60
    assert set(got) == expected(topic, data)


@pytest.mark.smoke
@pytest.mark.skipif(
    not ADMISSION_CONTROL,
    reason=f"pyspark {PYSPARK_VERSION} plans an availableNow run as one batch (no admission "
    "control before 4.2); the scorer refuses maxOffsetsPerTrigger with availableNow there",
)
@both_clients
def test_max_offsets_per_trigger_caps_every_batch(client, spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 3)
    data = {0: values("a", 61), 1: values("b", 23), 2: values("c", 5)}
    produce_exact(bootstrap, topic, data)
    opts = options(bootstrap, client, subscribe=topic, maxOffsetsPerTrigger="20")
    batches = run_available_now(spark, opts, tmp_path)
    sizes = [len(batch) for _, batch in batches]
    assert max(sizes) <= 20
    assert sum(sizes) == 89
    assert len([s for s in sizes if s]) == 5  # ceil(89 / 20) full-budget batches
    assert sorted(rows(batches)) == sorted(expected(topic, data))


@pytest.mark.smoke
def test_max_offsets_per_trigger_caps_a_running_query_across_a_restart(spark, bootstrap, tmp_path):
    """processingTime batches stay within the budget, and a restarted query goes on from its
    checkpoint within it: Spark's read limit on pyspark >= 4.2, the reader's own position
    before (`sources.spark_api`)."""
    topic = create_topic(bootstrap, 3)
    data = {0: values("a", 61), 1: values("b", 23), 2: values("c", 5)}
    produce_exact(bootstrap, topic, data)
    opts = options(bootstrap, subscribe=topic, maxOffsetsPerTrigger="20")
    batches: list = []
    for target in (3, 5):  # non-empty batches; the second run resumes from the checkpoint
        query = (
            writer_for(spark, opts, tmp_path, batches)
            .trigger(processingTime="100 milliseconds")
            .start()
        )
        try:
            deadline = time.monotonic() + TIMEOUT_S
            while len({i for i, batch in batches if batch}) < target:
                assert time.monotonic() < deadline, f"stuck after batches {batches}"
                query.awaitTermination(0.2)
        finally:
            query.stop()
    by_id = dict(batches)  # a batch stopped before its commit is replayed with its id
    assert max(len(batch) for batch in by_id.values()) <= 20
    assert sorted(rows(by_id.items())) == sorted(expected(topic, data))


def test_restart_from_checkpoint_reads_only_new_records(spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 3)
    produce_exact(bootstrap, topic, spread(values("old", 30), 3))
    opts = options(bootstrap, subscribe=topic)
    assert len(rows(run_available_now(spark, opts, tmp_path))) == 30
    fresh = spread(values("new", 12), 3)
    produce_exact(bootstrap, topic, fresh)
    got = rows(run_available_now(spark, opts, tmp_path))
    assert sorted(got) == sorted(expected(topic, fresh, first=10))


@both_clients
def test_starting_offsets_json_picks_offsets_and_markers(client, spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 3)
    data = spread(values("s", 30), 3)
    produce_exact(bootstrap, topic, data)
    starting = json.dumps({topic: {"0": 7, "1": -2, "2": -1}})
    got = rows(
        run_available_now(
            spark, options(bootstrap, client, subscribe=topic, startingOffsets=starting), tmp_path
        )
    )
    want = {r for r in expected(topic, data) if (r[1] == 0 and r[2] >= 7) or r[1] == 1}
    assert sorted(got) == sorted(want)


def test_starting_offsets_latest_skips_existing_records(spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 2)
    produce_exact(bootstrap, topic, spread(values("before", 10), 2))
    batches: list = []
    opts = options(bootstrap, subscribe=topic, startingOffsets="latest")
    query = (
        writer_for(spark, opts, tmp_path, batches)
        .trigger(processingTime="200 milliseconds")
        .start()
    )
    try:
        query.processAllAvailable()  # the initial (latest) offsets are fixed from here on
        after = spread(values("after", 6), 2)
        produce_exact(bootstrap, topic, after)
        query.processAllAvailable()
    finally:
        query.stop()
    assert sorted(rows(batches)) == sorted(expected(topic, after, first=5))


def test_processing_time_trigger_reads_records_produced_while_running(spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 3)
    first = spread(values("one", 9), 3)
    produce_exact(bootstrap, topic, first)
    batches: list = []
    opts = options(bootstrap, subscribe=topic)
    query = (
        writer_for(spark, opts, tmp_path, batches)
        .trigger(processingTime="200 milliseconds")
        .start()
    )
    try:
        query.processAllAvailable()
        second = spread(values("two", 6), 3)
        produce_exact(bootstrap, topic, second)
        query.processAllAvailable()
    finally:
        query.stop()
    assert sorted(rows(batches)) == sorted(expected(topic, first) | expected(topic, second, 3))


def test_new_topic_matching_pattern_is_read_from_earliest(spark, bootstrap, tmp_path):
    prefix = f"pat-{uuid.uuid4().hex[:8]}"
    old = create_topic(bootstrap, 2, name=f"{prefix}-old")
    produce_exact(bootstrap, old, spread(values("o", 4), 2))
    opts = options(bootstrap, subscribePattern=f"{prefix}-.*")
    assert len(rows(run_available_now(spark, opts, tmp_path))) == 4
    new = create_topic(bootstrap, 2, name=f"{prefix}-new")
    data = spread(values("n", 6), 2)
    produce_exact(bootstrap, new, data)
    got = rows(run_available_now(spark, opts, tmp_path))
    assert sorted(got) == sorted(expected(new, data))


def test_partitions_added_between_runs_are_read_from_earliest(spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 1)
    produce_exact(bootstrap, topic, {0: values("a", 3)})
    opts = options(bootstrap, subscribe=topic)
    assert len(rows(run_available_now(spark, opts, tmp_path))) == 3
    try:
        add_partitions(bootstrap, topic, 2)
    except Exception as exc:  # Tansu has no CreatePartitions; the pattern test covers discovery
        if "CreatePartitionsRequest" not in str(exc):
            raise
        pytest.skip("the embedded broker cannot add partitions to a topic (no CreatePartitions)")
    produce_exact(bootstrap, topic, {1: values("b", 4)})
    got = rows(run_available_now(spark, opts, tmp_path))
    assert sorted(got) == sorted(expected(topic, {1: values("b", 4)}))


@both_clients
def test_headers_are_included_when_asked(client, spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 1)
    produce_exact(bootstrap, topic, {0: values("h", 3)}, headers=[("trace", b"t1"), ("k", b"")])
    batches: list = []
    opts = options(bootstrap, client, subscribe=topic, includeHeaders="true")
    writer = writer_for(spark, opts, tmp_path, batches, columns=("offset", "headers"))
    query = writer.trigger(availableNow=True).start()
    assert query.awaitTermination(TIMEOUT_S)
    got = sorted(rows(batches))
    headers = [[(h.key, bytes(h.value)) for h in hs] for _, hs in got]
    assert [o for o, _ in got] == [0, 1, 2]
    assert headers == [[("trace", b"t1"), ("k", b"")]] * 3


def test_schema_is_sparks_kafka_schema(spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    df = read_stream(spark, SourceConfig(options=options(bootstrap, subscribe=topic)))
    assert df.isStreaming
    assert [(f.name, f.dataType.simpleString()) for f in df.schema.fields] == [
        ("key", "binary"),
        ("value", "binary"),
        ("topic", "string"),
        ("partition", "int"),
        ("offset", "bigint"),
        ("timestamp", "timestamp"),
        ("timestampType", "int"),
    ]


def recreate(bootstrap: str, topic: str, partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_topics([topic])
        deadline = time.monotonic() + 30
        while topic in admin.list_topics() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        admin.close()
    create_topic(bootstrap, partitions, name=topic)


def test_recreated_topic_fails_the_query_by_default(spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 1)
    produce_exact(bootstrap, topic, {0: values("a", 10)})
    opts = options(bootstrap, subscribe=topic)
    assert len(rows(run_available_now(spark, opts, tmp_path))) == 10
    recreate(bootstrap, topic, 1)
    produce_exact(bootstrap, topic, {0: values("b", 3)})
    with pytest.raises(StreamingQueryException, match="set failOnDataLoss=false to skip") as info:
        run_available_now(spark, opts, tmp_path)
    assert f"topic '{topic}' partition 0" in str(info.value)
    assert "next offset to read was 10" in str(info.value)


@both_clients
def test_recreated_topic_with_fail_on_data_loss_false_goes_on(client, spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 1)
    produce_exact(bootstrap, topic, {0: values("a", 10)})
    opts = options(bootstrap, client, subscribe=topic, failOnDataLoss="false")
    assert len(rows(run_available_now(spark, opts, tmp_path))) == 10
    recreate(bootstrap, topic, 1)
    produce_exact(bootstrap, topic, {0: values("b", 3)})
    assert rows(run_available_now(spark, opts, tmp_path)) == []  # offsets 0-2 count as read
    produce_exact(bootstrap, topic, {0: values("c", 2)})
    got = rows(run_available_now(spark, opts, tmp_path))
    assert sorted(got) == [(topic, 0, 3, b"c-0"), (topic, 0, 4, b"c-1")]


def committed(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        found = admin.list_group_offsets(group)[group]  # kafka-python 3 name of the Java call
    finally:
        admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in found.items()}


def test_processed_offsets_are_committed_to_the_group_for_lag(spark, bootstrap, tmp_path):
    topic = create_topic(bootstrap, 2)
    produce_exact(bootstrap, topic, {0: values("a", 7), 1: values("b", 4)})
    group = f"lag-{uuid.uuid4().hex[:8]}"
    opts = options(bootstrap, subscribe=topic, maxOffsetsPerTrigger="5")
    opts["kafka.group.id"] = group
    assert len(rows(run_available_now(spark, opts, tmp_path))) == 11
    assert committed(bootstrap, group) == {(topic, 0): 7, (topic, 1): 4}
