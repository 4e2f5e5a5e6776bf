"""A streaming checkpoint: Spark's offsets and commit logs, and the scorer's status file.

Spark resumes from the newest `offsets/N` and the newest `commits/N`. When one of them is
damaged, Spark fails with messages that do not name the file ("Unexpected end-of-input",
"assertion failed", "Concurrent update to the log"); a damaged older offsets file goes
unnoticed until Spark needs it. `Checkpoint.verify` refuses such a checkpoint before the
query starts, with an error that names the file and what to do. Nothing here resets or
repairs a checkpoint; the only file written is `scorer/status.json`.
"""

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from stream_scorer.errors import CheckpointError
from stream_scorer.files import Files, files_at

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from stream_scorer.sinks.base import Sink

VERSION_LINE = "v1"
STATUS_FILE = "scorer/status.json"
"""The last batch's metrics record, written by the running scorer, read by `status`."""
_REMEDY = (
    "restore it from a backup of the checkpoint, or point `checkpoint` at a new directory "
    "to start over from the source's startingOffsets (with new Parquet sink paths too: their "
    "commit markers count batch ids from the old checkpoint)"
)


class Checkpoint:
    """The checkpoint directory at `path` (a local path or a Hadoop URL), through `files`.

    Build one with `Checkpoint.at`: through the Hadoop FileSystem of `spark` when given,
    else locally for a local path (no JVM), else through the active SparkSession.
    """

    def __init__(self, path: str, files: Files) -> None:
        self.path = path
        self.files = files

    @classmethod
    def at(cls, path: str, spark: "SparkSession | None" = None) -> "Checkpoint":
        """The checkpoint at `path`, read through `spark` if given (see the class)."""
        return cls(path, files_at(path, spark))

    def exists(self) -> bool:
        """True if the checkpoint directory exists (it may hold no batch yet)."""
        return self.files.exists("")

    def batch_ids(self, log: str) -> list[int]:
        """The batch ids in Spark's `offsets` or `commits` log, ascending."""
        return sorted(int(name) for name in self.files.list(log) if name.isdigit())

    def last_committed(self) -> int | None:
        """The newest batch id in `commits/`, or None before the first commit."""
        commits = self.batch_ids("commits")
        return commits[-1] if commits else None

    def source_offsets(self, batch_id: int) -> list[dict | None]:
        """The end offsets of batch `batch_id`, one per source (None: no offset yet)."""
        lines = self.files.read(f"offsets/{batch_id}").splitlines()
        return [None if line == "-" else json.loads(line) for line in lines[2:] if line.strip()]

    def source_topics(self) -> set[str]:
        """The topics of the newest `offsets/N` entry; empty before the first batch is planned."""
        batches = self.batch_ids("offsets")
        if not batches:
            return set()
        return {
            topic for offsets in self.source_offsets(batches[-1]) if offsets for topic in offsets
        }

    def is_new(self) -> bool:
        """True if no batch has been planned yet (a replay pending is not new)."""
        return not (self.files.exists("metadata") and self.batch_ids("offsets"))

    def read_status(self) -> dict | None:
        """The record `write_status` last wrote, or None if there is none."""
        if not self.files.exists(STATUS_FILE):
            return None
        return json.loads(self.files.read(STATUS_FILE))

    def write_status(self, record: dict) -> None:
        """Replace the status file with `record`; called after each batch, on the driver."""
        self.files.write_atomically(STATUS_FILE, json.dumps(record, indent=2, sort_keys=True))

    def verify(self) -> None:
        """Refuse to resume from a damaged checkpoint; a missing or new one passes.

        Checked when `metadata` exists: every `offsets/N` file reads and parses (first line
        `v1`, then JSON lines), `offsets/` has files when `commits/` has, and the newest
        commit has its offsets file.

        Raises
        ------
        CheckpointError
            Naming the damaged file or directory and how to recover.
        """
        if not self.files.exists("metadata"):
            return
        offsets, commits = self.batch_ids("offsets"), self.batch_ids("commits")
        for batch_id in offsets:
            name = f"offsets/{batch_id}"
            try:
                problem = offsets_problem(self.files.read(name))
            except OSError as exc:
                problem = f"cannot be read: {exc}"
            if problem:
                self._refuse(name, f"is damaged ({problem})")
        if commits and not offsets:
            self._refuse(
                "offsets", f"is missing or empty while commits/ records batch {commits[-1]}"
            )
        if commits and commits[-1] not in offsets:
            self._refuse(f"offsets/{commits[-1]}", "is missing: the newest commit has no offsets")

    def refuse_reused_sinks(self, sinks: Sequence["Sink"]) -> None:
        """Refuse a new checkpoint whose sinks already hold committed batches.

        Sink markers count batch ids; a new checkpoint restarts at batch 0, so its batches
        would be taken for replays and skipped: silent loss.

        Raises
        ------
        CheckpointError
            Naming the sink and its committed batches.
        """
        if not self.is_new():
            return
        for sink in sinks:
            done = sink.committed_batches()
            if done:
                msg = (
                    f"checkpoint {self.path} is new but sink {sink.describe()} already holds "
                    f"committed batches {done[0]}..{done[-1]} of an earlier checkpoint; its "
                    "batches 0.. would be skipped as replays. Point the sink at a new path, "
                    "or restore the checkpoint that wrote it."
                )
                raise CheckpointError(msg)

    def _refuse(self, name: str, what: str) -> None:
        msg = f"checkpoint {self.path}: {name} {what}; refusing to start. To recover, {_REMEDY}"
        raise CheckpointError(msg)


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
