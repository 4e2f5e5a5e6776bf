"""Source lag from a progress event's Kafka offsets."""

from stream_scorer.metrics.lag import partition_lag


def test_lag_is_latest_minus_processed_per_partition():
    assert partition_lag('{"t": {"0": 10, "1": 4}}', '{"t": {"0": 25, "1": 4}}') == {
        "t/0": 15,
        "t/1": 0,
    }


def test_latest_offset_reported_as_none_text_gives_no_lag():
    assert partition_lag('{"t": {"0": 20}}', "None") == {}
