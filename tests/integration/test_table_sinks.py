"""Delta Lake and Iceberg sinks: exactly once under kill -9, counted by source offset.

One scorer writes its predictions to a Delta table, an Iceberg table and an exactly-once Kafka
sink at once (the scoring tasks commit its transactions before the tables commit) and its
dead letters to another Iceberg table; it is killed with SIGKILL three times, at each point of a
batch's commit: after the tasks wrote the batch's files and before the Delta commit
(`delta-write`), between the Delta commit and the Iceberg one (`between-sinks`), and after
both, before Spark's commit log (`after-sinks`). Each restart replays the killed batch. Read
back with the tables' own readers (deltalake, pyiceberg) and a read_committed consumer,
every good offset is there once
and every bad one once in the dead letter; the replay of a batch both tables hold adds
nothing, and a table's history holds one commit per batch.
"""

import json
import signal
from pathlib import Path

import pytest
import yaml

from stream_scorer.cli.main import main
from tests.kafka_helpers import create_topic, produce_exact, read_topic, spread
from tests.scorer_helpers import NUMERIC, encode, publish, records
from tests.scorer_process import batch_files, run_once, write_config

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


def _table_config(tmp: Path, bootstrap: str, topic: str, out: str) -> Path:
    path = write_config(tmp, bootstrap, topic, max_offsets=PER_BATCH)
    config = yaml.safe_load(path.read_text())
    iceberg = {"kind": "iceberg", "catalog": _catalog(tmp)}
    config["sinks"] = [
        {"kind": "delta", "path": str(tmp / "delta")},
        {**iceberg, "table": "scoring.predictions"},
        {"kind": "kafka", "topic": out, "exactly_once": True},
    ]
    config["dead_letter"] = {**iceberg, "table": "scoring.dead_letters"}
    path.write_text(yaml.safe_dump(config))
    return path


def _iceberg(tmp: Path, table: str):
    return catalogs.load_catalog("default", **_catalog(tmp)).load_table(table)


def _offsets(table) -> list[tuple[str, int, int]]:
    columns = table.select(["topic", "partition", "offset"]).to_pydict()
    return sorted(zip(columns["topic"], columns["partition"], columns["offset"], strict=True))


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
