"""Checks a streaming checkpoint before the query resumes from it, so damage stops the start.

Spark resumes from the newest `offsets/N` and the newest `commits/N`. When one of them is
damaged, Spark fails with messages that do not name the file ("Unexpected end-of-input",
"assertion failed", "Concurrent update to the log"); a damaged older offsets file goes
unnoticed until Spark needs it. `verify_checkpoint` refuses such a checkpoint before the
query starts, with an error that names the file and what to do. It never resets anything.
"""

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlparse

from stream_scorer.errors import ScorerError
from stream_scorer.sinks.base import Sink

VERSION_LINE = "v1"
_REMEDY = (
    "restore it from a backup of the checkpoint, or point `checkpoint` at a new directory "
    "to start over from the source's startingOffsets (with new Parquet sink paths too: their "
    "commit markers count batch ids from the old checkpoint)"
)


def verify_checkpoint(path: str) -> None:
    """Refuse to resume from a damaged checkpoint; a missing or new one passes.

    Checked when `<path>/metadata` exists: every `offsets/N` file parses (first line `v1`,
    then JSON lines), `offsets/` has files when `commits/` has, and the newest commit has
    its offsets file. Local paths are read directly; URLs (hdfs://, s3a://...) through the
    Hadoop FileSystem of the active SparkSession.

    Raises
    ------
    ScorerError
        Naming the damaged file or directory and how to recover.
    """
    files = _files(path)
    if not files.exists("metadata"):
        return
    offsets, commits = _batch_ids(files, "offsets"), _batch_ids(files, "commits")
    for batch_id in offsets:
        name = f"offsets/{batch_id}"
        problem = offsets_problem(files.read(name))
        if problem:
            _refuse(path, name, f"is damaged ({problem})")
    if commits and not offsets:
        _refuse(path, "offsets", f"is missing or empty while commits/ records batch {commits[-1]}")
    if commits and commits[-1] not in offsets:
        _refuse(path, f"offsets/{commits[-1]}", "is missing: the newest commit has no offsets")


def is_new_checkpoint(path: str) -> bool:
    """True if the checkpoint at `path` has planned no batch yet (a replay pending is not new)."""
    files = _files(path)
    return not (files.exists("metadata") and _batch_ids(files, "offsets"))


def refuse_reused_sinks(path: str, sinks: Sequence[Sink]) -> None:
    """Refuse a new checkpoint whose sinks already hold committed batches.

    Sink markers count batch ids; a new checkpoint restarts at batch 0, so its batches would
    be taken for replays and skipped: silent loss. Raises ScorerError naming the sink.
    """
    if not is_new_checkpoint(path):
        return
    for sink in sinks:
        done = sink.committed_batches()
        if done:
            msg = (
                f"checkpoint {path} is new but sink {sink.describe()} already holds committed "
                f"batches {done[0]}..{done[-1]} of an earlier checkpoint; its batches 0.. "
                "would be skipped as replays. Point the sink at a new path, or restore the "
                "checkpoint that wrote it."
            )
            raise ScorerError(msg)


def offsets_problem(text: str) -> str | None:
    """What is wrong with the text of an `offsets/N` file, or None if it parses."""
    lines = text.split("\n")
    if lines[0] != VERSION_LINE:
        return f"first line is {lines[0][:20]!r}, expected {VERSION_LINE!r}"
    body = [line for line in lines[1:] if line]
    if len(body) < 2:
        return "no batch metadata or source offsets after the version line"
    for number, line in enumerate(body, start=2):
        if line == "-":  # a source with no offset yet
            continue
        try:
            json.loads(line)
        except ValueError as exc:
            return f"line {number} is not JSON: {exc}"
    return None


def _refuse(path: str, name: str, what: str) -> None:
    msg = f"checkpoint {path}: {name} {what}; refusing to start. To recover, {_REMEDY}"
    raise ScorerError(msg)


def _batch_ids(files: "_Files", folder: str) -> list[int]:
    return sorted(int(name) for name in files.list(folder) if name.isdigit())


class _Files:
    """Read access to the checkpoint directory: `exists`, `list`, `read` (relative names)."""

    def __init__(
        self,
        exists: Callable[[str], bool],
        listing: Callable[[str], list[str]],
        read: Callable[[str], str],
    ) -> None:
        self.exists, self.list, self.read = exists, listing, read


def _files(path: str) -> _Files:
    scheme = urlparse(path).scheme
    if scheme in ("", "file"):
        root = Path(urlparse(path).path if scheme else path)

        def listing(name: str) -> list[str]:
            folder = root / name
            return [p.name for p in folder.iterdir()] if folder.is_dir() else []

        return _Files(
            lambda name: (root / name).exists(),
            listing,
            lambda name: (root / name).read_text(errors="replace"),
        )
    return _hadoop_files(path)


def _hadoop_files(path: str) -> _Files:
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        msg = f"checkpoint {path}: checking a Hadoop URL needs an active SparkSession"
        raise ScorerError(msg)
    jvm = spark._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path
    root = hadoop_path(path)
    fs = root.getFileSystem(spark._jsc.hadoopConfiguration())

    def listing(name: str) -> list[str]:
        folder = hadoop_path(root, name)
        return [s.getPath().getName() for s in fs.listStatus(folder)] if fs.exists(folder) else []

    def read(name: str) -> str:
        stream = fs.open(hadoop_path(root, name))
        try:
            return jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
        finally:
            stream.close()

    return _Files(lambda name: bool(fs.exists(hadoop_path(root, name))), listing, read)
