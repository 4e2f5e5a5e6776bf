"""Task-written Parquet files: visible whole or not at all, counted from their footers."""

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import types as T

from stream_scorer.errors import SinkError
from stream_scorer.sinks.parquet import ParquetSink
from stream_scorer.sinks.task_files import (
    ATTEMPT,
    ROW_METADATA,
    BatchDirectory,
    FileOptions,
    local_path,
)

SCHEMA = T.StructType(
    [
        T.StructField("offset", T.LongType(), nullable=False),
        T.StructField("scored_at", T.TimestampType()),
        T.StructField("probabilities", T.ArrayType(T.DoubleType(), containsNull=False)),
    ]
)
AT = dt.datetime(2024, 5, 1, 8, 0, 5, 500000, tzinfo=dt.UTC)


def rows(files, offsets: range) -> pa.RecordBatch:
    n = len(offsets)
    return pa.RecordBatch.from_arrays(
        [pa.array(list(offsets)), pa.array([AT] * n), pa.array([[0.25, 0.75]] * n)],
        schema=files.schema,
    )


@pytest.fixture
def directory(tmp_path) -> BatchDirectory:
    prepared = BatchDirectory(str(tmp_path / "batch_id=0"), FileOptions())
    prepared.prepare()
    return prepared


@pytest.mark.parametrize(
    ("url", "path"),
    [("/data/out", "/data/out"), ("file:///data/out", "/data/out"), ("out", "out")],
)
def test_local_paths_and_file_urls_are_local(url, path):
    assert local_path(url) == path


@pytest.mark.parametrize("url", ["s3a://bucket/out", "hdfs://nn:8020/out", "gs://b/o"])
def test_other_filesystems_get_no_task_directory(url):
    assert local_path(url) is None
    assert ParquetSink(url).task_writes(0) is None


def test_sink_task_directory_is_the_batch_directory(tmp_path):
    directory = ParquetSink(str(tmp_path / "out")).task_writes(7)
    assert directory is not None and directory.path == str(tmp_path / "out" / "batch_id=7")


def test_a_file_left_without_commit_leaves_nothing(directory):
    files = directory.writer(SCHEMA)
    with files.open(3) as file:
        file.write(rows(files, range(5)))
    assert list(directory_files(directory)) == []


def test_a_retried_task_replaces_its_file(directory):
    files = directory.writer(SCHEMA)
    for attempt in (range(5), range(4)):
        with files.open(3) as file:
            file.write(rows(files, attempt))
            file.commit()
    with files.open(4) as file:
        file.write(rows(files, range(10, 12)))
        file.commit()
    assert directory_files(directory) == ["part-00003.parquet", "part-00004.parquet"]
    assert directory.count() == 4 + 2


def test_count_removes_dead_attempts_and_marks_success(directory, tmp_path):
    leftover = tmp_path / "batch_id=0" / ".part-00001-dead"
    leftover.write_bytes(b"half a file")
    directory.writer(SCHEMA)
    assert directory.count() == 0
    assert not leftover.exists()
    assert (tmp_path / "batch_id=0" / "_SUCCESS").exists()


def test_a_batch_no_task_wrote_gets_one_empty_file_with_the_spark_schema(directory):
    directory.writer(SCHEMA)
    assert directory.count() == 0
    assert directory_files(directory) == ["_SUCCESS", "part-00000.parquet"]
    meta = pq.read_metadata(f"{directory.path}/part-00000.parquet")
    assert meta.num_rows == 0
    spark_schema = T.StructType.fromJson(json.loads(meta.metadata[ROW_METADATA.encode()]))
    assert spark_schema.names == SCHEMA.names
    assert all(field.nullable for field in spark_schema.fields)  # as Spark writes files


def test_prepare_empties_what_a_failed_attempt_left(directory):
    files = directory.writer(SCHEMA)
    with files.open(0) as file:
        file.write(rows(files, range(3)))
        file.commit()
    directory.prepare()
    assert directory_files(directory) == []


def directory_files(directory: BatchDirectory) -> list[str]:
    """The directory's files but the attempt record."""
    return sorted(p.name for p in Path(directory.path).iterdir() if p.name != ATTEMPT)


def test_a_task_of_an_earlier_attempt_cannot_add_its_file(directory):
    stale = directory.writer(SCHEMA)
    again = BatchDirectory(directory.path, FileOptions())
    again.prepare()  # the batch is written again, e.g. by an older model version
    with stale.open(0) as file:
        file.write(rows(stale, range(3)))
        with pytest.raises(SinkError, match="prepared again or counted"):
            file.commit()
    again.writer(SCHEMA)
    assert again.count() == 0


def test_no_task_commits_once_the_batch_is_counted(directory):
    files = directory.writer(SCHEMA)
    with files.open(1) as file:
        file.write(rows(files, range(3)))
        file.commit()
    assert directory.count() == 3
    with files.open(1) as file, pytest.raises(SinkError):
        file.write(rows(files, range(9)))
        file.commit()
    assert [p.name for p in Path(directory.path).glob("part-*")] == ["part-00001.parquet"]
    assert pq.read_metadata(f"{directory.path}/part-00001.parquet").num_rows == 3


def test_a_directory_no_task_was_given_cannot_be_counted(directory):
    with pytest.raises(SinkError, match="before any task was given a writer"):
        directory.count()
