"""The `monitoring:` settings: drift against a baseline, per batch, and the batch history."""

import re
from typing import Literal

from pydantic import Field, field_validator

from stream_scorer.config.base import Settings
from stream_scorer.config.paths import Location

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
DURATION_EXAMPLES = "'30d', '12h', '90m', '2w'"


def duration_seconds(text: str) -> float:
    """Seconds of a duration such as '30d' (units s, m, h, d, w); ValueError otherwise."""
    match = _DURATION.match(text)
    if match is None:
        msg = f"a duration like {DURATION_EXAMPLES}, not {text!r}"
        raise ValueError(msg)
    return float(match.group(1)) * _SECONDS[match.group(2)]


class MonitoringConfig(Settings):
    """Model monitoring: per feature and for the prediction, the population stability index
    (PSI) against the version's baseline over the last `window` batches, null and
    out-of-range rates; one history row per batch."""

    enabled: bool = True
    """Measure drift and write the history (off: neither)."""
    baseline: Literal["publish", "first_rows"] = "publish"
    """Where a version's baseline comes from: `publish`, the one stored with it (`model
    publish --baseline DATA`, `model train`); `first_rows`, the first `first_rows` rows it
    scores when it has none stored (weaker: drift already present then goes unseen)."""
    first_rows: int = Field(default=10_000, ge=100)
    """Scored rows that make a version's baseline with `baseline: first_rows`."""
    window: int = Field(default=10, ge=1)
    """Batches whose counts each PSI and rate covers, so that a small batch raises no alarm."""
    psi_warn: float = Field(default=0.2, gt=0)
    """PSI above which a WARNING names the feature (or the prediction) and the value, at most
    once per window while it stays above; an INFO line when it falls back."""
    history: Location | None = None
    """Directory of the history table (one Parquet file per batch); default
    `<checkpoint>/history`."""
    retention: str = "30d"
    """How long history rows are kept, like '30d' or '12h' (units s, m, h, d, w)."""

    @field_validator("retention")
    @classmethod
    def _duration(cls, value: str) -> str:
        seconds = duration_seconds(value)
        if seconds <= 0:
            msg = f"a positive duration like {DURATION_EXAMPLES}"
            raise ValueError(msg)
        return value

    @property
    def retention_seconds(self) -> float:
        """`retention` in seconds."""
        return duration_seconds(self.retention)
