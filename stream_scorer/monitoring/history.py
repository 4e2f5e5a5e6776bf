"""The history table: one Parquet file per batch under one directory, kept for a retention.

Files are named `batch-<batch_id:012d>-<model_version>.parquet` (a replayed batch
overwrites its own file, written to a temporary name and renamed), with `SCHEMA`'s columns
(the monitoring contract). `sweep` deletes the files whose `time` is older than the
retention. `baselines/<model_version>.json` holds the baseline each version is compared with.
The directory is a local path or a URL pyarrow's file systems open (`file:`, `hdfs://`,
`s3://`).
"""

import datetime
import logging
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from stream_scorer.config.paths import has_scheme
from stream_scorer.config.settings import ScorerConfig
from stream_scorer.files import join

log = logging.getLogger(__name__)

_COUNTS = pa.map_(pa.string(), pa.float64())
SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC")),
        pa.field("batch_id", pa.int64()),
        pa.field("rows", pa.int64()),
        pa.field("scored", pa.int64()),
        pa.field("dead_letters", pa.int64()),
        pa.field("dead_letter_reasons", pa.map_(pa.string(), pa.int64())),
        pa.field("model_version", pa.string()),
        pa.field("reloads", pa.int64()),
        pa.field("refusals", pa.int64()),
        pa.field("fallbacks", pa.int64()),
        pa.field("duration_ms", pa.float64()),
        pa.field("records_per_second", pa.float64()),
        pa.field("lag", pa.int64(), nullable=True),
        pa.field("prediction_psi", pa.float64(), nullable=True),
        pa.field("feature_psi", _COUNTS),
        pa.field("feature_null_rate", _COUNTS),
        pa.field("feature_out_of_range_rate", _COUNTS),
        pa.field("feature_counts", pa.map_(pa.string(), pa.list_(pa.int64()))),
    ]
)
"""The columns of a history row (the monitoring contract)."""

BASELINES = "baselines"
SWEEP_EVERY_S = 60.0
"""Seconds between two retention sweeps."""


def location_of(config: ScorerConfig) -> str:
    """Where a scorer of `config` keeps its history: `monitoring.history`, else
    `<checkpoint>/history`."""
    return config.monitoring.history or join(config.checkpoint, "history")


def open_location(location: str) -> tuple[pafs.FileSystem, str]:
    """pyarrow's file system of `location` (a local path or a URL) and the path in it."""
    if has_scheme(location):
        return pafs.FileSystem.from_uri(location)
    return pafs.LocalFileSystem(), str(Path(location).absolute())


def file_name(batch_id: int, model_version: str) -> str:
    """The file of a batch's row."""
    return f"batch-{batch_id:012d}-{model_version}.parquet"


class History:
    """The history directory at `location`; rows older than `retention_s` are swept."""

    def __init__(self, location: str, retention_s: float) -> None:
        self.location = location
        self.retention_s = retention_s
        self.fs, self.root = open_location(location)
        self.fs.create_dir(self.root, recursive=True)
        self._swept = 0.0

    def _path(self, *names: str) -> str:
        return "/".join([self.root.rstrip("/"), *names])

    def write(self, row: Mapping[str, object]) -> None:
        """Write one batch's row (keys: `SCHEMA`'s names), replacing an earlier one of the
        same batch and version; then sweep if the last sweep is a minute old."""
        table = pa.Table.from_pylist([dict(row)], schema=SCHEMA)
        name = file_name(int(row["batch_id"]), str(row["model_version"]))  # type: ignore[call-overload]
        temporary = self._path(f".{name}.{uuid.uuid4().hex}")
        with self.fs.open_output_stream(temporary) as out:
            pq.write_table(table, out)
        self.fs.move(temporary, self._path(name))
        if time.monotonic() - self._swept >= SWEEP_EVERY_S:
            self.sweep()

    def sweep(self, now: datetime.datetime | None = None) -> int:
        """Delete the batch files whose `time` is older than the retention; return how many.
        Files modified since the cutoff are not opened."""
        self._swept = time.monotonic()
        now = now or datetime.datetime.now(datetime.timezone.utc)
        cutoff = now - datetime.timedelta(seconds=self.retention_s)
        selector = pafs.FileSelector(self.root, allow_not_found=True)
        deleted = 0
        for info in self.fs.get_file_info(selector):
            if not (info.base_name.startswith("batch-") and info.base_name.endswith(".parquet")):
                continue
            if info.mtime is not None and info.mtime > cutoff:
                continue
            try:
                times = pq.read_table(info.path, columns=["time"], filesystem=self.fs)
            except (OSError, pa.ArrowInvalid) as exc:
                log.warning("history: cannot read %s: %s", info.path, exc)
                continue
            stamp = times.column("time")[0].as_py() if times.num_rows else None
            if stamp is None or stamp < cutoff:
                self.fs.delete_file(info.path)
                deleted += 1
        return deleted

    def write_baseline(self, version: str, text: str) -> None:
        """Keep the baseline `version` is compared with (for the report)."""
        self.fs.create_dir(self._path(BASELINES), recursive=True)
        temporary = self._path(BASELINES, f".{version}.{uuid.uuid4().hex}")
        with self.fs.open_output_stream(temporary) as out:
            out.write(text.encode())
        self.fs.move(temporary, self._path(BASELINES, f"{version}.json"))

    def read_baseline(self, version: str) -> str | None:
        """The baseline kept for `version`, or None."""
        path = self._path(BASELINES, f"{version}.json")
        if self.fs.get_file_info(path).type == pafs.FileType.NotFound:
            return None
        with self.fs.open_input_stream(path) as stream:
            return stream.read().decode()
