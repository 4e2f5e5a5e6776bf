"""Delta Lake and Iceberg sinks: exactly once under kill -9, counted by source offset.

One scorer writes its predictions to a Delta table, an Iceberg table and an exactly-once Kafka
sink at once (the scoring tasks commit its transactions before the tables commit) and its
dead letters to another Iceberg table; it is killed with SIGKILL three times, at each point of a
batch's commit: after the tasks wrote the batch's files and before the Delta commit
(`delta-write`), between the Delta commit and the Iceberg one (`between-sinks`), and after
both, before Spark's commit log (`after-sinks`). Each restart replays the killed batch. Read
back with the tables' own readers (deltalake, pyiceberg) and a read_committed consumer of
an exactly-once Kafka sink beside them, every good offset is there once and every bad one
once in the dead letter; the replay of a batch both tables hold adds
nothing, and a table's history holds one commit per batch. A second test kills it at three
random moments (each within a batch's length after a commit) while a producer writes.
"""

import json
import random
import signal
import threading
import time
from pathlib import Path

import pytest

from stream_scorer.cli.main import main
from tests.kafka_helpers import create_topic, produce_exact, read_topic, spread
from tests.scorer_helpers import NUMERIC, encode, publish, records
from tests.scorer_process import (
    RUN_TIMEOUT_S,
    batch_files,
    run_once,
    start_daemon,
    wait_for,
    write_config,
)

deltalake = pytest.importorskip("deltalake", reason="the delta extra is not installed")
catalogs = pytest.importorskip("pyiceberg.catalog", reason="the iceberg extra is not installed")
pytestmark = pytest.mark.integration

GOOD, PARTITIONS, PER_BATCH = 60, 2, 16  # four batches, 0 to 3
BAD = [b"not json", b'{"id": -1, "f0": "x"}', b"[]", b"{}"]
KILLS = [("delta-write", 1, [0]), ("between-sinks", 2, [0, 1]), ("after-sinks", 3, [0, 1, 2])]
"""(point, batch killed there, Spark's committed batches after the kill)."""


def _values() -> list[bytes]:
    values = encode(records(range(GOOD), NUMERIC))
    for i, bad in enumerate(BAD):
        values.insert(15 * i + 7, bad)
    return values


def _catalog(tmp: Path) -> dict[str, str]:
    return {"type": "sql", "uri": f"sqlite:///{tmp}/catalog.db", "warehouse": f"file://{tmp}/wh"}


def _table_config(tmp: Path, bootstrap: str, topic: str, out: str | None = None) -> Path:
    """Delta and Iceberg sinks (and an exactly-once Kafka sink into `out`, if given), the
    dead letters into Iceberg."""
    iceberg = {"kind": "iceberg", "catalog": _catalog(tmp)}
    delta = {"kind": "delta", "path": str(tmp / "delta")}
    sinks = [delta, {**iceberg, "table": "scoring.predictions"}]
    if out is not None:
        sinks.append({"kind": "kafka", "topic": out, "exactly_once": True})
    dead_letter = {**iceberg, "table": "scoring.dead_letters"}
    return write_config(
        tmp, bootstrap, topic, max_offsets=PER_BATCH, sinks=sinks, dead_letter=dead_letter
    )


def _iceberg(tmp: Path, table: str):
    return catalogs.load_catalog("default", **_catalog(tmp)).load_table(table)


def _offsets(table) -> list[tuple[str, int, int]]:
    columns = table.select(["topic", "partition", "offset"]).to_pydict()
    return sorted(zip(columns["topic"], columns["partition"], columns["offset"], strict=True))


