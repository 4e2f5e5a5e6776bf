"""The one-pass path (offset ranges read, parsed and scored in one Python pass) against the
UDF path over the same records: the same rows, the same dead letters, each offset once."""

import collections
import itertools
import json

import pandas as pd
import pytest

from stream_scorer.config.settings import SourceConfig
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.sources.factory import read_stream
from stream_scorer.sources.ranges import RANGES_SCHEMA
from tests.kafka_helpers import create_topic, produce_exact, read_topic, spread
from tests.scorer_helpers import NUMERIC, encode, publish, read_sink, records, scorer_config

pytestmark = pytest.mark.integration

BAD = [b"not json", b'{"id": 7, "f0": "x", "f1": 1, "f2": 1, "f3": 1}', b"", None]
COORDINATES = ["topic", "partition", "offset"]


def _scored(tmp, spark, bootstrap, topic, one_pass: bool, **overrides):
    config = scorer_config(
        tmp, bootstrap, topic, scoring={"one_pass": one_pass, "arrow_batch_size": 7}, **overrides
    )
    assert Scorer(config, spark=spark, once=True).run() == 0
    good = read_sink(spark, tmp / "predictions").drop(columns=["scored_at"])
    bad = read_sink(spark, tmp / "dead-letter").drop(columns=["scored_at"])
    schema = spark.read.parquet(str(tmp / "predictions")).schema
    return schema, *(frame.sort_values(COORDINATES, ignore_index=True) for frame in (good, bad))


@pytest.fixture(scope="module")
def topic(bootstrap):
    """3 partitions: 200 good records, malformed ones and a tombstone among them."""
    name = create_topic(bootstrap, 3)
    values: list[bytes | None] = list(encode(records(range(200), NUMERIC)))
    for i, bad in enumerate(BAD):
        values.insert(41 * i + 3, bad)
    produce_exact(bootstrap, name, spread(values, 3))
    return name


@pytest.mark.parametrize(
    ("kind", "overrides"),
    [
        ("binary", {}),
        ("binary", {"output": {"include_key": True, "key_format": "string"}}),
        ("multiclass", {"output": {"include_key": True, "include_features": True}}),
        ("regression", {}),
    ],
    ids=["binary", "string-key", "multiclass-key-and-features", "regression"],
)
def test_one_pass_writes_what_the_udf_path_writes(
    tmp_path, spark, bootstrap, topic, kind, overrides
):
    """The one pass writes the predictions from its tasks (local master, Parquet sinks):
    the same rows and the same Spark schema as Spark's own writer on the UDF path."""
    for path in ("one", "udf"):
        (tmp_path / path).mkdir()
        publish(tmp_path / path / "models", kind, NUMERIC)

    schema, good, bad = _scored(tmp_path / "one", spark, bootstrap, topic, True, **overrides)
    udf_schema, udf_good, udf_bad = _scored(
        tmp_path / "udf", spark, bootstrap, topic, False, **overrides
    )

    assert not list((tmp_path / "one" / "predictions" / "batch_id=0").glob("*.snappy.parquet"))
    assert schema == udf_schema
    assert len(good) == 200 and len(bad) == len(BAD)
    offsets = pd.concat([good[COORDINATES], bad[COORDINATES]])
    assert not offsets.duplicated().any() and len(offsets) == 200 + len(BAD)
    pd.testing.assert_frame_equal(good, udf_good)
    pd.testing.assert_frame_equal(bad, udf_bad)
    assert sorted(bad["value"].map(lambda v: None if v is None else bytes(v)), key=str) == sorted(
        BAD, key=str
    )
    assert bad["key"].notna().all()  # the raw key reaches the dead letter


def test_ranges_source_yields_one_row_per_planned_range(spark, bootstrap, topic, tmp_path):
    opts = {
        "kafka.bootstrap.servers": bootstrap,
        "subscribe": topic,
        "startingOffsets": "earliest",
        "maxRecordsPerPartition": "30",
    }
    rows: list = []
    stream = read_stream(spark, SourceConfig(options=opts), ranges=True)
    assert stream.schema == RANGES_SCHEMA
    query = (
        stream.writeStream.foreachBatch(lambda df, _: rows.extend(df.collect()))
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    assert query.awaitTermination(180)
    by_partition: dict[int, list[tuple[int, int]]] = {}
    for row in rows:
        assert row.topic == topic and 0 < row.until - row.start <= 30
        by_partition.setdefault(row.partition, []).append((row.start, row.until))
    for ranges in by_partition.values():  # contiguous from 0, no gap, no overlap
        ranges.sort()
        assert ranges[0][0] == 0
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert sum(u - s for r in by_partition.values() for s, u in r) == 200 + len(BAD)


def test_a_checkpoint_of_the_udf_path_resumes_on_the_one_pass_path(tmp_path, spark, bootstrap):
    name = create_topic(bootstrap, 2)
    publish(tmp_path / "models", "binary", NUMERIC)
    produce_exact(bootstrap, name, spread(encode(records(range(60), NUMERIC)), 2))
    udf = scorer_config(tmp_path, bootstrap, name, scoring={"one_pass": False})
    assert Scorer(udf, spark=spark, once=True).run() == 0
    produce_exact(bootstrap, name, spread(encode(records(range(60, 100), NUMERIC)), 2))

    one_pass = scorer_config(tmp_path, bootstrap, name, scoring={"one_pass": True})
    assert Scorer(one_pass, spark=spark, once=True).run() == 0

    scored = read_sink(spark, tmp_path / "predictions")
    assert sorted(scored["id"]) == list(range(100))
    assert not scored[COORDINATES].duplicated().any()


def test_one_pass_tasks_write_every_parquet_sink_once_per_offset(tmp_path, spark, bootstrap, topic):
    """Two Parquet sinks and an at-least-once Kafka sink, batches of 50 offsets with bad rows
    in several: the tasks write both sinks' files and send the records in one pass; each sink
    holds every good offset once, and the scorer counts the rows the files hold."""
    publish(tmp_path / "models", "binary", NUMERIC)
    out = create_topic(bootstrap, 2)
    sinks = [{"kind": "parquet", "path": str(tmp_path / name)} for name in ("a", "b")]
    sinks.append({"kind": "kafka", "topic": out})
    config = scorer_config(tmp_path, bootstrap, topic, sinks=sinks)
    config.source.options["maxOffsetsPerTrigger"] = "50"
    scorer = Scorer(config, spark=spark, once=True)
    assert scorer.run() == 0

    for name in ("a", "b"):
        good = read_sink(spark, tmp_path / name)
        assert len(good) == 200 and not good[COORDINATES].duplicated().any()
        assert not list((tmp_path / name).glob("batch_id=*/*.snappy.parquet"))  # not Spark's
    sent = read_topic(bootstrap, out)
    assert sorted(json.loads(r.value)["id"] for r in sent) == list(range(200))
    keys = collections.Counter(r.key for r in sent)
    assert set(keys.values()) == {1} and keys.keys() == {
        f"{t}/{p}/{o}".encode() for t, p, o in good[COORDINATES].itertuples(index=False)
    }
    assert len(read_sink(spark, tmp_path / "dead-letter")) == len(BAD)
    stats = scorer.pipeline.stats
    assert stats.batches >= 4 and stats.scored == 200 and stats.dead_lettered == len(BAD)
