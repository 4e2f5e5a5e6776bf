"""Parquet files that the scoring tasks write themselves, with pyarrow, as Spark would.

On the one-pass path (`scoring.one_pass`) with a local master, a Parquet sink's batch
directory is filled by the tasks that score the batch: each task writes its scored rows to
one file named after its partition, through a hidden temporary file and an atomic rename.
A retried or re-run task therefore replaces its own file with the same rows, and a file
that is present is complete. The driver prepares the directory before the job
(`BatchDirectory.prepare`, which removes what a failed attempt left and records the new
attempt) and counts the rows from the files' footers after it (`BatchDirectory.count`),
before the sink's commit marker. A task commits its file only while the directory records
its attempt: one left running by a failed attempt adds nothing to the next.

The files hold what Spark's own writer would: Spark's schema (every column nullable) in
the footer's `org.apache.spark.sql.parquet.row.metadata`, the writing Spark version, the
session's timestamp type (`spark.sql.parquet.outputTimestampType`) and compression codec.
"""

import dataclasses
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.parquet as pq
import pyspark
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from stream_scorer.errors import SinkError
from stream_scorer.types import arrow_schema

ATTEMPT = "_attempt"
"""File of a batch directory naming the attempt whose tasks may commit files in it."""
ROW_METADATA = "org.apache.spark.sql.parquet.row.metadata"
"""Footer key of the Spark schema; Spark's readers take the column types from it."""
SPARK_VERSION = "org.apache.spark.version"
"""Footer key of the writing Spark version; Spark reads datetimes of >= 3.0 files as written."""
DISTINCT_VALUED = (T.DoubleType, T.FloatType, T.LongType, T.TimestampType, T.DecimalType)
"""Types whose values are mostly distinct per row (offsets, ids, probabilities, times): both
writers store them without Parquet's dictionary (see `sinks.parquet.plain_encoded`)."""


def local_path(url: str) -> str | None:
    """The local filesystem path of `url` (a plain path or a `file:` URL); None otherwise."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return parsed.path if parsed.scheme else url
    return None


@dataclasses.dataclass(frozen=True)
class FileOptions:
    """How the session's Spark writes Parquet: timestamp type and compression codec."""

    int96: bool = True
    timestamp_unit: str = "us"
    compression: str = "snappy"
    writable: bool = True
    """False if pyarrow lacks the codec (e.g. lzo): Spark's own writer must write then."""

    @classmethod
    def of(cls, spark: SparkSession) -> "FileOptions":
        """The options of `spark`'s Parquet writer (`spark.sql.parquet.*`)."""
        kind = str(spark.conf.get("spark.sql.parquet.outputTimestampType", "INT96")).upper()
        codec = str(spark.conf.get("spark.sql.parquet.compression.codec", "snappy")).lower()
        codec = "none" if codec in ("none", "uncompressed") else codec
        return cls(
            int96=kind == "INT96",
            timestamp_unit="ms" if kind == "TIMESTAMP_MILLIS" else "us",
            compression=codec,
            writable=codec == "none" or _available(codec),
        )


@dataclasses.dataclass
class BatchDirectory:
    """One batch's directory of task-written files (driver side), for one attempt.

    `prepare` records the attempt in the directory (`ATTEMPT`); a task commits its file only
    while that record is its own, so a task left running by an earlier failed attempt of the
    batch cannot add its file to this one, nor to the batch once counted.
    """

    path: str
    options: FileOptions
    attempt: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    files: "TaskFiles | None" = None
    """What the tasks were given (`writer`)."""

    def prepare(self) -> None:
        """Empty the directory and record this attempt: the batch starts from nothing."""
        shutil.rmtree(self.path, ignore_errors=True)
        Path(self.path).mkdir(parents=True)
        Path(self.path, ATTEMPT).write_text(self.attempt)

    def writer(self, schema: T.StructType) -> "TaskFiles":
        """What each task needs to write its rows of `schema` (a Spark schema) here."""
        dictionary = tuple(
            f.name
            for f in schema.fields
            if not isinstance(f.dataType, (*DISTINCT_VALUED, T.ArrayType, T.MapType, T.StructType))
        )
        kind = self._files_kind(schema)
        self.files = kind(self.path, self.options, file_schema(schema), self.attempt, dictionary)
        return self.files

    def _files_kind(self, schema: T.StructType) -> type["TaskFiles"]:
        """The class of what `writer` gives the tasks of rows of `schema`: one file per task."""
        return TaskFiles

    def count(self) -> int:
        """Rows in the directory's files, from their footers, once the tasks are done.

        Closes the directory (`close`), writes an empty file of the `writer`'s schema when
        no task wrote one (as Spark does, so that the sink stays readable), then the
        `_SUCCESS` file Spark's jobs leave.

        Raises
        ------
        SinkError
            If no `writer` was made: nothing says what the files hold.
        """
        files = self.writer_given()
        written = self.close()
        if not written:
            files.write_empty()
        rows = sum(pq.read_metadata(f).num_rows for f in written)
        Path(self.path, "_SUCCESS").touch()
        return rows

    def close(self) -> list[Path]:
        """Stop every task of this attempt from committing, remove the temporary files of
        tasks that died, and return the committed files (in folders below it too), sorted."""
        Path(self.path, ATTEMPT).unlink(missing_ok=True)  # no task commits from now on
        files = sorted(Path(self.path).rglob("*"))
        for leftover in (f for f in files if f.name.startswith(".")):
            leftover.unlink(missing_ok=True)
        return [f for f in files if f.suffix == ".parquet"]

    def writer_given(self) -> "TaskFiles":
        """What `writer` gave the tasks.

        Raises
        ------
        SinkError
            If no `writer` was made: nothing says what the files hold.
        """
        if self.files is None:
            msg = f"{self.path}: committed before any task was given a writer"
            raise SinkError(msg)
        return self.files


