"""Read the monitoring history (one Parquet file per batch) and the baselines beside it.

Only reads: the scorer writes the history (`monitoring/history.py`). Local paths and any URL
pyarrow opens (`s3://`, `hdfs://`) are read through pyarrow's file systems.
"""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
from pyarrow import fs

from stream_scorer.config import load_config
from stream_scorer.config.monitoring import duration_seconds
from stream_scorer.errors import ConfigError, HistoryError
from stream_scorer.monitoring.history import location_of, open_location

MAP_COLUMNS = (
    "dead_letter_reasons",
    "feature_psi",
    "feature_null_rate",
    "feature_out_of_range_rate",
    "feature_counts",
)


def history_location(config_path: str | Path) -> str:
    """Where the scorer of the config at `config_path` keeps its history (`location_of`)."""
    return location_of(load_config(config_path))


def parse_age(text: str) -> timedelta:
    """'24h', '30m', '7d', '90s', '2w' as a timedelta.

    Raises
    ------
    ConfigError
        If `text` is not a number followed by one of s, m, h, d, w.
    """
    try:
        return timedelta(seconds=duration_seconds(text))
    except ValueError:
        msg = f"--since: got {text!r}; expected a number and a unit s, m, h, d or w ('24h')"
        raise ConfigError(msg) from None


def read_history(location: str, since: timedelta | None = None) -> pd.DataFrame:
    """Every batch of the history at `location` (of the last `since` if given), oldest first.

    Map columns become dicts. A batch replayed under another model version left two files:
    the later one is kept.

    Raises
    ------
    HistoryError
        If the directory is missing, holds no batch file, or none in the last `since`;
        the message names the path.
    """
    filesystem, root = open_location(location)
    info = filesystem.get_file_info(root)
    if info.type != fs.FileType.Directory:
        msg = (
            f"no monitoring history at {location}: the scorer has not run with monitoring "
            "enabled, or `monitoring.history` names another directory"
        )
        raise HistoryError(msg)
    cutoff = datetime.now(timezone.utc) - since if since is not None else None
    paths = sorted(
        f.path
        for f in filesystem.get_file_info(fs.FileSelector(root))
        if f.base_name.startswith("batch-")
        and f.base_name.endswith(".parquet")
        and not _older(f, cutoff)
    )
    if not paths and cutoff is None:
        msg = f"the monitoring history at {location} is empty: no batch has been recorded yet"
        raise HistoryError(msg)
    if not paths:
        msg = f"the monitoring history at {location} has no batch in the last {since}"
        raise HistoryError(msg)
    frame = ds.dataset(paths, filesystem=filesystem, format="parquet").to_table().to_pandas()
    for column in MAP_COLUMNS:
        if column in frame:
            frame[column] = [dict(v) if v is not None else {} for v in frame[column]]
    frame = frame.sort_values("time").drop_duplicates("batch_id", keep="last")
    if cutoff is not None:
        frame = frame[frame["time"] >= cutoff]
    if frame.empty:
        msg = f"the monitoring history at {location} has no batch in the last {since}"
        raise HistoryError(msg)
    return frame.reset_index(drop=True)


def read_baseline(location: str, version: str) -> dict | None:
    """The baseline the scorer used for `version` (`<history>/baselines/<version>.json`), or
    None when it has none (no baseline yet, or `first_rows` still collecting)."""
    filesystem, root = open_location(location)
    try:
        with filesystem.open_input_stream(f"{root}/baselines/{version}.json") as stream:
            return json.loads(stream.read())
    except FileNotFoundError:
        return None


def _older(info: fs.FileInfo, cutoff: datetime | None) -> bool:
    """True for a batch file last written a day or more before `cutoff`: a file is written
    at its batch's end (or later, when replayed or copied), so it cannot hold a newer batch.
    The day covers clocks that differ between the scorer and the file system."""
    if cutoff is None or info.mtime is None:
        return False
    return info.mtime < cutoff - timedelta(days=1)