@pytest.mark.slow
def test_tables_hold_every_offset_once_after_kills_at_each_commit_point(
    tmp_path, spark, bootstrap, capsys
):
    topic, out = create_topic(bootstrap, PARTITIONS), create_topic(bootstrap, 1)
    by_partition = spread(_values(), PARTITIONS)
    produce_exact(bootstrap, topic, by_partition)
    publish(tmp_path / "models", "binary", NUMERIC)
    config = _table_config(tmp_path, bootstrap, topic, out)

    for point, batch, committed in KILLS:
        killed = run_once(config, fault=f"{point}@{batch}")
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-3000:])
        assert batch_files(tmp_path / "checkpoint", "commits") == committed, point
    restarted = run_once(config)
    assert restarted.returncode == 0, restarted.stderr[-3000:]

    expected = {(topic, p, o): v for p, vals in by_partition.items() for o, v in enumerate(vals)}
    good = sorted(c for c, v in expected.items() if v not in BAD)
    bad = sorted(c for c, v in expected.items() if v in BAD)
    delta = deltalake.DeltaTable(str(tmp_path / "delta"))
    assert _offsets(delta.to_pyarrow_table()) == good
    predictions = _iceberg(tmp_path, "scoring.predictions")
    assert _offsets(predictions.scan().to_arrow()) == good
    letters = _iceberg(tmp_path, "scoring.dead_letters")
    assert _offsets(letters.scan().to_arrow()) == bad
    records = read_topic(bootstrap, out)  # read_committed: each prediction once beside the tables
    assert sorted(tuple(r.key.decode().rsplit("/", 2)) for r in records) == sorted(
        (t, str(p), str(o)) for t, p, o in good
    )
    writes = [h for h in delta.history() if h["operation"] == "WRITE"]
    assert len(writes) == 4, writes  # one commit per batch: the replays added none
    assert [s.summary["stream-scorer.batch-id"] for s in predictions.snapshots()] == [
        "0", "1", "2", "3"
    ]  # fmt: skip
    assert {p.parent.parent.name for p in (tmp_path / "delta").rglob("*.parquet")} == {
        "0", "1", "2", "3"
    }  # fmt: skip  # each batch's files in its own folder, by the tasks or the driver

    capsys.readouterr()
    assert main(["status", "--config", str(config), "--json"]) == 0
    tables = json.loads(capsys.readouterr().out)["tables"]
    last_letters = letters.current_snapshot()
    assert tables == [
        {"table": str(tmp_path / "delta"), "last_committed_batch": 3, "version": delta.version()},
        {
            "table": "scoring.predictions",
            "last_committed_batch": 3,
            "version": predictions.current_snapshot().snapshot_id,
        },
        {
            "table": "scoring.dead_letters",
            "last_committed_batch": int(last_letters.summary["stream-scorer.batch-id"]),
            "version": last_letters.snapshot_id,
        },
    ]


@pytest.mark.slow
def test_tables_hold_every_offset_once_through_random_kills_with_a_producer_running(
    tmp_path, spark, bootstrap
):
    """A producer writes while the scorer runs; kill -9 at three random moments (a batch's
    tasks, its table commits or Spark's commit log, wherever it happens to be), restarted
    each time, then drained: every offset once in the tables, read with their own readers."""
    topic = create_topic(bootstrap, PARTITIONS)
    publish(tmp_path / "models", "binary", NUMERIC)
    config = _table_config(tmp_path, bootstrap, topic)
    checkpoint, rng = tmp_path / "checkpoint", random.Random(7)
    producer = threading.Thread(target=_produce_slowly, args=(bootstrap, topic), daemon=True)
    producer.start()
    for kill in range(3):
        daemon = start_daemon(config, tmp_path / f"daemon-{kill}.log")
        try:
            batch_seconds = _batch_seconds(checkpoint)
            time.sleep(rng.uniform(0.0, batch_seconds))  # anywhere in the next batch
        finally:
            daemon.kill()
            daemon.wait(RUN_TIMEOUT_S)
    producer.join(PRODUCE_S * 10)
    assert not producer.is_alive(), "the producer did not finish"
    drained = run_once(config)
    assert drained.returncode == 0, drained.stderr[-3000:]

    values = [v for chunk in _chunks() for v in chunk]
    by_partition = spread(values, PARTITIONS)
    expected = {(topic, p, o): v for p, vals in by_partition.items() for o, v in enumerate(vals)}
    good = sorted(c for c, v in expected.items() if v not in BAD)
    bad = sorted(c for c, v in expected.items() if v in BAD)
    assert _offsets(deltalake.DeltaTable(str(tmp_path / "delta")).to_pyarrow_table()) == good
    assert _offsets(_iceberg(tmp_path, "scoring.predictions").scan().to_arrow()) == good
    assert _offsets(_iceberg(tmp_path, "scoring.dead_letters").scan().to_arrow()) == bad


def _batch_seconds(checkpoint: Path) -> float:
    """Wait for two more commits to Spark's commit log; return the time between them."""
    commits = len(batch_files(checkpoint, "commits"))
    times = []
    for more in (1, 2):
        n = commits + more
        wait_for(lambda n=n: len(batch_files(checkpoint, "commits")) >= n, 300, f"commit {n}")
        times.append(time.monotonic())
    return times[1] - times[0]


PRODUCE_S = 90.0
"""How long the producer of the random-kill test writes, in chunks."""


def _chunks() -> list[list[bytes]]:
    """The random-kill test's records, in the chunks the producer sends (fixed content)."""
    values = encode(records(range(4 * GOOD), NUMERIC))
    for i, bad in enumerate(BAD):
        values.insert(50 * i + 11, bad)
    return [values[i : i + 8] for i in range(0, len(values), 8)]


def _produce_slowly(bootstrap: str, topic: str) -> None:
    """Send `_chunks()` dealt round-robin over the partitions, spread over PRODUCE_S."""
    chunks = _chunks()
    sent = 0
    for chunk in chunks:
        by_partition = spread(chunk, PARTITIONS)
        # keep the round-robin of the whole sequence: chunk sizes are even, PARTITIONS is 2
        assert sent % PARTITIONS == 0
        produce_exact(bootstrap, topic, by_partition)
        sent += len(chunk)
        time.sleep(PRODUCE_S / len(chunks))