@dataclasses.dataclass(frozen=True)
class TaskFiles:
    """Writes one task's rows to `<directory>/part-<partition>.parquet` (executor side)."""

    directory: str
    options: FileOptions
    schema: pa.Schema
    """Arrow schema of the rows, with the Spark footer metadata."""
    attempt: str = ""
    """The batch attempt the files belong to (`BatchDirectory.attempt`)."""
    dictionary: tuple[str, ...] = ()
    """Top-level columns written dictionary-encoded (not `DISTINCT_VALUED`, not nested)."""

    def open(self, partition: int) -> "TaskFile":
        """Start the file of the task of `partition`; nothing is visible before `commit`."""
        return self.open_in(self.directory, partition)

    def open_in(self, folder: str, partition: int) -> "TaskFile":
        """Start the file of the task of `partition` in `folder` (the batch directory or one
        below it), committed only while the batch directory records this attempt."""
        final = os.path.join(folder, f"part-{partition:05d}.parquet")
        temporary = os.path.join(folder, f".part-{partition:05d}-{uuid.uuid4().hex}")
        return TaskFile(self._writer(temporary), temporary, final, self.is_current)

    def is_current(self) -> bool:
        """True while the directory's recorded attempt is this one."""
        try:
            return Path(self.directory, ATTEMPT).read_text() == self.attempt
        except FileNotFoundError:
            return False

    def write_empty(self) -> None:
        """Write a file of no rows (the schema only)."""
        with self.open(0) as file:
            file.commit(check=False)

    def _writer(self, path: str) -> pq.ParquetWriter:
        return pq.ParquetWriter(
            path,
            self.schema,
            compression=self.options.compression,
            use_dictionary=list(self.dictionary),
            use_deprecated_int96_timestamps=self.options.int96,
            coerce_timestamps=None if self.options.int96 else self.options.timestamp_unit,
            allow_truncated_timestamps=True,
            write_statistics=True,
        )


class TaskFile:
    """An open task file: `write` row groups, then `commit` renames it into place.

    Used as a context manager: leaving it without `commit` deletes the temporary file.
    """

    def __init__(
        self, writer: pq.ParquetWriter, temporary: str, final: str, current: Callable[[], bool]
    ) -> None:
        self._writer, self._temporary, self._final = writer, temporary, final
        self._current = current
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        """Append `batch` (of the file's schema) as a row group."""
        if batch.num_rows:
            self._writer.write_batch(batch)
            self.rows += batch.num_rows

    def commit(self, check: bool = True) -> None:
        """Close the file and make it visible under its final name (replacing an older one).

        Raises
        ------
        SinkError
            If `check` and the batch's directory belongs to another attempt now (this task
            outlived its job); the file is then dropped.
        """
        self._writer.close()
        if check and not self._current():
            msg = f"{self._final}: the batch was prepared again or counted; file dropped"
            raise SinkError(msg)
        os.replace(self._temporary, self._final)

    def __enter__(self) -> "TaskFile":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if os.path.exists(self._temporary):
            self._writer.close()
            os.unlink(self._temporary)


def _available(codec: str) -> bool:
    try:
        return pa.Codec.is_available(codec)
    except ValueError:  # a name pyarrow does not know
        return False


def file_schema(schema: T.StructType) -> pa.Schema:
    """The Arrow schema of the files of Spark `schema`: nullable, as Spark writes files."""
    nullable = T.StructType([T.StructField(f.name, _nullable(f.dataType)) for f in schema])
    metadata = {ROW_METADATA: nullable.json(), SPARK_VERSION: pyspark.__version__}
    return arrow_schema(nullable).with_metadata(metadata)


def _nullable(kind: T.DataType) -> T.DataType:
    if isinstance(kind, T.StructType):
        return T.StructType([T.StructField(f.name, _nullable(f.dataType)) for f in kind.fields])
    if isinstance(kind, T.ArrayType):
        return T.ArrayType(_nullable(kind.elementType), containsNull=True)
    if isinstance(kind, T.MapType):
        return T.MapType(kind.keyType, _nullable(kind.valueType), valueContainsNull=True)
    return kind
