"""The history reader: where the history is, its rows by the contract's schema, `--since`."""

from datetime import datetime, timedelta, timezone

import pytest
import yaml

from stream_scorer.errors import ConfigError, HistoryError
from stream_scorer.monitoring.history_read import (
    history_location,
    parse_age,
    read_baseline,
    read_history,
)
from tests.monitoring_helpers import REASONS, history_rows, write_batch, write_history


def test_history_defaults_to_the_checkpoints_history_folder(tmp_path, config_file):
    assert history_location(config_file) == str(tmp_path / "checkpoint" / "history")


def test_a_relative_monitoring_history_is_relative_to_the_config_file(tmp_path, config_file):
    raw = yaml.safe_load(config_file.read_text())
    config_file.write_text(yaml.safe_dump({**raw, "monitoring": {"history": "hist"}}))

    assert history_location(config_file) == str(tmp_path / "hist")


def test_rows_come_oldest_first_with_maps_as_dicts(history):
    frame = read_history(str(history))

    assert list(frame["batch_id"]) == list(range(300))
    assert frame["time"].is_monotonic_increasing
    first = frame.iloc[0]
    assert set(first["dead_letter_reasons"]) <= set(REASONS)
    assert sum(first["dead_letter_reasons"].values()) == first["dead_letters"]
    assert set(first["feature_psi"]) == {"f0", "f1", "f2", "f3", "country"}
    assert len(first["feature_counts"]["f0"]) == 10
    assert sorted(frame["model_version"].unique()) == ["v0001", "v0002"]


def test_a_batch_replayed_under_another_version_keeps_the_later_file(tmp_path):
    early, late = history_rows(2)
    write_batch(tmp_path, early)
    write_batch(tmp_path, {**late, "batch_id": 0, "model_version": "v0009"})

    frame = read_history(str(tmp_path))

    assert list(frame["model_version"]) == ["v0009"]


def test_since_keeps_only_the_batches_of_that_last_span(tmp_path):
    end = datetime.now(timezone.utc) - timedelta(seconds=30)
    for row in history_rows(30, end=end, step=timedelta(minutes=1)):
        write_batch(tmp_path, row)

    frame = read_history(str(tmp_path), since=timedelta(minutes=10))

    assert list(frame["batch_id"]) == list(range(20, 30))


def test_a_missing_history_is_refused_naming_its_path(tmp_path):
    with pytest.raises(HistoryError, match=f"^no monitoring history at {tmp_path / 'none'}:"):
        read_history(str(tmp_path / "none"))


def test_an_empty_history_is_refused_naming_its_path(tmp_path):
    (tmp_path / "baselines").mkdir()
    with pytest.raises(HistoryError, match=f"^the monitoring history at {tmp_path} is empty"):
        read_history(str(tmp_path))


def test_a_history_with_nothing_recent_says_so(tmp_path):
    end = datetime.now(timezone.utc) - timedelta(days=3)
    write_history(tmp_path, 5, end=end)
    with pytest.raises(HistoryError, match=r"has no batch in the last 1 day, 0:00:00$"):
        read_history(str(tmp_path), since=timedelta(days=1))


def test_baselines_are_read_per_version_and_none_where_absent(history):
    assert read_baseline(str(history), "v0002")["features"]["country"]["kind"] == "categorical"
    assert read_baseline(str(history), "v0042") is None


@pytest.mark.parametrize(
    ("text", "seconds"), [("24h", 86400), ("30m", 1800), ("7d", 604800), ("1.5h", 5400)]
)
def test_ages_read_as_a_number_and_a_unit(text, seconds):
    assert parse_age(text) == timedelta(seconds=seconds)


def test_an_age_without_a_unit_is_refused():
    with pytest.raises(ConfigError, match=r"^--since: got '24'; expected a number and a unit"):
        parse_age("24")
