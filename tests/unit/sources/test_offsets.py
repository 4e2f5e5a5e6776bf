"""Pure offset logic of the Kafka source: JSON shape, startingOffsets, rate limit, splits, loss."""

import json

import pytest

from stream_scorer.errors import ConfigError
from stream_scorer.kafka.source_options import EARLIEST, LATEST
from stream_scorer.sources.offsets import (
    OffsetRange,
    find_data_loss,
    from_json_dict,
    lost_new_partitions,
    rate_limit,
    resolve_starting,
    split_ranges,
    to_json_dict,
)

A0, A1, A2, B0 = ("a", 0), ("a", 1), ("a", 2), ("b", 0)


def test_json_dict_has_sparks_shape_sorted():
    offsets = {B0: 7, A1: 5, A0: 3}
    assert json.dumps(to_json_dict(offsets)) == '{"a": {"0": 3, "1": 5}, "b": {"0": 7}}'


def test_json_dict_round_trips_through_json():
    offsets = {A0: 3, A1: 0, B0: 12}
    assert from_json_dict(json.loads(json.dumps(to_json_dict(offsets)))) == offsets


def test_partition_10_sorts_numerically_after_2():
    assert list(to_json_dict({("a", 10): 1, ("a", 2): 1})["a"]) == ["2", "10"]


def test_resolve_starting_keywords_pick_earliest_or_latest():
    earliest, latest = {A0: 2, A1: 0}, {A0: 9, A1: 4}
    assert resolve_starting("earliest", earliest, latest) == earliest
    assert resolve_starting("latest", earliest, latest) == latest


def test_resolve_starting_json_replaces_markers():
    spec = {A0: EARLIEST, A1: LATEST, A2: 5}
    resolved = resolve_starting(spec, {A0: 2, A1: 0, A2: 0}, {A0: 9, A1: 4, A2: 8})
    assert resolved == {A0: 2, A1: 4, A2: 5}


def test_resolve_starting_json_must_name_every_partition():
    with pytest.raises(ConfigError, match="must name every subscribed partition"):
        resolve_starting({A0: 1}, {A0: 0, A1: 0}, {A0: 5, A1: 5})


def test_rate_limit_returns_latest_when_backlog_fits():
    assert rate_limit({A0: 0, A1: 0}, {A0: 5, A1: 3}, 10) == {A0: 5, A1: 3}


def test_rate_limit_never_exceeds_budget_and_follows_backlog():
    start, latest = {A0: 0, A1: 0, A2: 0}, {A0: 61, A1: 23, A2: 5}
    end = rate_limit(start, latest, 10)
    sizes = {tp: end[tp] - start[tp] for tp in start}
    assert sum(sizes.values()) == 10
    assert sizes == {A0: 6, A1: 3, A2: 1}


def test_rate_limit_gives_small_partitions_one_record_when_budget_allows():
    end = rate_limit({A0: 0, A1: 0}, {A0: 1000, A1: 1}, 3)
    assert end == {A0: 2, A1: 1}


def test_rate_limit_below_partition_count_stays_within_budget():
    end = rate_limit({A0: 0, A1: 0, A2: 0}, {A0: 50, A1: 30, A2: 20}, 2)
    assert end == {A0: 1, A1: 1, A2: 0}


def test_rate_limit_never_passes_latest():
    start, latest = {A0: 10, A1: 0}, {A0: 11, A1: 100}
    for budget in range(1, 101):
        end = rate_limit(start, latest, budget)
        assert all(start[tp] <= end[tp] <= latest[tp] for tp in start)
        assert sum(end[tp] - start[tp] for tp in start) == budget


def test_rate_limit_keeps_partitions_without_backlog_at_latest():
    assert rate_limit({A0: 4, A1: 0}, {A0: 4, A1: 50}, 7) == {A0: 4, A1: 7}


def test_split_drops_empty_ranges():
    ranges = [OffsetRange("a", 0, 5, 5), OffsetRange("a", 1, 0, 3)]
    assert split_ranges(ranges) == [OffsetRange("a", 1, 0, 3)]


def test_split_by_max_records_per_partition_covers_every_offset():
    parts = split_ranges([OffsetRange("a", 0, 10, 35)], max_records_per_partition=10)
    assert parts == [
        OffsetRange("a", 0, 10, 18),
        OffsetRange("a", 0, 18, 26),
        OffsetRange("a", 0, 26, 35),
    ]


def test_split_to_min_partitions_in_proportion_to_size():
    ranges = [OffsetRange("a", 0, 0, 90), OffsetRange("a", 1, 0, 10)]
    parts = split_ranges(ranges, min_partitions=5)
    assert [(p.partition, p.size) for p in parts] == [(0, 18)] * 5 + [(1, 10)]


def test_split_never_makes_empty_ranges():
    parts = split_ranges([OffsetRange("a", 0, 0, 2)], min_partitions=8)
    assert parts == [OffsetRange("a", 0, 0, 1), OffsetRange("a", 0, 1, 2)]


def test_no_data_loss_when_start_is_within_the_log():
    assert find_data_loss({A0: 5}, {A0: 0}, {A0: 9}) == []


def test_offsets_going_backwards_resume_at_latest():
    (loss,) = find_data_loss({A0: 30}, {A0: 0}, {A0: 4})
    assert (loss.topic, loss.partition, loss.expected, loss.resume) == ("a", 0, 30, 4)
    assert "went backwards" in str(loss)


def test_aged_out_records_resume_at_earliest():
    (loss,) = find_data_loss({A0: 3}, {A0: 10}, {A0: 20})
    assert (loss.expected, loss.resume) == (3, 10)


def test_gone_partition_has_no_resume_offset():
    (loss,) = find_data_loss({A0: 3, A1: 1}, {A0: 0}, {A0: 5})
    assert (loss.partition, loss.resume) == (1, None)


def test_new_partition_not_starting_at_zero_is_a_loss():
    (loss,) = lost_new_partitions({A0: 0, A1: 7})
    assert (loss.partition, loss.expected, loss.resume) == (1, 0, 7)
