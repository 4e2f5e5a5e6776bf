"""Pure offset logic of the Kafka source: no I/O, so every rule is unit-testable.

Offsets are `{(topic, partition): offset}` in memory and, in Spark's checkpoint, the JSON
shape of Spark's own Kafka source: `{"topic": {"0": 23, "1": 42}}`. Topics and partitions
are always sorted, so the same positions always give the same JSON (Spark compares offsets
by their JSON to decide whether a micro-batch has new data).
"""

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

from stream_scorer.errors import ConfigError
from stream_scorer.kafka.source_options import EARLIEST, LATEST, StartingOffsets, TopicPartition

Offsets = dict[TopicPartition, int]


@dataclass(frozen=True)
class OffsetRange:
    """Records `[start, until)` of one topic-partition: one Spark input partition."""

    topic: str
    partition: int
    start: int
    until: int

    @property
    def size(self) -> int:
        """Number of offsets in the range (records, when the partition has no gaps)."""
        return max(self.until - self.start, 0)


def to_json_dict(offsets: Mapping[TopicPartition, int]) -> dict[str, dict[str, int]]:
    """Return offsets in Spark's JSON shape, topics and partitions sorted."""
    out: dict[str, dict[str, int]] = {}
    for (topic, partition), offset in sorted(offsets.items()):
        out.setdefault(topic, {})[str(partition)] = int(offset)
    return out


def from_json_dict(data: Mapping[str, Mapping[str, int]]) -> Offsets:
    """Return in-memory offsets from Spark's JSON shape (as read back from the checkpoint)."""
    return {(t, int(p)): int(o) for t, parts in data.items() for p, o in parts.items()}


def resolve_starting(
    spec: StartingOffsets, earliest: Mapping[TopicPartition, int], latest: Offsets
) -> Offsets:
    """Return the numeric start of every partition in `earliest` / `latest` (same keys).

    Raises
    ------
    ConfigError
        If explicit offsets do not name exactly the subscribed partitions (as Spark requires).
    """
    if isinstance(spec, str):
        return dict(earliest if spec == "earliest" else latest)
    if set(spec) != set(earliest):
        msg = (
            "option 'startingOffsets' must name every subscribed partition, and only those "
            f"(-2 = earliest, -1 = latest): given {sorted(spec)}, subscribed {sorted(earliest)}"
        )
        raise ConfigError(msg)
    named = {EARLIEST: earliest, LATEST: latest}
    return {tp: named[o][tp] if o in named else o for tp, o in spec.items()}


def rate_limit(start: Offsets, latest: Offsets, budget: int) -> Offsets:
    """Return end offsets that admit at most `budget` records in total, spread by backlog.

    Each partition gets a share proportional to its backlog (`latest - start`), like Spark's
    KafkaMicroBatchStream.rateLimit; unlike Spark, rounding never exceeds the budget: shares
    are floored and the remainder goes to the largest fractions. When the budget allows, every
    partition with a backlog gets at least one record, so small partitions are not starved.
    Partitions without a start are returned at their latest offset.
    """
    backlog = {tp: latest[tp] - start[tp] for tp in latest if tp in start}
    backlog = {tp: size for tp, size in backlog.items() if size > 0}
    if sum(backlog.values()) <= budget:
        return dict(latest)
    base = dict.fromkeys(backlog, 1 if budget >= len(backlog) else 0)
    shares = _apportion(
        {tp: size - base[tp] for tp, size in backlog.items()}, budget - sum(base.values())
    )
    end = dict(latest)
    for tp in backlog:
        end[tp] = start[tp] + base[tp] + shares[tp]
    return end


def _apportion(weights: Mapping[TopicPartition, int], amount: int) -> dict[TopicPartition, int]:
    """Largest-remainder split of `amount` by `weights` (amount < sum of weights)."""
    total = sum(weights.values())
    exact = {tp: amount * w / total for tp, w in weights.items()}
    shares = {tp: math.floor(x) for tp, x in exact.items()}
    left = amount - sum(shares.values())
    for tp in sorted(exact, key=lambda tp: (shares[tp] - exact[tp], tp))[:left]:
        shares[tp] += 1
    return shares


def split_ranges(
    ranges: list[OffsetRange],
    min_partitions: int | None = None,
    max_records_per_partition: int | None = None,
) -> list[OffsetRange]:
    """Return the non-empty ranges, split into more input partitions when asked.

    Like Spark's KafkaOffsetRangeCalculator: ranges above `max_records_per_partition` are cut
    into equal parts first; then, if there are fewer than `min_partitions` ranges, ranges are
    cut further in proportion to their size. Ranges stay contiguous and cover every offset.
    """
    out = [r for r in ranges if r.size > 0]
    if max_records_per_partition:
        out = [p for r in out for p in _divide(r, math.ceil(r.size / max_records_per_partition))]
    if min_partitions and len(out) < min_partitions:
        total = sum(r.size for r in out)
        # floor(x + 0.5): Java's Math.round, as Spark rounds (Python's round() is to-even)
        shares = [max(math.floor(r.size / total * min_partitions + 0.5), 1) for r in out]
        out = [p for r, n in zip(out, shares, strict=True) for p in _divide(r, n)]
    return out


def _divide(r: OffsetRange, parts: int) -> list[OffsetRange]:
    parts = min(parts, r.size)
    cuts = [r.start + r.size * i // parts for i in range(parts + 1)]
    return [OffsetRange(r.topic, r.partition, a, b) for a, b in itertools.pairwise(cuts)]


@dataclass(frozen=True)
class DataLoss:
    """Records of one partition that can no longer be read, and where reading goes on."""

    topic: str
    partition: int
    expected: int
    """The offset the query would read next."""
    resume: int | None
    """Where reading continues with failOnDataLoss=false; None if the partition is gone."""
    reason: str

    def __str__(self) -> str:
        return (
            f"topic '{self.topic}' partition {self.partition}: {self.reason} "
            f"(next offset to read was {self.expected})"
        )


def find_data_loss(start: Offsets, earliest: Offsets, latest: Offsets) -> list[DataLoss]:
    """Return the partitions of `start` that cannot continue exactly where they stopped.

    Three cases, as in Spark: the partition is gone (topic deleted), its offsets went
    backwards (`latest < start`: topic recreated; resume at latest, never re-reading an offset
    already processed), or its records aged out (`earliest > start`; resume at earliest).
    """
    losses = []
    for (topic, partition), offset in sorted(start.items()):
        tp = (topic, partition)
        if tp not in latest:
            losses.append(DataLoss(topic, partition, offset, None, "the partition is gone"))
        elif latest[tp] < offset:
            why = f"offsets went backwards to {latest[tp]} (topic deleted and recreated?)"
            losses.append(DataLoss(topic, partition, offset, latest[tp], why))
        elif earliest[tp] > offset:
            why = f"records before offset {earliest[tp]} were deleted (retention?)"
            losses.append(DataLoss(topic, partition, offset, earliest[tp], why))
    return losses


def lost_new_partitions(earliest: Offsets) -> list[DataLoss]:
    """Return the newly discovered partitions whose first records are already gone."""
    return [
        DataLoss(t, p, 0, offset, f"new partition starts at offset {offset}, not 0")
        for (t, p), offset in sorted(earliest.items())
        if offset > 0
    ]
