"""Delta and Iceberg sinks without Spark: one table commit per batch, tagged with the
checkpoint's application id; replays, partitions by day and schema changes."""

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from pyspark.sql import types as T

from stream_scorer.errors import SinkError
from stream_scorer.sinks.table import TableSink
from stream_scorer.sinks.table_files import TABLE_FILES, TableBatch
from stream_scorer.sinks.task_files import file_schema

deltalake = pytest.importorskip("deltalake", reason="the delta extra is not installed")
pytest.importorskip("pyiceberg", reason="the iceberg extra is not installed")

from stream_scorer.sinks.delta import DeltaSink  # noqa: E402 (after the extra's check)
from stream_scorer.sinks.iceberg import IcebergSink  # noqa: E402

SCHEMA = T.StructType(
    [
        T.StructField("offset", T.LongType(), nullable=False),
        T.StructField("scored_at", T.TimestampType()),
        T.StructField("probabilities", T.ArrayType(T.DoubleType(), containsNull=False)),
    ]
)
DAY = dt.datetime(2024, 5, 1, 23, 59, 59, tzinfo=dt.UTC)
NEXT_DAY = DAY + dt.timedelta(seconds=2)


@pytest.fixture(params=["delta", "iceberg"])
def sink(request, tmp_path: Path) -> TableSink:
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    (checkpoint / "metadata").write_text(json.dumps({"id": "query-1"}))
    if request.param == "delta":
        return DeltaSink(str(tmp_path / "table"), str(checkpoint))
    catalog = {
        "type": "sql",
        "uri": f"sqlite:///{tmp_path}/c.db",
        "warehouse": f"file://{tmp_path}",
    }
    return IcebergSink(catalog, "scoring.predictions", str(checkpoint))


def write(sink: TableSink, batch_id: int, offsets: list[int], schema: T.StructType = SCHEMA):
    """Write a batch as two tasks would (the second one's rows on the next day), commit it."""
    if not sink.is_committed(batch_id) and sink.task_writes(batch_id) is None:
        sink._create(_arrow(schema))  # an Iceberg table's folder is known once it exists
    batch = sink.task_writes(batch_id)
    assert batch is not None
    batch.prepare()
    files = batch.writer(schema)
    half = len(offsets) // 2
    for task, (chunk, at) in enumerate([(offsets[:half], DAY), (offsets[half:], NEXT_DAY)]):
        columns = {"offset": chunk, "scored_at": [at] * len(chunk)}
        columns["probabilities"] = [[0.5, 0.5]] * len(chunk)
        for extra in schema.fieldNames()[3:]:
            columns[extra] = ["x"] * len(chunk)
        with files.open(task) as file:
            file.write(pa.RecordBatch.from_pydict(columns, schema=files.schema))
            file.commit()
    return sink.commit(batch, batch_id)


def offsets(sink: TableSink) -> list[int]:
    if isinstance(sink, DeltaSink):
        table = deltalake.DeltaTable(sink.path).to_pyarrow_table()
    else:
        table = sink.catalog().load_table(sink.target).scan().to_arrow()
    return sorted(table["offset"].to_pylist())


def _arrow(schema: T.StructType) -> pa.Schema:
    return file_schema(schema).remove_metadata()


def test_each_batch_commits_once_and_a_replay_is_skipped(sink):
    assert sink.last_committed() is None
    assert write(sink, 0, [0, 1, 2, 3]) == 4
    assert write(sink, 1, [4, 5]) == 2
    assert sink.is_committed(0) and sink.is_committed(1) and not sink.is_committed(2)
    assert sink.committed_batches() == [0, 1]
    assert offsets(sink) == [0, 1, 2, 3, 4, 5]
    state = sink.state()
    assert state is not None and state["last_committed_batch"] == 1


def test_files_are_split_by_utc_day(sink):
    write(sink, 0, [0, 1, 2, 3])
    folders = {p.parent.name for p in Path(sink.task_writes(0).path).rglob("*.parquet")}
    assert folders == {"2024-05-01", "2024-05-02"}
    if isinstance(sink, DeltaSink):
        table = deltalake.DeltaTable(sink.path)
        assert table.metadata().partition_columns == ["scored_date"]
        days = table.to_pyarrow_table()["scored_date"].to_pylist()
        assert sorted(days) == [DAY.date()] * 2 + [NEXT_DAY.date()] * 2
    else:
        spec = sink.catalog().load_table(sink.target).spec()
        assert [f.name for f in spec.fields] == ["scored_at_day"]


def test_another_checkpoint_is_another_application(sink, tmp_path):
    write(sink, 0, [0, 1])
    (tmp_path / "checkpoint" / "metadata").write_text(json.dumps({"id": "query-2"}))
    sink._app_id = None  # as a scorer started on the new checkpoint reads it
    assert not sink.is_committed(0)
    write(sink, 0, [2, 3])
    assert offsets(sink) == [0, 1, 2, 3]


def test_a_new_column_is_added_and_a_dropped_one_refused(sink):
    write(sink, 0, [0, 1])
    wider = T.StructType([*SCHEMA.fields, T.StructField("region", T.StringType())])
    write(sink, 1, [2, 3], wider)
    assert offsets(sink) == [0, 1, 2, 3]
    with pytest.raises(SinkError, match=r"lack the table's columns \['region'\]"):
        write(sink, 2, [4, 5])
    assert not sink.is_committed(2)


def test_one_arrow_batch_across_midnight_goes_to_two_files(tmp_path):
    batch = TableBatch(str(tmp_path / "batch"), TABLE_FILES)
    batch.prepare()
    files = batch.writer(SCHEMA)
    at = [DAY, NEXT_DAY, DAY]
    rows = {"offset": [0, 1, 2], "scored_at": at, "probabilities": [[0.5, 0.5]] * 3}
    with files.open(0) as file:
        file.write(pa.RecordBatch.from_pydict(rows, schema=files.schema))
        file.commit()
    written = {(f.day, f.rows) for f in batch.data_files()}
    assert written == {("2024-05-01", 2), ("2024-05-02", 1)}
    assert batch.count() == 3
