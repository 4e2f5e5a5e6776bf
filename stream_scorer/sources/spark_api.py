"""What the installed pyspark offers the jar-free source, and the refusal of what it lacks.

| pyspark | Python streaming source | admission control (`maxOffsetsPerTrigger`) | availableNow |
| --- | --- | --- | --- |
| >= 4.2 | yes | Spark passes the read limit | the source's own, in budgeted batches |
| 4.0, 4.1 | yes | the source keeps its position itself | Spark's wrapper: one batch |
| 3.5 | no (`source.kind: spark-kafka` only) | | |

On 4.0 and 4.1 Spark calls `latestOffset()` without the start offset or a limit. The reader then
starts from the end of the batch it planned last, as PySpark's own simple-reader wrapper does
on those versions, so `maxOffsetsPerTrigger` still caps a batch. With `availableNow` Spark asks
once for the end of the whole run and plans one batch to it: a budget would end the run after
one budget, so that pair is refused there.
"""

from dataclasses import dataclass

import pyspark

from stream_scorer.config.settings import SourceConfig
from stream_scorer.errors import ConfigError


def version_tuple(text: str) -> tuple[int, int]:
    """Return (major, minor) of a version string: `4.1.4` -> (4, 1), `4.2.0.dev1` -> (4, 2)."""
    major, minor = text.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


PYSPARK_VERSION = pyspark.__version__
"""The installed pyspark's version, as it names itself."""
STREAM_SOURCE_SINCE = (4, 0)
"""The first pyspark with Python streaming data sources."""
STREAM_SOURCE = version_tuple(PYSPARK_VERSION) >= STREAM_SOURCE_SINCE
"""True where the installed pyspark has Python streaming data sources (`python-kafka`)."""
ADMISSION_CONTROL_SINCE = (4, 2)
"""The first pyspark that passes a Python stream reader its start offset and read limit, and
asks it to prepare for availableNow (`pyspark.sql.streaming.datasource`)."""
ADMISSION_CONTROL = version_tuple(PYSPARK_VERSION) >= ADMISSION_CONTROL_SINCE
"""True where the installed pyspark gives Python stream readers admission control."""

if ADMISSION_CONTROL:
    from pyspark.sql.streaming.datasource import (
        ReadAllAvailable,
        ReadLimit,
        ReadMaxRows,
        SupportsTriggerAvailableNow,
    )
else:  # stand-ins, never passed by Spark

    class ReadLimit:  # type: ignore[no-redef]
        """How much a micro-batch may read (pyspark >= 4.2 has its own)."""

    @dataclass
    class ReadAllAvailable(ReadLimit):  # type: ignore[no-redef]
        """Everything available."""

    @dataclass
    class ReadMaxRows(ReadLimit):  # type: ignore[no-redef]
        """At most `max_rows` records."""

        max_rows: int

    class SupportsTriggerAvailableNow:  # type: ignore[no-redef]
        """A plain base: before 4.2, Spark wraps a source for availableNow itself."""


def check_source_runs(
    source: SourceConfig, available_now: bool, version: str = PYSPARK_VERSION
) -> None:
    """Refuse, before Spark starts, a source that pyspark `version` cannot run as configured.

    Raises
    ------
    ConfigError
        `source.kind: python-kafka` on pyspark < 4.0; `maxOffsetsPerTrigger` with
        `availableNow` (or `run --once`) on pyspark < 4.2. The message names the key, the
        value, the pyspark version and what to do.
    """
    if source.kind != "python-kafka":
        return
    budget = source.parsed.max_offsets_per_trigger
    if version_tuple(version) < STREAM_SOURCE_SINCE:
        msg = (
            f"source.kind: python-kafka needs pyspark >= 4.0 (its Python streaming data "
            f"sources); pyspark {version} is installed: use source.kind: spark-kafka "
            "with Spark's spark-sql-kafka-0-10 jar, or install pyspark >= 4.0"
        )
        raise ConfigError(msg)
    if budget and available_now and version_tuple(version) < ADMISSION_CONTROL_SINCE:
        msg = (
            f"source.options.maxOffsetsPerTrigger: {budget} with trigger availableNow (or "
            f"run --once) needs pyspark >= 4.2; on pyspark {version} Spark plans an "
            "availableNow run as one batch and the budget would end it after one batch: "
            "remove maxOffsetsPerTrigger, use a processingTime trigger, or install "
            "pyspark >= 4.2"
        )
        raise ConfigError(msg)
